import ATData
import Foundation
import Testing
import TestSupport

/// The `data-model/*` interop fixtures.
@Suite("Data model interop fixtures")
struct DataModelFixtureTests {
    struct Row: Decodable, Sendable {
        let json: RawJSON
        let cbor_base64: String
        let cid: String
    }

    struct Note: Decodable, Sendable {
        let note: String
        let json: RawJSON
    }

    static let rows: [Row] = (try? Fixtures.rows([Row].self, "data-model/data-model-fixtures.json")) ?? []
    static let valid: [Note] = (try? Fixtures.rows([Note].self, "data-model/data-model-valid.json")) ?? []
    static let invalid: [Note] = (try? Fixtures.rows([Note].self, "data-model/data-model-invalid.json")) ?? []

    static func base64(_ s: String) -> [UInt8] {
        Array(Data(base64Encoded: s + String(repeating: "=", count: (4 - s.count % 4) % 4))!)
    }

    @Test func fixturesLoaded() {
        #expect(Self.rows.count == 3)
        #expect(Self.valid.count >= 5)
        #expect(Self.invalid.count >= 12)
    }

    @Test(arguments: 0..<3)
    func jsonEncodesToTheFixtureBytesAndCID(_ index: Int) throws {
        let row = Self.rows[index]
        let value = try DataValue(json: row.json.data)
        let (cid, bytes) = DAGCBOR.encodeWithCID(value)
        #expect(bytes == Self.base64(row.cbor_base64))
        #expect(cid.description == row.cid)
    }

    @Test(arguments: 0..<3)
    func fixtureBytesDecodeAndRoundTrip(_ index: Int) throws {
        let row = Self.rows[index]
        let bytes = Self.base64(row.cbor_base64)
        let decoded = try DAGCBOR.decode(bytes)
        #expect(DAGCBOR.encode(decoded) == bytes)
        #expect(decoded == (try DataValue(json: row.json.data)))
        // And through the JSON form again.
        #expect(try DataValue(json: decoded.jsonData()) == decoded)
    }

    @Test(arguments: 0..<5)
    func validDocumentsAreAccepted(_ index: Int) throws {
        let note = Self.valid[index]
        let value = try DataValue(json: note.json.data)
        #expect(try DAGCBOR.decode(DAGCBOR.encode(value)) == value)
    }

    @Test(arguments: 0..<12)
    func invalidDocumentsAreRejected(_ index: Int) {
        let note = Self.invalid[index]
        #expect(throws: DataError.self, "\(note.note)") { try DataValue(json: note.json.data) }
    }
}

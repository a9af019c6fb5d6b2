import ATData
import Foundation
import Testing
import TestSupport

/// Replays the fuzzers' seeds (and any crash inputs added to them) through the
/// fuzz targets' checks, so that a fixed crash stays fixed.
@Suite("Fuzz seeds")
struct FuzzSeedTests {
    static let seeds = Fixtures.packageRoot.appendingPathComponent("Fuzz/seeds")

    static func files(_ folder: String) -> [String] {
        let url = seeds.appendingPathComponent(folder)
        return ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted().map { url.appendingPathComponent($0).path }
    }

    @Test func seedsArePresent() {
        #expect(Self.files("cbor").count >= 4)
        #expect(Self.files("car").count >= 2)
        #expect(Self.files("xrpc").count >= 4)
    }

    @Test(arguments: files("cbor"))
    func cborSeedRoundTripsOrFailsTyped(_ path: String) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        if let value = try? DAGCBOR.decode(bytes) {
            #expect(DAGCBOR.encode(value) == bytes)
        }
    }

    @Test(arguments: files("car"))
    func carSeedReads(_ path: String) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let reader = try CARReader(bytes)
        for block in try reader.blocks() where block.cid.codec == .dagCBOR {
            _ = try DAGCBOR.decode(block.data)
        }
    }

    /// The JSON body of a `FuzzXRPC` seed (after its first zero byte) parses,
    /// unless the seed is a crash input, and re-encodes to JSON and DAG-CBOR
    /// that give back the same value. (The query part needs Hummingbird, so
    /// only the fuzz target replays it.)
    @Test(arguments: files("xrpc"))
    func xrpcSeedBodyRoundTrips(_ path: String) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let body = bytes.firstIndex(of: 0).map { bytes[($0 + 1)...] } ?? bytes[...]
        let parsed = Result { () throws(DataError) in try DataValue(json: Data(body)) }
        guard case .success(let value) = parsed else {
            #expect(URL(fileURLWithPath: path).lastPathComponent.hasPrefix("crash"), "the seed's body does not parse")
            return
        }
        #expect(try DataValue(json: value.jsonData()) == value)
        #expect(try DAGCBOR.decode(DAGCBOR.encode(value)) == value)
    }
}

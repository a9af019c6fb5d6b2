import ATData
import ATLexicon
import ATSyntax
import Foundation
import Testing
import TestSupport

/// The `lexicon/*` interop fixtures.
@Suite("Lexicon interop fixtures")
struct LexiconFixtureTests {
    struct DocumentRow: Decodable, Sendable {
        let name: String
        let lexicon: RawJSON
    }

    struct RecordRow: Decodable, Sendable {
        let name: String
        let rkey: String
        let data: RawJSON
    }

    static let valid = (try? Fixtures.rows([DocumentRow].self, "lexicon/lexicon-valid.json")) ?? []
    static let invalid = (try? Fixtures.rows([DocumentRow].self, "lexicon/lexicon-invalid.json")) ?? []
    static let validRecords = (try? Fixtures.rows([RecordRow].self, "lexicon/record-data-valid.json")) ?? []
    static let invalidRecords = (try? Fixtures.rows([RecordRow].self, "lexicon/record-data-invalid.json")) ?? []

    static let catalog: LexiconCatalog = {
        var catalog = LexiconCatalog()
        let dir = Fixtures.directory.appendingPathComponent("lexicon/catalog")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] where name.hasSuffix(".json") {
            if let data = try? Data(contentsOf: dir.appendingPathComponent(name)), let doc = try? LexiconDocument(json: data) {
                catalog.add(doc)
            }
        }
        return catalog
    }()

    @Test func fixturesLoaded() {
        #expect(Self.valid.count == 3)
        #expect(Self.invalid.count == 7)
        #expect(Self.validRecords.count == 3)
        #expect(Self.invalidRecords.count == 50)
        #expect(Self.catalog.documents.count == 5)
    }

    @Test(arguments: 0..<3)
    func validDocument(_ index: Int) throws {
        _ = try LexiconDocument(json: Self.valid[index].lexicon.data)
    }

    @Test(arguments: 0..<7)
    func invalidDocument(_ index: Int) {
        let row = Self.invalid[index]
        #expect(throws: LexiconError.self, "\(row.name)") { try LexiconDocument(json: row.lexicon.data) }
    }

    @Test(arguments: 0..<3)
    func validRecord(_ index: Int) throws {
        let row = Self.validRecords[index]
        let value = try DataValue(json: row.data.data)
        try Self.catalog.validate(record: value, collection: try NSID("example.lexicon.record"))
    }

    @Test(arguments: 0..<50)
    func invalidRecord(_ index: Int) {
        let row = Self.invalidRecords[index]
        do {
            let value = try DataValue(json: row.data.data)
            try Self.catalog.validate(record: value, collection: try NSID("example.lexicon.record"))
            Issue.record("accepted: \(row.name)")
        } catch {
            // Rejected by the data model or by the schema; either way a typed error,
            // and never because the schema itself could not be found.
            #expect(error is LexiconError || error is DataError, "\(row.name): \(error)")
            #expect((error as? LexiconError)?.code != .unknownSchema, "\(row.name): \(error)")
        }
    }
}

extension LexiconFixtureTests {
    @Test(arguments: [#"true"#, #"{"$bytes":"AAAA"}"#, #"{"$type":"blob","ref":{"$link":"bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq"},"mimeType":"text/plain","size":1}"#])
    func unknownMustBeAnObject(_ json: String) throws {
        let record = try DataValue(jsonString: #"{"$type":"example.lexicon.record","integer":1,"unknown":\#(json)}"#)
        do {
            try Self.catalog.validate(record: record, collection: try NSID("example.lexicon.record"))
            Issue.record("accepted unknown: \(json)")
        } catch let error as LexiconError {
            #expect(error.code == .wrongType)
            #expect(error.path == "$.unknown")
        }
    }
}

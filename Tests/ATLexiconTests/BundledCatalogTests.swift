import ATData
import ATLexicon
import ATSyntax
import Foundation
import Testing

@Suite("Bundled lexicons")
struct BundledCatalogTests {
    static let catalog = try? LexiconCatalog.bundled()

    @Test func everyBundledLexiconParses() throws {
        let catalog = try #require(Self.catalog)
        #expect(catalog.documents.count >= 100)
        for id in ["com.atproto.repo.putRecord", "com.atproto.sync.getRepo", "com.atproto.sync.listBlobs",
                   "com.atproto.sync.notifyOfUpdate", "app.bsky.feed.post", "app.bsky.actor.profile"] {
            #expect(catalog.documents[id] != nil, "\(id)")
        }
    }

    @Test func realPostsValidate() throws {
        let catalog = try #require(Self.catalog)
        let post = try NSID("app.bsky.feed.post")
        let good = try DataValue(jsonString: #"{"$type":"app.bsky.feed.post","text":"hello","createdAt":"2024-01-01T00:00:00.000Z","langs":["en"]}"#)
        try catalog.validate(record: good, collection: post)

        let reply = try DataValue(jsonString: """
            {"$type":"app.bsky.feed.post","text":"re","createdAt":"2024-01-01T00:00:00.000Z",
             "reply":{"root":{"uri":"at://did:plc:abc/app.bsky.feed.post/3k","cid":"bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a"},
                      "parent":{"uri":"at://did:plc:abc/app.bsky.feed.post/3k","cid":"bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a"}}}
            """)
        try catalog.validate(record: reply, collection: post)

        let cases: [(String, LexiconError.Code, String)] = [
            (#"{"$type":"app.bsky.feed.post","createdAt":"2024-01-01T00:00:00.000Z"}"#, .missingField, "$.text"),
            (#"{"$type":"app.bsky.feed.post","text":5,"createdAt":"2024-01-01T00:00:00.000Z"}"#, .wrongType, "$.text"),
            (#"{"$type":"app.bsky.feed.post","text":"x","createdAt":"yesterday"}"#, .invalidFormat, "$.createdAt"),
            (#"{"$type":"app.bsky.feed.post","text":"x","createdAt":"2024-01-01T00:00:00.000Z","langs":["en","not a language"]}"#, .invalidFormat, "$.langs[1]"),
            (#"{"$type":"app.bsky.feed.post","text":"x","createdAt":"2024-01-01T00:00:00.000Z","reply":{"root":{"uri":"nope","cid":"x"}}}"#, .missingField, "$.reply.parent"),
        ]
        for (json, code, path) in cases {
            do {
                try catalog.validate(record: try DataValue(jsonString: json), collection: post)
                Issue.record("accepted \(json)")
            } catch let error as LexiconError {
                #expect(error.code == code, "\(json): \(error)")
                #expect(error.path == path, "\(json): \(error)")
            }
        }
        let long = String(repeating: "é", count: 301)
        do {
            try catalog.validate(record: try DataValue(jsonString: #"{"$type":"app.bsky.feed.post","text":"\#(long)","createdAt":"2024-01-01T00:00:00.000Z"}"#), collection: post)
            Issue.record("accepted 301 graphemes")
        } catch let error as LexiconError {
            #expect(error.code == .outOfRange)
        }
    }

    @Test func unknownCollectionsAreReported() throws {
        let catalog = try #require(Self.catalog)
        #expect(throws: LexiconError.self) {
            try catalog.validate(record: ["$type": "com.example.nothing"], collection: try NSID("com.example.nothing"))
        }
    }
}

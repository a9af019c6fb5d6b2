import ATData
import Foundation
import ATProtoAPI
import ATSyntax
import Testing

@Suite("Generated types: validation")
struct ValidationTests {
    private func error(_ json: String, _ validating: Bool = true) -> LexError? {
        do throws(LexError) {
            _ = try App.Bsky.Feed.Post(json: Array(json.utf8), validating: validating)
            return nil
        } catch {
            return error
        }
    }

    @Test func constraintsFailWithTheirPath() {
        let long = String(repeating: "é", count: 301)
        let cases: [(String, String, LexError.Kind)] = [
            (#"{"$type":"app.bsky.feed.post","text":"\#(long)","createdAt":"2024-05-01T12:00:00Z"}"#, "$.text", .constraint),
            (#"{"$type":"app.bsky.feed.post","text":"x","createdAt":"yesterday"}"#, "$.createdAt", .invalidFormat),
            (#"{"$type":"app.bsky.feed.post","text":"x"}"#, "$.createdAt", .missingField),
            (#"{"$type":"app.bsky.feed.post","text":"x","createdAt":"2024-05-01T12:00:00Z","langs":["en","not a tag"]}"#, "$.langs[1]", .invalidFormat),
            (#"{"$type":"app.bsky.feed.post","text":"x","createdAt":"2024-05-01T12:00:00Z","langs":["en","fr","de","it"]}"#, "$.langs", .constraint),
            (#"{"$type":"app.bsky.feed.post","text":"x","createdAt":"2024-05-01T12:00:00Z","embed":{"$type":"app.bsky.embed.images","images":[{"image":{"$type":"blob","ref":{"$link":"bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy"},"mimeType":"image/png","size":1}}]}}"#, "$.embed.images[0].alt", .missingField),
            (#"{"$type":"app.bsky.feed.post","text":"x","createdAt":"2024-05-01T12:00:00Z","embed":{"$type":"app.bsky.embed.images","images":[{"alt":"","image":{"$type":"blob","ref":{"$link":"bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy"},"mimeType":"text/html","size":1}}]}}"#, "$.embed.images[0].image", .constraint),
            (#"{"$type":"app.bsky.feed.post","text":7,"createdAt":"2024-05-01T12:00:00Z"}"#, "$.text", .wrongType),
            (#"{"$type":"app.bsky.feed.like","text":"x","createdAt":"2024-05-01T12:00:00Z"}"#, "$.$type", .wrongTypeName),
            (#"{"$type":"app.bsky.feed.post","text":"x","createdAt":"2024-05-01T12:00:00Z","embed":{"images":[]}}"#, "$.embed.$type", .missingField),
        ]
        for (json, path, kind) in cases {
            let failure = error(json)
            #expect(failure?.pathString == path, "\(json): \(String(describing: failure))")
            #expect(failure?.kind == kind, "\(json): \(String(describing: failure))")
        }
        // Without validation, limits are not checked but shapes are.
        #expect(error(cases[0].0, false) == nil)
        #expect(error(cases[4].0, false) == nil)
        #expect(error(cases[7].0, false)?.pathString == "$.text")
    }

    @Test func graphemesNotBytesOrScalars() {
        // 300 family emoji: 300 graphemes, far more bytes and scalars.
        let family = String(repeating: "👨‍👩‍👧", count: 300)
        let ok = #"{"$type":"app.bsky.feed.post","text":"\#(family)","createdAt":"2024-05-01T12:00:00Z"}"#
        #expect(family.utf8.count <= 3000 || error(ok)?.pathString == "$.text")
        let short = String(repeating: "👨‍👩‍👧", count: 100)
        #expect(error(#"{"$type":"app.bsky.feed.post","text":"\#(short)","createdAt":"2024-05-01T12:00:00Z"}"#) == nil)
    }

    @Test func closedUnionsAndParameters() throws {
        // Parameters: typed, validated, and written back as query items.
        let params = try App.Bsky.Feed.GetAuthorFeed.Parameters(query: [("actor", "alice.test"), ("limit", "30"), ("includePins", "true")])
        #expect(params.actor.description == "alice.test")
        #expect(params.limit == 30)
        #expect(params.includePins == true)
        #expect(try App.Bsky.Feed.GetAuthorFeed.Parameters(query: params.queryItems) == params)
        #expect(throws: LexError.self) { try App.Bsky.Feed.GetAuthorFeed.Parameters(query: [("actor", "alice.test"), ("limit", "500")]) }
        #expect(throws: LexError.self) { try App.Bsky.Feed.GetAuthorFeed.Parameters(query: [("limit", "5")]) }
        let many = try App.Bsky.Feed.GetPosts.Parameters(query: [("uris", "at://did:plc:a/app.bsky.feed.post/1"), ("uris", "at://did:plc:b/app.bsky.feed.post/2")])
        #expect(many.uris.count == 2)
        #expect(many.queryItems.count == 2)
    }

    /// A thread is recursive (`parent` holds a thread): nesting past the
    /// reader's limit is an error, in DAG-CBOR as in JSON, not a deep stack.
    @Test func recursiveTypesStopAtTheDepthLimit() throws {
        func thread(_ depth: Int) -> DataValue {
            let post: DataValue = [
                "uri": "at://did:plc:alice/app.bsky.feed.post/3k2a", "cid": "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a",
                "author": ["did": "did:plc:alice", "handle": "alice.test"], "record": ["text": "hi"], "indexedAt": "2024-05-01T12:00:00Z",
            ]
            var value: DataValue = ["$type": "app.bsky.feed.defs#threadViewPost", "post": post]
            for _ in 0..<depth {
                value = ["$type": "app.bsky.feed.defs#threadViewPost", "post": post, "parent": value]
            }
            return value
        }
        typealias Thread = App.Bsky.Feed.Defs.ThreadViewPost
        let shallow = DAGCBOR.encode(thread(20))
        #expect(try Thread(cbor: shallow).cbor() == shallow)
        let deep = DAGCBOR.encode(thread(400))
        #expect(throws: LexError.self) { try Thread(cbor: deep) }
        #expect(throws: LexError.self) { try Thread(json: Array(thread(400).jsonData())) }
    }

    @Test func malformedInputIsAnErrorNotACrash() {
        let inputs: [[UInt8]] = [[], [0xA1], [0xA1, 0x61], Array("{".utf8), Array(#"{"text":"#.utf8), Array(#"{"text":"x","text":1}"#.utf8), [0xFF, 0x00]]
        for input in inputs {
            #expect(throws: LexError.self) { try App.Bsky.Feed.Post(cbor: input) }
            #expect(throws: LexError.self) { try App.Bsky.Feed.Post(json: input) }
        }
    }
}

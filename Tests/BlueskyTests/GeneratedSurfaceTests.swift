import ATData
import ATLexicon
import ATProtoAPI
import ATSyntax
import Bluesky
import Foundation
import Testing

@Suite("Generated API surface")
struct GeneratedSurfaceTests {
    /// Every query and procedure of the bundled catalog has an SDK method of its kind.
    @Test func everyCatalogMethodHasAnSDKMethod() throws {
        let catalog = try LexiconCatalog.bundled()
        #expect(catalog.documents.count >= 394)
        let generated = Bluesky.generatedMethods()
        var checked = 0
        for (id, document) in catalog.documents {
            let kind: XRPCMethodKind
            switch document.defs["main"] {
            case .query?: kind = .query
            case .procedure?: kind = .procedure
            default: continue
            }
            #expect(generated[id] == kind, "\(id)")
            #expect(LexiconIndex.methods[id] == kind, "\(id)")
            checked += 1
        }
        #expect(checked == generated.filter { $0.value != .subscription }.count)
        // The event streams (Jetstream's JSON one aside) are methods too.
        #expect(generated.filter { $0.value == .subscription }.keys.sorted() == [
            "chat.bsky.moderation.subscribeModEvents", "com.atproto.label.subscribeLabels", "com.atproto.sync.subscribeRepos",
        ])
        #expect(checked >= 325)
    }

    static let timeline = #"""
        {"cursor":"c2","feed":[{"post":{"uri":"at://did:plc:alice/app.bsky.feed.post/3k2a","cid":"bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a",
          "author":{"did":"did:plc:alice","handle":"alice.test","displayName":"Alice"},
          "record":{"$type":"app.bsky.feed.post","text":"hi","createdAt":"2024-05-01T12:00:00.000Z"},
          "indexedAt":"2024-05-01T12:00:01.000Z","likeCount":3,"futureField":{"x":1}}}]}
        """#

    @Test func queriesSendTypedParametersAndDecodeTypedOutput() async throws {
        let transport = ScriptedTransport([reply(200, Self.timeline)])
        let output = try await client(transport).app.bsky.feed.getTimeline(limit: 50)
        #expect(transport.requests.first?.request.path == "/xrpc/app.bsky.feed.getTimeline?limit=50")
        #expect(transport.requests.first?.request.method == .get)
        #expect(output.cursor == "c2")
        let post = try #require(output.feed.first?.post)
        #expect(post.author.handle.description == "alice.test")
        #expect(post.likeCount == 3)
        // An unknown field in the server's output is kept.
        #expect(post.extra["futureField"]?["x"] == .int(1))
        // The record is `unknown` in the lexicon; it decodes as its type on demand.
        let record = try App.Bsky.Feed.Post(post.record, validating: true)
        #expect(record.text == "hi")
    }

    @Test func pagedQueriesFollowTheCursor() async throws {
        let last = #"{"feed":[]}"#
        let transport = ScriptedTransport([reply(200, Self.timeline), reply(200, last)])
        var pages = 0
        for try await page in client(transport).app.bsky.feed.getAuthorFeedPages(actor: .did(try DID("did:plc:alice")), limit: 1) {
            pages += 1
            _ = page.feed
        }
        #expect(pages == 2)
        #expect(transport.requests.map { $0.request.path ?? "" } == [
            "/xrpc/app.bsky.feed.getAuthorFeed?actor=did:plc:alice&limit=1",
            "/xrpc/app.bsky.feed.getAuthorFeed?actor=did:plc:alice&limit=1&cursor=c2",
        ])
    }

    @Test func proceduresSendTheInputAsJSONAndErrorsKeepTheTable() async throws {
        let cid = "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a"
        let transport = ScriptedTransport([
            reply(200, #"{"uri":"at://did:plc:alice/app.bsky.feed.post/3k2a","cid":"\#(cid)"}"#),
            reply(400, #"{"error":"InvalidSwap","message":"record was at another CID"}"#),
            reply(400, #"{"error":"InvalidSwap","message":"record was at another CID"}"#),
        ])
        let bluesky = client(transport)
        let post = App.Bsky.Feed.Post(text: "hello", createdAt: try Datetime("2024-05-01T12:00:00.000Z"))
        let output = try await bluesky.com.atproto.repo.createRecord(
            repo: .did(try DID("did:plc:alice")), collection: try NSID("app.bsky.feed.post"), record: post.dataValue)
        #expect(output.uri.recordKey?.description == "3k2a")
        let sent = try DataValue(json: Data(try #require(transport.requests.first?.body)))
        #expect(sent["record"]?["text"] == "hello")
        #expect(sent["record"]?["$type"] == "app.bsky.feed.post")
        #expect(sent["collection"] == "app.bsky.feed.post")
        #expect(transport.requests.first?.request.headerFields[.contentType] == "application/json")

        await #expect(throws: BlueskyError.self) {
            _ = try await bluesky.com.atproto.repo.deleteRecord(
                repo: .did(try DID("did:plc:alice")), collection: try NSID("app.bsky.feed.post"), rkey: try RecordKey("3k2a"))
        }
        do {
            try await bluesky.com.atproto.repo.deleteRecord(
                repo: .did(try DID("did:plc:alice")), collection: try NSID("app.bsky.feed.post"), rkey: try RecordKey("3k2a"))
        } catch let error as BlueskyError {
            #expect(error.name == Com.Atproto.Repo.DeleteRecord.ErrorName.invalidSwap.rawValue)
        }
    }

    @Test func typedRecordsTakeTheirCollectionFromTheirType() async throws {
        let cid = "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a"
        let record = #"{"$type":"app.bsky.feed.like","subject":{"uri":"at://did:plc:bob/app.bsky.feed.post/3k2a","cid":"\#(cid)"},"createdAt":"2024-05-01T12:00:00.000Z"}"#
        let transport = ScriptedTransport([
            reply(200, #"{"uri":"at://did:plc:alice/app.bsky.feed.like/3k2b","cid":"\#(cid)"}"#),
            reply(200, #"{"uri":"at://did:plc:alice/app.bsky.feed.like/3k2b","cid":"\#(cid)","value":\#(record)}"#),
            reply(200, #"{"uri":"at://did:plc:alice/app.bsky.feed.like/3k2b","cid":"\#(cid)","value":{"$type":"app.bsky.feed.post","text":"x"}}"#),
        ])
        let repo = client(transport).com.atproto.repo
        let like = try App.Bsky.Feed.Like(json: Array(record.utf8))
        _ = try await repo.createRecord(repo: .did(try DID("did:plc:alice")), record: like)
        let sent = try DataValue(json: Data(try #require(transport.requests.first?.body)))
        #expect(sent["collection"] == "app.bsky.feed.like" && sent["record"] == like.dataValue)
        let got = try await repo.getRecord(repo: .did(try DID("did:plc:alice")), rkey: try RecordKey("3k2b"), as: App.Bsky.Feed.Like.self)
        #expect(got.value == like)
        #expect(transport.requests[1].request.path == "/xrpc/com.atproto.repo.getRecord?repo=did:plc:alice&collection=app.bsky.feed.like&rkey=3k2b")
        let wrong = await #expect(throws: BlueskyError.self) {
            _ = try await repo.getRecord(repo: .did(try DID("did:plc:alice")), rkey: try RecordKey("3k2b"), as: App.Bsky.Feed.Like.self)
        }
        #expect(wrong?.kind == .decoding)
    }

    @Test func binaryBodiesAreSentAsGiven() async throws {
        let cid = "bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy"
        let transport = ScriptedTransport([reply(200, #"{"blob":{"$type":"blob","ref":{"$link":"\#(cid)"},"mimeType":"image/png","size":4}}"#)])
        let output = try await client(transport).com.atproto.repo.uploadBlob(body: [1, 2, 3, 4], contentType: "image/png")
        #expect(output.blob.size == 4)
        #expect(output.blob.ref.description == cid)
        #expect(transport.requests.first?.body == [1, 2, 3, 4])
        #expect(transport.requests.first?.request.headerFields[.contentType] == "image/png")
    }
}

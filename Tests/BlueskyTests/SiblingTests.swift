import ATData
import ATSyntax
import Bluesky
import Foundation
import HTTPTypes
import Testing

/// The sibling endpoints: each sends its lexicon's method, path and input,
/// and reads its output.
@Suite("Sibling endpoints")
struct SiblingTests {
    let did = try! DID("did:plc:abc")
    let post = try! NSID("app.bsky.feed.post")
    static let cid = CID.compute(Array("x".utf8), codec: .dagCBOR)

    func sent(_ transport: ScriptedTransport) throws -> (method: HTTPRequest.Method, path: String, body: DataValue?) {
        let last = try #require(transport.requests.last)
        return (last.request.method, last.request.path ?? "", try last.body.map { try DataValue(json: Data($0)) })
    }

    @Test func syncQueries() async throws {
        let transport = ScriptedTransport([
            reply(200, #"{"cid":"\#(Self.cid)","rev":"3jzfcijpj2z2a"}"#),
            reply(200, #"{"did":"did:plc:abc","active":false,"status":"takendown"}"#),
            reply(200, #"{"repos":[{"did":"did:plc:abc","head":"\#(Self.cid)","rev":"3jzfcijpj2z2a","active":true}],"cursor":"did:plc:abc"}"#),
            reply(200, #"{"repos":[]}"#),
            reply(200, bytes: [1, 2, 3], headers: ["Content-Type": "image/png"]),
            reply(200, bytes: [9]),
            reply(200, bytes: [8]),
        ])
        let sync = client(transport).sync
        #expect(try await sync.getLatestCommit(did: did) == CommitRef(cid: Self.cid, rev: try TID("3jzfcijpj2z2a")))
        #expect(try sent(transport).path == "/xrpc/com.atproto.sync.getLatestCommit?did=did:plc:abc")
        let status = try await sync.getRepoStatus(did: did)
        #expect(!status.active && status.status == "takendown" && status.rev == nil)
        let pages = try await sync.listRepos(limit: 1).collect()
        #expect(pages.map(\.repos.count) == [1, 0])
        #expect(try sent(transport).path == "/xrpc/com.atproto.sync.listRepos?limit=1&cursor=did:plc:abc")
        let blob = try await sync.getBlob(did: did, cid: Self.cid)
        #expect(blob == BlobData(bytes: [1, 2, 3], mimeType: "image/png"))
        #expect(try sent(transport).path == "/xrpc/com.atproto.sync.getBlob?did=did:plc:abc&cid=\(Self.cid)")
        #expect(try await sync.getRecord(did: did, collection: post, rkey: try RecordKey("self")) == [9])
        #expect(try sent(transport).path == "/xrpc/com.atproto.sync.getRecord?did=did:plc:abc&collection=app.bsky.feed.post&rkey=self")
        let other = CID.compute([2], codec: .raw)
        #expect(try await sync.getBlocks(did: did, cids: [Self.cid, other]) == [8])
        #expect(try sent(transport).path == "/xrpc/com.atproto.sync.getBlocks?did=did:plc:abc&cids=\(Self.cid)&cids=\(other)")
    }

    @Test func requestCrawlPostsTheHostname() async throws {
        let transport = ScriptedTransport([reply(200)])
        try await client(transport).sync.requestCrawl(hostname: "pds.example")
        let (method, path, body) = try sent(transport)
        #expect(method == .post && path == "/xrpc/com.atproto.sync.requestCrawl")
        #expect(body == ["hostname": "pds.example"])
    }

    @Test func repoProcedures() async throws {
        let transport = ScriptedTransport([
            reply(200, #"{"uri":"at://did:plc:abc/app.bsky.feed.post/3jzfcijpj2z2a","cid":"\#(Self.cid)","validationStatus":"valid"}"#),
            reply(200, #"{"commit":{"cid":"\#(Self.cid)","rev":"3jzfcijpj2z2b"}}"#),
            reply(200, ""),
            reply(200, #"{"handle":"alice.test","did":"did:plc:abc","didDoc":{"id":"did:plc:abc"},"collections":["app.bsky.feed.post"],"handleIsCorrect":true}"#),
        ])
        let repo = client(transport).repo
        let created = try await repo.createRecord(repo: .did(did), collection: post, record: ["text": "hi"], validate: true)
        #expect(created.validationStatus == .valid)
        var (method, path, body) = try sent(transport)
        #expect(method == .post && path == "/xrpc/com.atproto.repo.createRecord")
        #expect(body?["rkey"] == nil && body?["validate"] == .bool(true))

        let deleted = try await repo.deleteRecord(repo: .did(did), collection: post, rkey: try RecordKey("3jzfcijpj2z2a"), swapRecord: Self.cid)
        #expect(deleted.commit?.rev.description == "3jzfcijpj2z2b")
        (method, path, body) = try sent(transport)
        #expect(path == "/xrpc/com.atproto.repo.deleteRecord" && body?["swapRecord"] == .string(Self.cid.description))
        // An empty 200 body (older servers) is a delete without commit information.
        #expect(try await repo.deleteRecord(repo: .did(did), collection: post, rkey: try RecordKey("x")).commit == nil)

        let description = try await repo.describeRepo(repo: .handle(try Handle("alice.test")))
        #expect(description.did == did && description.handleIsCorrect && description.collections == ["app.bsky.feed.post"])
        #expect(description.didDoc["id"] == "did:plc:abc")
        #expect(try sent(transport).path == "/xrpc/com.atproto.repo.describeRepo?repo=alice.test")
    }

    @Test func serverCalls() async throws {
        let session = #"{"accessJwt":"a","refreshJwt":"r","handle":"alice.test","did":"did:plc:abc","active":true}"#
        let transport = ScriptedTransport([
            reply(200, session),
            reply(200, #"{"did":"did:web:pds.example","availableUserDomains":[".test"],"inviteCodeRequired":false,"links":{"termsOfService":"https://pds.example/tos"}}"#),
            reply(200, session),
        ])
        let server = client(transport).server
        let account = try await server.createAccount(handle: try Handle("alice.test"), email: "a@example.com", password: "pw")
        #expect(account.accessJwt == "a" && account.active == true)
        let (method, path, body) = try sent(transport)
        #expect(method == .post && path == "/xrpc/com.atproto.server.createAccount")
        #expect(body == ["handle": "alice.test", "email": "a@example.com", "password": "pw"])
        let description = try await server.describeServer()
        #expect(description.availableUserDomains == [".test"] && description.links?.termsOfService == "https://pds.example/tos")
        _ = try await server.refreshSession(refreshToken: "r")
        let refresh = try #require(transport.requests.last?.request)
        #expect(refresh.headerFields[.authorization] == "Bearer r")
        #expect(refresh.method == .post)
    }

    @Test func missingOutputFieldsAreDecodingErrors() async throws {
        let transport = ScriptedTransport([reply(200, #"{"uri":"at://did:plc:abc/app.bsky.feed.post/x"}"#), reply(200, #"{"blob":{}}"#)])
        let repo = client(transport).repo
        let record = await #expect(throws: BlueskyError.self) {
            try await repo.getRecord(repo: .did(did), collection: post, rkey: try RecordKey("x"))
        }
        #expect(record?.kind == .decoding)
        #expect(record?.message.contains("'value'") == true)
        let blob = await #expect(throws: BlueskyError.self) { try await repo.uploadBlob([1], mimeType: "text/plain") }
        #expect(blob?.kind == .decoding)
    }
}

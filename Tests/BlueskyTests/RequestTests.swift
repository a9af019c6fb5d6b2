import ATData
import ATSyntax
import Bluesky
import Foundation
import HTTPTypes
import Synchronization
import Testing

@Suite("Requests and outputs")
struct RequestTests {
    let did = try! DID("did:plc:abc")
    static let cid = CID.compute(Array("record".utf8), codec: .dagCBOR)
    static let putOutput = #"{"uri":"at://did:plc:abc/app.bsky.feed.post/3jzfcijpj2z2a","cid":"\#(cid)","commit":{"cid":"\#(cid)","rev":"3jzfcijpj2z2b"},"validationStatus":"valid"}"#

    func body(_ transport: ScriptedTransport) throws -> DataValue {
        try DataValue(json: Data(try #require(transport.requests.last?.body)))
    }

    @Test func putRecordSendsTheLexiconInput() async throws {
        let transport = ScriptedTransport([reply(200, Self.putOutput)])
        let out = try await client(transport, bearer: "jwt").repo.putRecord(
            repo: .did(did), collection: try NSID("app.bsky.feed.post"), rkey: try RecordKey("3jzfcijpj2z2a"),
            record: ["$type": "app.bsky.feed.post", "text": "hi", "createdAt": "2024-01-01T00:00:00.000Z"],
            validate: false, swapRecord: .absent, swapCommit: Self.cid)
        #expect(out.uri.description == "at://did:plc:abc/app.bsky.feed.post/3jzfcijpj2z2a")
        #expect(out.cid == Self.cid)
        #expect(out.commit == CommitRef(cid: Self.cid, rev: try TID("3jzfcijpj2z2b")))
        #expect(out.validationStatus == .valid)
        let request = try #require(transport.requests.last?.request)
        #expect(request.method == .post)
        #expect(request.path == "/xrpc/com.atproto.repo.putRecord")
        #expect(request.headerFields[.authorization] == "Bearer jwt")
        #expect(request.headerFields[.contentType] == "application/json")
        let input = try body(transport)
        #expect(input["repo"] == "did:plc:abc")
        #expect(input["collection"] == "app.bsky.feed.post")
        #expect(input["rkey"] == "3jzfcijpj2z2a")
        #expect(input["validate"] == .bool(false))
        #expect(input["swapRecord"] == .null)  // present, and null: must not exist yet
        #expect(input["swapCommit"] == .string(Self.cid.description))
        #expect(input["record"]?["text"] == "hi")
    }

    @Test func putRecordLeavesOutWhatIsNotGiven() async throws {
        let transport = ScriptedTransport([reply(200, #"{"uri":"at://did:plc:abc/app.bsky.feed.post/3jzfcijpj2z2a","cid":"\#(Self.cid)"}"#)])
        let out = try await client(transport).repo.putRecord(
            repo: .did(did), collection: try NSID("app.bsky.feed.post"), rkey: try RecordKey("3jzfcijpj2z2a"), record: ["text": "x"])
        #expect(out.commit == nil)
        #expect(out.validationStatus == nil)
        let input = try body(transport)
        #expect(input["validate"] == nil)
        #expect(input["swapRecord"] == nil)
        #expect(input["swapCommit"] == nil)
        #expect(transport.requests.last?.request.headerFields[.authorization] == nil)
    }

    struct Like: Codable, Sendable, Equatable {
        var subject: Subject
        var createdAt: String
        // com.atproto.repo.strongRef: the CID is a string, not a link.
        struct Subject: Codable, Sendable, Equatable { var uri: String; var cid: String }
        enum CodingKeys: String, CodingKey { case subject, createdAt }
    }

    @Test func codableRecordsUseTheDataModel() async throws {
        let transport = ScriptedTransport([reply(200, Self.putOutput)])
        // A CID value is a link in the data model, and bytes are bytes.
        struct Pin: Codable, Sendable { var target: CID; var note: String; var digest: Data }
        _ = try await client(transport).repo.putRecord(
            repo: .did(did), collection: try NSID("com.example.pin"), rkey: try RecordKey("3jzfcijpj2z2a"),
            record: Pin(target: Self.cid, note: "n", digest: Data([1, 2, 3])))
        let json = String(decoding: try #require(transport.requests.last?.body), as: UTF8.self)
        #expect(json.contains(#""target":{"$link":"\#(Self.cid)"}"#))
        #expect(json.contains(#""digest":{"$bytes":"AQID"}"#))
        #expect(try body(transport)["record"]?["target"] == .link(Self.cid))
    }

    @Test func validationStatusIsOpen() throws {
        let decode = { (s: String) in try JSONDecoder().decode(ValidationStatus.self, from: Data("\"\(s)\"".utf8)) }
        #expect(try decode("valid") == .valid)
        #expect(try decode("unknown") == .unknown)
        #expect(try decode("pending-review") == .other("pending-review"))
        #expect(try String(decoding: JSONEncoder().encode(ValidationStatus.other("x")), as: UTF8.self) == "\"x\"")
    }

    @Test func callOptionsOverrideServerHeadersAndTimeout() async throws {
        let transport = ScriptedTransport([reply(200)])
        var headers = HTTPFields()
        headers[.userAgent] = "custom/1"
        headers[HTTPField.Name("atproto-proxy")!] = "did:web:relay.example#bsky_relay"
        try await client(transport).sync.notifyOfUpdate(
            hostname: "pds.example", options: CallOptions(timeout: .seconds(3), headers: headers, serverURL: URL(string: "http://127.0.0.1:9/base/")!))
        let request = try #require(transport.requests.first?.request)
        #expect(request.url?.absoluteString == "http://127.0.0.1:9/base/xrpc/com.atproto.sync.notifyOfUpdate")
        #expect(request.headerFields[.userAgent] == "custom/1")
        #expect(request.headerFields[values: .userAgent].count == 1)
        #expect(request.headerFields[HTTPField.Name("atproto-proxy")!] == "did:web:relay.example#bsky_relay")
        #expect(try body(transport)["hostname"] == "pds.example")
    }

    @Test func aBearerProviderIsAskedEachTime() async throws {
        let counter = Counter()
        let transport = ScriptedTransport([reply(200, #"{"did":"did:plc:abc","active":true}"#), reply(200, #"{"did":"did:plc:abc","active":true}"#)])
        let bluesky = client(transport, bearer: .provider({ "token-\(counter.next())" }))
        _ = try await bluesky.sync.getRepoStatus(did: did)
        _ = try await bluesky.sync.getRepoStatus(did: did)
        #expect(transport.requests.map { $0.request.headerFields[.authorization] } == ["Bearer token-1", "Bearer token-2"])
    }

    @Test func getRecordAndListRecordsReadDataModelValues() async throws {
        let record = #"{"uri":"at://did:plc:abc/app.bsky.feed.like/3jzfcijpj2z2a","cid":"\#(Self.cid)","value":{"$type":"app.bsky.feed.like","subject":{"uri":"at://did:plc:abc/app.bsky.feed.post/1","cid":"\#(Self.cid)"},"createdAt":"2024-01-01T00:00:00.000Z"}}"#
        let transport = ScriptedTransport([reply(200, record), reply(200, #"{"records":[\#(record),\#(record)],"cursor":"c"}"#), reply(200, #"{"records":[]}"#)])
        let bluesky = client(transport)
        let entry = try await bluesky.repo.getRecord(repo: .did(did), collection: try NSID("app.bsky.feed.like"), rkey: try RecordKey("3jzfcijpj2z2a"))
        #expect(entry.cid == Self.cid)
        let like = try entry.value(as: Like.self)
        #expect(like.subject.cid == Self.cid.description)
        var counts = [Int]()
        for try await page in bluesky.repo.listRecords(repo: .did(did), collection: try NSID("app.bsky.feed.like")) { counts.append(page.records.count) }
        #expect(counts == [2, 0])
    }

    @Test func uploadBlobSendsBytesAndReadsTheReference() async throws {
        let blobCID = CID.compute([1, 2, 3], codec: .raw)
        let transport = ScriptedTransport([reply(200, #"{"blob":{"$type":"blob","ref":{"$link":"\#(blobCID)"},"mimeType":"image/png","size":3}}"#)])
        let ref = try await client(transport, bearer: "t").repo.uploadBlob([1, 2, 3], mimeType: "image/png")
        #expect(ref == BlobRef(ref: blobCID, mimeType: "image/png", size: 3))
        #expect(transport.requests.first?.body == [1, 2, 3])
        #expect(transport.requests.first?.request.headerFields[.contentType] == "image/png")
    }

    @Test func applyWritesSendsTypedWritesAndReadsResults() async throws {
        let transport = ScriptedTransport([reply(200, #"{"commit":{"cid":"\#(Self.cid)","rev":"3jzfcijpj2z2b"},"results":[{"$type":"com.atproto.repo.applyWrites#createResult","uri":"at://did:plc:abc/app.bsky.feed.post/a","cid":"\#(Self.cid)","validationStatus":"unknown"},{"$type":"com.atproto.repo.applyWrites#deleteResult"}]}"#)])
        let post = try NSID("app.bsky.feed.post")
        let out = try await client(transport).repo.applyWrites(repo: .did(did), writes: [
            .create(collection: post, rkey: try RecordKey("a"), value: ["text": "a"]), .delete(collection: post, rkey: try RecordKey("b")),
        ])
        #expect(out.results == [.create(uri: try ATURI("at://did:plc:abc/app.bsky.feed.post/a"), cid: Self.cid, validationStatus: .unknown), .delete])
        let writes = try #require(try body(transport)["writes"]?.arrayValue)
        #expect(writes.map { $0["$type"] } == ["com.atproto.repo.applyWrites#create", "com.atproto.repo.applyWrites#delete"])
    }
}

/// A thread-safe counter for providers.
final class Counter: Sendable {
    private let value = Synchronization.Mutex(0)
    func next() -> Int { value.withLock { $0 += 1; return $0 } }
}

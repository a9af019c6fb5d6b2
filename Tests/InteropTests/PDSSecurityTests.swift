import ATData
import ATSyntax
import Bluesky
import Foundation
import HTTPTypes
import Server
import Testing

/// Bad credentials and bad input against `bsky serve`: each refused with the
/// reference PDS's status and error name, and none of it crashes the server.
@Suite("PDS security and bad input", .serialized)
struct PDSSecurityTests {
    let serve: ServeProcess
    let base: Bluesky
    let post = try! NSID("app.bsky.feed.post")

    init() throws {
        serve = try PDSEndToEndTests.server.get()
        base = Bluesky(serverURL: serve.url, retryConfig: .none)
    }

    func account() async throws -> (did: DID, client: Bluesky, token: String) {
        let name = "s\(UInt32.random(in: 0..<UInt32.max))"
        let info = try await base.server.createAccount(handle: try Handle("\(name).test"), password: "pw")
        var client = base
        client.bearer = .token(info.accessJwt)
        return (info.did, client, info.accessJwt)
    }

    /// A raw XRPC call: status and `{error, message}`.
    func raw(_ method: HTTPRequest.Method, _ path: String, body: [UInt8]? = nil, bearer: String? = nil) async throws -> (Int, [String: String]) {
        var request = HTTPRequest(method: method, url: URL(string: serve.url.absoluteString + path)!)
        if body != nil { request.headerFields[.contentType] = "application/json" }
        if let bearer { request.headerFields[.authorization] = "Bearer \(bearer)" }
        let response = try await AsyncHTTPClientTransport().send(request, body: body, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        let json = (try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: String]) ?? [:]
        return (response.head.status.code, json)
    }

    func record(_ text: String) -> DataValue {
        ["$type": "app.bsky.feed.post", "text": .string(text), "createdAt": "2024-01-01T00:00:00.000Z"]
    }

    @Test func missingBadAndExpiredTokens() async throws {
        let (did, client, _) = try await account()
        let missing = await #expect(throws: BlueskyError.self) {
            try await base.repo.createRecord(repo: .did(did), collection: post, record: record("x"))
        }
        #expect(missing?.status == 401)
        #expect(missing?.name == "AuthMissing")

        var bad = client
        bad.bearer = "not-a-jwt"
        let invalid = await #expect(throws: BlueskyError.self) { try await bad.server.getSession() }
        #expect(invalid?.kind == .xrpc(.invalidToken))

        // A token signed with the server's own secret, but two hours past its expiry.
        let secret = try [UInt8](Data(contentsOf: serve.data.appendingPathComponent("secrets/jwt.secret")))
        let issuer = await TokenIssuer(secret: secret, audience: "did:web:127.0.0.1%3A\(serve.url.port!)")
        let old = try await issuer.issue(.access, for: did, now: Date(timeIntervalSinceNow: -4 * 3600))
        var expired = client
        expired.bearer = .token(old.token)
        let error = await #expect(throws: BlueskyError.self) { try await expired.server.getSession() }
        #expect(error?.kind == .xrpc(.expiredToken))
        #expect(error?.status == 400)

        // A refresh token is not an access token.
        let refresh = try await issuer.issue(.refresh, for: did)
        expired.bearer = .token(refresh.token)
        let scope = await #expect(throws: BlueskyError.self) { try await expired.server.getSession() }
        #expect(scope?.kind == .xrpc(.invalidToken))
    }

    @Test func writingToAnotherAccountsRepoIsRefused() async throws {
        let (victim, _, _) = try await account()
        let (_, attacker, _) = try await account()
        let error = await #expect(throws: BlueskyError.self) {
            try await attacker.repo.putRecord(repo: .did(victim), collection: post, rkey: try RecordKey("self"), record: record("mine now"))
        }
        #expect(error?.status == 401)
        #expect(error?.name == "AuthenticationRequired")
        #expect(try await base.repo.listRecords(repo: .did(victim), collection: post, cursor: nil).records.isEmpty)
    }

    @Test func oversizeBodiesGet413() async throws {
        let (did, client, _) = try await account()
        let error = await #expect(throws: BlueskyError.self) {
            try await client.repo.createRecord(repo: .did(did), collection: post, record: record(String(repeating: "x", count: 2 << 20)))
        }
        #expect(error?.status == 413)
        #expect(error?.kind == .badRequest)
        #expect(error?.name == "PayloadTooLarge")
    }

    @Test func invalidIdentifiersAndRecordsGet400() async throws {
        let (did, client, token) = try await account()
        let cases: [(HTTPRequest.Method, String, String?)] = [
            (.get, "/xrpc/com.atproto.sync.getRepo?did=not-a-did", nil),
            (.get, "/xrpc/com.atproto.sync.getRepo?did=did:plc:abc&since=yesterday", nil),
            (.get, "/xrpc/com.atproto.repo.listRecords?repo=\(did)&collection=not_an_nsid", nil),
            (.get, "/xrpc/com.atproto.sync.listBlobs?did=\(did)&limit=1001", nil),
            (.post, "/xrpc/com.atproto.repo.putRecord", #"{"repo":"\#(did)","collection":"app.bsky.feed.post","rkey":"..","record":{"text":"x"}}"#),
            (.post, "/xrpc/com.atproto.repo.putRecord", #"{"repo":"\#(did)","collection":"app.bsky.feed.post","rkey":"a","record":"text"}"#),
            (.post, "/xrpc/com.atproto.repo.putRecord", #"{"repo":"\#(did)","collection":"app.bsky.feed.post","rkey":"a","record":{"$type":"app.bsky.feed.like"}}"#),
            (.post, "/xrpc/com.atproto.repo.putRecord", #"{"repo":"\#(did)","collection":"app.bsky.feed.post","rkey":"a","record":{"$type":"app.bsky.feed.post","text":5}}"#),
            (.post, "/xrpc/com.atproto.repo.putRecord", #"{"repo":"\#(did)","collection":"com.example.x","rkey":"a","record":{"n":1.5}}"#),
            (.post, "/xrpc/com.atproto.repo.putRecord", #"{"repo":"\#(did)","collection":"com.example.x","rkey":"a","record":{"l":{"$link":"garbage"}}}"#),
            (.post, "/xrpc/com.atproto.repo.putRecord", #"{"repo":"\#(did)","collection":"com.example.x","rkey":"a","record":{"b":{"$bytes":"!!"}}}"#),
            (.post, "/xrpc/com.atproto.repo.putRecord", "{\"repo\":\"\(did)\",\"collection\":\"com.example.x\",\"rkey\":\"a\",\"record\":" + String(repeating: "{\"a\":", count: 300) + "1" + String(repeating: "}", count: 300) + "}"),
            (.post, "/xrpc/com.atproto.repo.putRecord", #"{"repo":"\#(did)","collection":"com.example.x""#),
            (.post, "/xrpc/com.atproto.repo.putRecord", #"{"repo":"\#(did)","collection":"com.example.x","rkey":"a","record":{"file":{"$type":"blob","ref":{"$link":"bafkreigct6o2b5r7j22iitxuwaumamhf72lfquba6a4kgvqedjbcsvumem"},"mimeType":"image/png","size":9}}}"#),
        ]
        for (method, path, body) in cases {
            let (status, json) = try await raw(method, path, body: body.map { Array($0.utf8) }, bearer: token)
            #expect(status == 400, "\(path) \(body ?? ""): \(status) \(json)")
            #expect(json["error"] != nil && json["message"] != nil, "\(path) \(body ?? "")")
        }
        let (unknown, json) = try await raw(.get, "/xrpc/com.example.nothing")
        #expect(unknown == 501 && json["error"] == "MethodNotImplemented")
        // Hostile bytes as a blob are just bytes; the server is still up and the repo still verifies.
        var noise = SystemRandomNumberGenerator()
        _ = try await client.repo.uploadBlob((0..<4096).map { _ in UInt8.random(in: 0...255, using: &noise) }, mimeType: "application/vnd.ipld.car")
        #expect(try await base.server.describeServer().availableUserDomains == [".test"])
        _ = try await client.sync.repository(did: did, resolver: DIDResolver(plcURL: serve.url))
    }

    @Test func rateLimitsAndCORS() async throws {
        let limited = try ServeProcess(arguments: ["--write-limit", "3/600"])
        defer { limited.stop() }
        let base = Bluesky(serverURL: limited.url, retryConfig: .none)
        let info = try await base.server.createAccount(handle: try Handle("ratelimited.test"), password: "pw")  // write 1
        var client = base
        client.bearer = .token(info.accessJwt)
        _ = try await client.repo.createRecord(repo: .did(info.did), collection: post, record: record("2"))
        _ = try await client.repo.createRecord(repo: .did(info.did), collection: post, record: record("3"))
        let error = await #expect(throws: BlueskyError.self) {
            try await client.repo.createRecord(repo: .did(info.did), collection: post, record: record("4"))
        }
        #expect(error?.kind == .rateLimited)
        #expect(error?.rateLimit?.limit == 3 && error?.rateLimit?.remaining == 0 && error?.rateLimit?.policy == "3;w=600")
        #expect(error?.retryAfter != nil)
        // Reads are not limited.
        _ = try await client.sync.getLatestCommit(did: info.did)

        var preflight = HTTPRequest(method: .options, url: URL(string: limited.url.absoluteString + "/xrpc/com.atproto.repo.putRecord")!)
        preflight.headerFields[.origin] = "https://app.example"
        preflight.headerFields[HTTPField.Name("Access-Control-Request-Method")!] = "POST"
        let response = try await AsyncHTTPClientTransport().send(preflight, body: nil, timeout: .seconds(10))
        #expect(response.head.headerFields[HTTPField.Name("Access-Control-Allow-Origin")!] == "*")
        #expect(response.head.headerFields[HTTPField.Name("Access-Control-Allow-Methods")!]?.contains("POST") == true)
    }
}

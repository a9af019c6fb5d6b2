import ATData
import ATSyntax
import Bluesky
import Foundation
import HTTPTypes
import Server
import Testing

/// Hostile input against `bsky serve`'s admin password and uploads (issue
/// 11's rows L2 and L6), and the relay's `getRepo` limit.
@Suite("Hostile input: admin, uploads, relay limits", .serialized)
struct HostileAuthTests {
    /// L2: wrong admin passwords are limited per client: past 20 failures
    /// every attempt gets 429, the right password included, until the window ends.
    @Test func l2AdminAttemptsAreLimited() async throws {
        let serve = try ServeProcess(arguments: ["--admin-password", "correct horse", "--invite-required", "--write-limit", "off"])
        defer { serve.kill() }
        let body = Array(#"{"useCount":1}"#.utf8)
        func attempt(_ password: String) async throws -> Int {
            let basic = Data("admin:\(password)".utf8).base64EncodedString()
            return try await HostilePDSTests.call(
                serve.url, .post, "/xrpc/com.atproto.server.createInviteCode", body: body, headers: ["Authorization": "Basic \(basic)"]
            ).status
        }
        #expect(try await attempt("correct horse") == 200)
        var statuses = [Int: Int]()
        for i in 0..<300 { statuses[try await attempt("guess \(i)"), default: 0] += 1 }
        #expect(statuses[401] == 20, "L2: \(statuses)")
        #expect(statuses[429] == 280, "L2: \(statuses)")
        #expect(try await attempt("correct horse") == 429)
    }

    /// L6: an upload whose body ends before its `Content-Length` is refused
    /// and leaves no file; nor does one cut off by a crash, after a restart.
    @Test func l6ShortUploadsLeaveNothing() async throws {
        let serve = try ServeProcess(arguments: ["--write-limit", "off"])
        let (_, _, token) = try await HostilePDSTests.account(on: serve, "lsix")
        let port = try #require(serve.url.port)
        let staging = serve.data.appendingPathComponent("blobs/.tmp")
        let head = "POST /xrpc/com.atproto.repo.uploadBlob HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(token)\r\n"
            + "Content-Type: application/octet-stream\r\nContent-Length: 100\r\n\r\n"
        // Ten bytes of a hundred, then the client's side is shut.
        let short = try RawSocket(port: port)
        short.send(head + "0123456789")
        short.shutdownWrite()
        let answer = String(decoding: await short.receive(within: 10, until: "\r\n\r\n").bytes, as: UTF8.self)
        #expect(answer.isEmpty || answer.hasPrefix("HTTP/1.1 400"), "L6: \(answer.prefix(120))")
        #expect(await eventually(within: 10) { HostilePDSTests.files(in: staging).isEmpty })
        try await HostilePDSTests.describeServerAnswers(serve)

        // Half of a large upload, then the server is killed: the restart clears what was staged.
        let cut = try RawSocket(port: port)
        cut.send(head.replacingOccurrences(of: "Content-Length: 100", with: "Content-Length: 10000000") + String(repeating: "x", count: 1 << 20))
        #expect(await eventually(within: 10) { !HostilePDSTests.files(in: staging).isEmpty })
        serve.kill()
        #expect(!HostilePDSTests.files(in: staging).isEmpty)
        let restarted = try ServeProcess(data: serve.data, arguments: ["--write-limit", "off"], port: port)
        defer { restarted.kill() }
        #expect(HostilePDSTests.files(in: staging).isEmpty)
        try await HostilePDSTests.describeServerAnswers(restarted)
    }

    /// H5 (the relay's side): `getRepo` on the relay is rate limited per client.
    @Test func h5RelayGetRepoIsRateLimited() async throws {
        let relay = try ServeProcess(arguments: ["--relay-get-repo-limit", "5/3600"], role: "relay")
        defer { relay.kill() }
        var statuses = [Int]()
        for _ in 0..<8 {
            statuses.append(try await HostilePDSTests.call(relay.url, .get, "/xrpc/com.atproto.sync.getRepo?did=did:plc:aaaaaaaaaaaaaaaaaaaaaaaa").status)
        }
        #expect(statuses == [400, 400, 400, 400, 400, 429, 429, 429])
    }
}

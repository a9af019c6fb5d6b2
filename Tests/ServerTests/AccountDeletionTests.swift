import ATData
import ATProtoAPI
import ATSyntax
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
@testable import Server
import Synchronization
import Testing

/// Messages kept instead of sent.
final class CapturingMailer: Mailer {
    let sent = Mutex<[(to: String, subject: String, body: String)]>([])
    func send(to address: String, subject: String, body: String) async throws {
        sent.withLock { $0.append((address, subject, body)) }
    }
    /// The last token (`ABCDE-FGHIJ`) in a message.
    var lastToken: String? {
        sent.withLock { $0.last }.flatMap { message in
            message.body.split(whereSeparator: \.isWhitespace).map(String.init)
                .first { $0.count == 11 && $0.dropFirst(5).first == "-" }
        }
    }
}

/// Deleting accounts in process (HummingbirdTesting, the whole router): by
/// the owner with an emailed token that works once and expires, and by the
/// operator; what is left afterwards.
@Suite("Accounts: deletion")
struct AccountDeletionTests: InProcessPDS {
    @Test func theOwnerDeletesWithAnEmailedTokenThatWorksOnce() async throws {
        let mailer = CapturingMailer()
        let (app, data) = try await app(mailer)
        try await app.test(.router) { client in
            let (status, created) = try await post(client, "com.atproto.server.createAccount",
                ["handle": "doomed.test", "password": "correct horse", "email": "doomed@example.com"])
            #expect(status == 200)
            let did = try #require(created?["did"]?.stringValue)
            let bearer = "Bearer " + (created?["accessJwt"]?.stringValue ?? "")
            let (written, _) = try await post(client, "com.atproto.repo.createRecord",
                ["repo": .string(did), "collection": "app.bsky.feed.post", "record": ["$type": "app.bsky.feed.post", "text": "bye", "createdAt": "2026-11-30T00:00:00Z"]],
                auth: bearer)
            #expect(written == 200)

            #expect(try await post(client, "com.atproto.server.requestAccountDelete", [:], auth: bearer).0 == 200)
            let token = try #require(mailer.lastToken)
            #expect(mailer.sent.withLock { $0.last?.to } == "doomed@example.com")
            // The wrong password, or a wrong token: refused, and the token still works after.
            #expect(try await post(client, "com.atproto.server.deleteAccount", ["did": .string(did), "password": "wrong", "token": .string(token)]).0 == 401)
            let (badToken, badBody) = try await post(client, "com.atproto.server.deleteAccount", ["did": .string(did), "password": "correct horse", "token": "AAAAA-AAAAA"])
            #expect(badToken == 400 && badBody?["error"] == "InvalidToken")
            #expect(try await post(client, "com.atproto.server.deleteAccount", ["did": .string(did), "password": "correct horse", "token": .string(token)]).0 == 200)
            // Once only.
            #expect(try await post(client, "com.atproto.server.deleteAccount", ["did": .string(did), "password": "correct horse", "token": .string(token)]).0 != 200)
            // Gone: the repository, the login, the data on disk; #account says deleted.
            let (repo, repoBody) = try await get(client, "/xrpc/com.atproto.sync.getRepoStatus?did=\(did)")
            #expect(repo == 400 && repoBody?["error"] == "RepoNotFound")
            #expect(try await post(client, "com.atproto.server.createSession", ["identifier": "doomed.test", "password": "correct horse"]).0 == 401)
            let blobDirectory = data.appendingPathComponent("blobs/" + did.replacingOccurrences(of: ":", with: "_"))
            #expect(!FileManager.default.fileExists(atPath: blobDirectory.path))
            let key = data.appendingPathComponent("secrets/keys/" + did.replacingOccurrences(of: ":", with: "_") + ".key")
            #expect(!FileManager.default.fileExists(atPath: key.path))
        }
    }

    @Test func anExpiredTokenIsRefused() async throws {
        let mailer = CapturingMailer()
        let (app, _) = try await app(mailer, tokenLifetime: -1)
        try await app.test(.router) { client in
            let (_, created) = try await post(client, "com.atproto.server.createAccount",
                ["handle": "later.test", "password": "correct horse", "email": "later@example.com"])
            let did = try #require(created?["did"]?.stringValue)
            _ = try await post(client, "com.atproto.server.requestAccountDelete", [:], auth: "Bearer " + (created?["accessJwt"]?.stringValue ?? ""))
            let token = try #require(mailer.lastToken)
            let (status, body) = try await post(client, "com.atproto.server.deleteAccount", ["did": .string(did), "password": "correct horse", "token": .string(token)])
            #expect(status == 400 && body?["error"] == "InvalidToken")
            #expect(try await get(client, "/xrpc/com.atproto.sync.getRepoStatus?did=\(did)").0 == 200)
        }
    }

    @Test func theOperatorDeletesAndResetsPasswords() async throws {
        let (app, _) = try await app(CapturingMailer())
        let admin = "Basic " + Data("admin:pw-admin".utf8).base64EncodedString()
        try await app.test(.router) { client in
            let (_, created) = try await post(client, "com.atproto.server.createAccount", ["handle": "ruled.test", "password": "first password"])
            let did = try #require(created?["did"]?.stringValue)
            let info = try await client.execute(uri: "/xrpc/com.atproto.admin.getAccountInfo?did=\(did)", method: .get, headers: [.authorization: admin]) {
                try DataValue(json: Data(buffer: $0.body))
            }
            #expect(info["handle"] == "ruled.test")
            #expect(try await post(client, "com.atproto.admin.updateAccountPassword", ["did": .string(did), "password": "second password"]).0 == 401)
            #expect(try await post(client, "com.atproto.admin.updateAccountPassword", ["did": .string(did), "password": "second password"], auth: admin).0 == 200)
            #expect(try await post(client, "com.atproto.server.createSession", ["identifier": "ruled.test", "password": "first password"]).0 == 401)
            #expect(try await post(client, "com.atproto.server.createSession", ["identifier": "ruled.test", "password": "second password"]).0 == 200)
            #expect(try await post(client, "com.atproto.admin.deleteAccount", ["did": .string(did)], auth: admin).0 == 200)
            #expect(try await get(client, "/xrpc/com.atproto.sync.getRepoStatus?did=\(did)").0 == 400)
        }
    }
}

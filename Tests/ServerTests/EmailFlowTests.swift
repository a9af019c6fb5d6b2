import ATData
import Foundation
import HummingbirdTesting
@testable import Server
import Testing

/// Email confirmation, password reset and email change in process, with the
/// mail captured: each token works once, only for its purpose, and not after
/// it expires.
@Suite("Accounts: email")
struct EmailFlowTests: InProcessPDS {
    @Test func confirmResetAndChange() async throws {
        let mailer = CapturingMailer()
        let (app, _) = try await app(mailer)
        try await app.test(.router) { client in
            let (_, created) = try await post(client, "com.atproto.server.createAccount",
                ["handle": "postbox.test", "password": "first password", "email": "postbox@example.com"])
            let auth = "Bearer " + (created?["accessJwt"]?.stringValue ?? "")

            // Confirmation.
            #expect(try await post(client, "com.atproto.server.requestEmailConfirmation", [:], auth: auth).0 == 200)
            let confirm = try #require(mailer.lastToken)
            #expect(mailer.sent.withLock { $0.last?.to } == "postbox@example.com")
            #expect(try await post(client, "com.atproto.server.confirmEmail", ["email": "other@example.com", "token": .string(confirm)], auth: auth).1?["error"] == "InvalidEmail")
            #expect(try await post(client, "com.atproto.server.confirmEmail", ["email": "Postbox@Example.com", "token": .string(confirm)], auth: auth).0 == 200)
            #expect(try await post(client, "com.atproto.server.confirmEmail", ["email": "postbox@example.com", "token": .string(confirm)], auth: auth).1?["error"] == "InvalidToken")
            let session = try await client.execute(uri: "/xrpc/com.atproto.server.getSession", method: .get, headers: [.authorization: auth]) {
                try DataValue(json: Data(buffer: $0.body))
            }
            #expect(session["emailConfirmed"] == true)

            // Password reset: no session needed; an unknown address looks the same.
            #expect(try await post(client, "com.atproto.server.requestPasswordReset", ["email": "nobody@example.com"]).0 == 200)
            let before = mailer.sent.withLock { $0.count }
            #expect(try await post(client, "com.atproto.server.requestPasswordReset", ["email": "postbox@example.com"]).0 == 200)
            #expect(mailer.sent.withLock { $0.count } == before + 1)
            let reset = try #require(mailer.lastToken)
            // A token of another purpose does not reset.
            #expect(try await post(client, "com.atproto.server.resetPassword", ["token": .string(confirm), "password": "second password"]).0 == 400)
            #expect(try await post(client, "com.atproto.server.resetPassword", ["token": .string(reset), "password": "second password"]).0 == 200)
            #expect(try await post(client, "com.atproto.server.resetPassword", ["token": .string(reset), "password": "third password"]).0 == 400)
            #expect(try await post(client, "com.atproto.server.createSession", ["identifier": "postbox.test", "password": "second password"]).0 == 200)

            // Change: the confirmed address must approve it with a token.
            let (_, update) = try await post(client, "com.atproto.server.requestEmailUpdate", [:], auth: auth)
            #expect(update?["tokenRequired"] == true)
            let change = try #require(mailer.lastToken)
            #expect(try await post(client, "com.atproto.server.updateEmail", ["email": "new@example.com"], auth: auth).1?["error"] == "TokenRequired")
            #expect(try await post(client, "com.atproto.server.updateEmail", ["email": "new@example.com", "token": .string(change)], auth: auth).0 == 200)
            let changed = try await client.execute(uri: "/xrpc/com.atproto.server.getSession", method: .get, headers: [.authorization: auth]) {
                try DataValue(json: Data(buffer: $0.body))
            }
            #expect(changed["email"] == "new@example.com" && changed["emailConfirmed"] == false)
        }
    }

    @Test func expiredTokensAreRefused() async throws {
        let mailer = CapturingMailer()
        let (app, _) = try await app(mailer, tokenLifetime: -1)
        try await app.test(.router) { client in
            _ = try await post(client, "com.atproto.server.createAccount", ["handle": "late.test", "password": "first password", "email": "late@example.com"])
            _ = try await post(client, "com.atproto.server.requestPasswordReset", ["email": "late@example.com"])
            let token = try #require(mailer.lastToken)
            #expect(try await post(client, "com.atproto.server.resetPassword", ["token": .string(token), "password": "second password"]).1?["error"] == "ExpiredToken")
        }
    }
}

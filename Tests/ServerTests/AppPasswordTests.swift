import ATData
import Foundation
import HummingbirdTesting
@testable import Server
import Testing

/// App passwords in process: made and listed, sessions opened with them that
/// cannot manage the account, chat only for privileged ones, and revocation
/// ending their sessions, access and refresh tokens alike.
@Suite("Accounts: app passwords")
struct AppPasswordTests: InProcessPDS {
    @Test func appPasswordSessionsAreRestrictedAndEndWithRevocation() async throws {
        let (app, _) = try await app()
        try await app.test(.router) { client in
            let (_, created) = try await post(client, "com.atproto.server.createAccount", ["handle": "applet.test", "password": "main password"])
            let did = try #require(created?["did"]?.stringValue)
            let full = "Bearer " + (created?["accessJwt"]?.stringValue ?? "")
            let (made, password) = try await post(client, "com.atproto.server.createAppPassword", ["name": "phone"], auth: full)
            #expect(made == 200)
            let secret = try #require(password?["password"]?.stringValue)
            #expect(secret.count == 19 && password?["privileged"] == false)
            #expect(try await post(client, "com.atproto.server.createAppPassword", ["name": "phone"], auth: full).1?["error"] == "DuplicateAppPassword")

            // Logging in with it: a session of the app-password scope.
            let (login, session) = try await post(client, "com.atproto.server.createSession", ["identifier": "applet.test", "password": .string(secret)])
            #expect(login == 200)
            let app = "Bearer " + (session?["accessJwt"]?.stringValue ?? "")
            let refresh = "Bearer " + (session?["refreshJwt"]?.stringValue ?? "")
            // It writes records…
            let record: DataValue = ["$type": "app.bsky.feed.post", "text": "from the phone", "createdAt": "2026-11-30T00:00:00Z"]
            #expect(try await post(client, "com.atproto.repo.createRecord", ["repo": .string(did), "collection": "app.bsky.feed.post", "record": record], auth: app).0 == 200)
            // …and lists app passwords, but does not manage them, the account or its identity.
            let listed = try await client.execute(uri: "/xrpc/com.atproto.server.listAppPasswords", method: .get, headers: [.authorization: app]) {
                try DataValue(json: Data(buffer: $0.body))
            }
            #expect(listed["passwords"]?.arrayValue?.count == 1)
            for (nsid, body) in [
                ("com.atproto.server.createAppPassword", ["name": "another"] as DataValue),
                ("com.atproto.server.revokeAppPassword", ["name": "phone"]),
                ("com.atproto.server.deactivateAccount", [:]),
                ("com.atproto.server.requestAccountDelete", [:]),
                ("com.atproto.identity.updateHandle", ["handle": "other.test"]),
            ] {
                let (status, error) = try await post(client, nsid, body, auth: app)
                #expect(status == 400 && error?["error"] == "InvalidToken", "\(nsid)")
            }
            // No chat for a non-privileged app password.
            let chat = try await client.execute(
                uri: "/xrpc/com.atproto.server.getServiceAuth?aud=did:web:chat.test&lxm=chat.bsky.convo.listConvos", method: .get,
                headers: [.authorization: app]) { $0.status.code }
            #expect(chat == 400)

            // Revoked: its access token and its refresh token stop working at once.
            #expect(try await post(client, "com.atproto.server.revokeAppPassword", ["name": "phone"], auth: full).0 == 200)
            #expect(try await post(client, "com.atproto.repo.createRecord", ["repo": .string(did), "collection": "app.bsky.feed.post", "record": record], auth: app).0 == 400)
            #expect(try await post(client, "com.atproto.server.refreshSession", [:], auth: refresh).0 == 400)
            #expect(try await post(client, "com.atproto.server.createSession", ["identifier": "applet.test", "password": .string(secret)]).0 == 401)
            // The main password still works.
            #expect(try await post(client, "com.atproto.server.createSession", ["identifier": "applet.test", "password": "main password"]).0 == 200)
        }
    }

    @Test func aPrivilegedAppPasswordReachesChatAndRefreshesAsItself() async throws {
        let (app, _) = try await app()
        try await app.test(.router) { client in
            let (_, created) = try await post(client, "com.atproto.server.createAccount", ["handle": "priv.test", "password": "main password"])
            let full = "Bearer " + (created?["accessJwt"]?.stringValue ?? "")
            let (_, password) = try await post(client, "com.atproto.server.createAppPassword", ["name": "chat", "privileged": true], auth: full)
            let secret = try #require(password?["password"]?.stringValue)
            let (_, session) = try await post(client, "com.atproto.server.createSession", ["identifier": "priv.test", "password": .string(secret)])
            let (refreshed, again) = try await post(client, "com.atproto.server.refreshSession", [:], auth: "Bearer " + (session?["refreshJwt"]?.stringValue ?? ""))
            #expect(refreshed == 200)
            let app = "Bearer " + (again?["accessJwt"]?.stringValue ?? "")
            let chat = try await client.execute(
                uri: "/xrpc/com.atproto.server.getServiceAuth?aud=did:web:chat.test&lxm=chat.bsky.convo.listConvos", method: .get,
                headers: [.authorization: app]) { $0.status.code }
            #expect(chat == 200)
            // Still not the account's manager.
            #expect(try await post(client, "com.atproto.server.deactivateAccount", [:], auth: app).0 == 400)
        }
    }
}

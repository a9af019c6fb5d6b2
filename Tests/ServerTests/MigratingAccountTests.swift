import ATData
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
@testable import Server
import Testing

/// `server.createAccount` with an existing DID, in process: only with a
/// service-auth token the DID's current key signed for this server and this
/// method; the account starts deactivated.
@Suite("Accounts: creating an account that moves here")
struct MigratingAccountTests: InProcessPDS {
    func create(_ client: some TestClientProtocol, did: String, handle: String, token: String?) async throws -> (Int, DataValue?) {
        try await post(client, "com.atproto.server.createAccount",
            ["did": .string(did), "handle": .string(handle), "password": "moving horse"], auth: token.map { "Bearer " + $0 })
    }

    func serviceAuth(_ client: some TestClientProtocol, auth: String, aud: String, lxm: String) async throws -> String {
        let (_, body) = try await get(client, "/xrpc/com.atproto.server.getServiceAuth?aud=\(aud.replacingOccurrences(of: "%", with: "%25"))&lxm=\(lxm)", auth: auth)
        return try #require(body?["token"]?.stringValue)
    }

    @Test func onlyTheDIDsKeyForThisServerAndMethodCreatesIt() async throws {
        let (app, _) = try await app()
        let admin = "Basic " + Data("admin:pw-admin".utf8).base64EncodedString()
        try await app.test(.router) { client in
            let (_, describe) = try await get(client, "/xrpc/com.atproto.server.describeServer")
            let server = try #require(describe?["did"]?.stringValue)
            let (_, mover) = try await post(client, "com.atproto.server.createAccount", ["handle": "leaving.test", "password": "pw-leaving"])
            let (_, other) = try await post(client, "com.atproto.server.createAccount", ["handle": "bystander.test", "password": "pw-other"])
            let did = try #require(mover?["did"]?.stringValue)
            let moverAuth = "Bearer " + (mover?["accessJwt"]?.stringValue ?? "")
            let otherAuth = "Bearer " + (other?["accessJwt"]?.stringValue ?? "")
            let createNSID = "com.atproto.server.createAccount"
            let good = try await serviceAuth(client, auth: moverAuth, aud: server, lxm: createNSID)
            let wrongMethod = try await serviceAuth(client, auth: moverAuth, aud: server, lxm: "com.atproto.repo.createRecord")
            let wrongAudience = try await serviceAuth(client, auth: moverAuth, aud: "did:web:elsewhere.example", lxm: createNSID)
            let someoneElse = try await serviceAuth(client, auth: otherAuth, aud: server, lxm: createNSID)
            // The account leaves this server; its DID (and key) stay in the directory.
            #expect(try await post(client, "com.atproto.admin.deleteAccount", ["did": .string(did)], auth: admin).0 == 200)

            let refusals: [(String, String?, String)] = [
                ("no token", nil, "AuthMissing"), ("another method", wrongMethod, "BadJwtLexiconMethod"),
                ("another audience", wrongAudience, "BadJwtAudience"), ("another DID's token", someoneElse, "AuthenticationRequired"),
            ]
            for (name, token, error) in refusals {
                let (code, body) = try await create(client, did: did, handle: "back.test", token: token)
                #expect(code == 401 && body?["error"]?.stringValue == error, "\(name): \(String(describing: body))")
            }
            let (code, created) = try await create(client, did: did, handle: "back.test", token: good)
            #expect(code == 200, "\(String(describing: created))")
            #expect(created?["did"]?.stringValue == did && created?["handle"] == "back.test")
            // Deactivated until it is activated; its repository is there, empty.
            let (_, session) = try await post(client, "com.atproto.server.createSession", ["identifier": "back.test", "password": "moving horse"])
            #expect(session?["active"] == false && session?["status"] == "deactivated")
            let (_, status) = try await get(client, "/xrpc/com.atproto.server.checkAccountStatus", auth: "Bearer " + (session?["accessJwt"]?.stringValue ?? ""))
            #expect(status?["activated"] == false && status?["indexedRecords"] == 0)
            // The same token again: refused (used once), and the DID has its account.
            #expect(try await create(client, did: did, handle: "again.test", token: good).0 != 200)
        }
    }
}

import ATData
import Foundation
import Hummingbird
import HummingbirdTesting
@testable import Server
import Testing

/// The PLC operations of a move, in process: the recommended credentials,
/// the emailed token (once only), the signature with the server's rotation
/// key, and the checks before an operation goes to the directory.
@Suite("Accounts: PLC operations")
struct PLCOperationTests: InProcessPDS {
    /// `value` with the member at `path` replaced.
    func replacing(_ value: DataValue, _ path: ArraySlice<String>, with new: DataValue) -> DataValue {
        guard let key = path.first, var map = value.mapValue else { return new }
        map[key] = replacing(map[key] ?? .null, path.dropFirst(), with: new)
        return .map(map)
    }

    @Test func aSignedOperationIsCheckedAndSubmitted() async throws {
        let mailer = CapturingMailer()
        let (app, _) = try await app(mailer)
        try await app.test(.router) { client in
            let (did, auth) = try await newAccount(client, "plcop.test", email: "plcop@example.com")

            let (_, recommended) = try await get(client, "/xrpc/com.atproto.identity.getRecommendedDidCredentials", auth: auth)
            #expect(recommended?["alsoKnownAs"] == ["at://plcop.test"])
            #expect(recommended?["rotationKeys"]?.arrayValue?.count == 1)
            #expect(recommended?["verificationMethods"]?["atproto"]?.stringValue?.hasPrefix("did:key:z") == true)
            #expect(recommended?["services"]?["atproto_pds"]?["endpoint"] == "http://127.0.0.1:2583")

            // No token, a wrong one: refused.
            let (none, noneBody) = try await post(client, "com.atproto.identity.signPlcOperation", [:], auth: auth)
            #expect(none == 400 && noneBody?["error"] == "InvalidToken")
            #expect(try await post(client, "com.atproto.identity.signPlcOperation", ["token": "AAAAA-AAAAA"], auth: auth).1?["error"] == "ExpiredToken")

            #expect(try await post(client, "com.atproto.identity.requestPlcOperationSignature", [:], auth: auth).0 == 200)
            #expect(mailer.sent.withLock { $0.last?.subject } == "PLC update requested")
            let token = try #require(mailer.lastToken)
            let (signed, body) = try await post(client, "com.atproto.identity.signPlcOperation",
                ["token": .string(token), "alsoKnownAs": ["at://plcop.test", "at://plcop.example.com"]], auth: auth)
            #expect(signed == 200)
            let operation = try #require(body?["operation"])
            let (_, last) = try await get(client, "/\(did)/log/last")
            let genesis = try PLCOperation(value: try #require(last))
            #expect(operation["prev"]?.stringValue == genesis.cid.description)
            #expect(operation["verificationMethods"] == genesis.value["verificationMethods"])
            // The token worked once.
            #expect(try await post(client, "com.atproto.identity.signPlcOperation", ["token": .string(token)], auth: auth).1?["error"] == "ExpiredToken")

            // Operations that would take the account away from this server, or that were changed after signing.
            let cases: [(String, DataValue, String)] = [
                ("another PDS", replacing(operation, ["services", "atproto_pds", "endpoint"], with: "https://elsewhere.example"), "atproto_pds"),
                ("another key", replacing(operation, ["verificationMethods", "atproto"], with: "did:key:zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF"), "signing key"),
                ("no rotation key here", replacing(operation, ["rotationKeys"], with: ["did:key:zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF"]), "rotation key"),
                ("another handle", replacing(operation, ["alsoKnownAs"], with: ["at://someone.test"]), "alsoKnownAs"),
                ("changed after signing", replacing(operation, ["alsoKnownAs"], with: ["at://plcop.test"]), "refused"),
            ]
            for (name, candidate, words) in cases {
                let (code, refusal) = try await post(client, "com.atproto.identity.submitPlcOperation", ["operation": candidate], auth: auth)
                #expect(code == 400 && refusal?["message"]?.stringValue?.contains(words) == true, "\(name): \(String(describing: refusal))")
            }
            #expect(try await get(client, "/\(did)/log/last").1 == genesis.value)

            #expect(try await post(client, "com.atproto.identity.submitPlcOperation", ["operation": operation], auth: auth).0 == 200)
            let log = try await client.execute(uri: "/\(did)/log", method: .get) { try JSONSerialization.jsonObject(with: Data(buffer: $0.body)) }
            #expect((log as? [Any])?.count == 2)
            #expect(try await get(client, "/\(did)").1?["alsoKnownAs"] == ["at://plcop.test", "at://plcop.example.com"])
            #expect(try await get(client, "/\(did)/log/last").1?["sig"] == operation["sig"])
        }
    }

    @Test func appPasswordsCannotTouchTheIdentity() async throws {
        let (app, _) = try await app()
        try await app.test(.router) { client in
            let (_, auth) = try await newAccount(client, "plcapp.test", email: "plcapp@example.com")
            let (_, app) = try await post(client, "com.atproto.server.createAppPassword", ["name": "phone", "privileged": true], auth: auth)
            let (_, session) = try await post(client, "com.atproto.server.createSession",
                ["identifier": "plcapp.test", "password": .string(app?["password"]?.stringValue ?? "")])
            let appAuth = "Bearer " + (session?["accessJwt"]?.stringValue ?? "")
            for nsid in ["com.atproto.identity.requestPlcOperationSignature", "com.atproto.identity.signPlcOperation",
                         "com.atproto.identity.submitPlcOperation", "com.atproto.repo.importRepo"] {
                let (code, body) = try await post(client, nsid, ["operation": [:]], auth: appAuth)
                #expect(code == 400 && body?["message"] == "Bad token scope", "\(nsid)")
            }
        }
    }
}

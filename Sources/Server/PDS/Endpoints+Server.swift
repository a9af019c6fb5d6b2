import ATData
import ATSyntax
import Foundation
import Hummingbird

extension PDS {
    /// `com.atproto.server.*` and `com.atproto.identity.resolveHandle`.
    func registerServerMethods(_ methods: inout XRPCMethods) {
        let writes = config.writeLimit.map { ("writes", $0) }
        methods.query("com.atproto.server.describeServer") { [self] _ in
            var out: DataMap = DataMap([
                "did": .string(serviceDID), "availableUserDomains": [.string("." + config.handleDomain)],
                "inviteCodeRequired": .bool(config.inviteRequired), "phoneVerificationRequired": false,
            ])
            out["links"] = ["privacyPolicy": .string(publicURL.absoluteString.trimmingTrailingSlash + "/privacy")]
            return .json(.map(out))
        }
        methods.procedure("com.atproto.server.createAccount", limit: writes) { [self] call in
            let admin = try isAdmin(call)
            let input = try await call.input(limit: config.maxJSONBody)
            return .json(try await createAccount(input, admin: admin))
        }
        methods.procedure("com.atproto.server.createSession", limit: writes) { [self] call in
            .json(try await createSession(try await call.input(limit: config.maxJSONBody)))
        }
        methods.procedure("com.atproto.server.refreshSession") { [self] call in
            .json(try await refreshSession(call))
        }
        methods.procedure("com.atproto.server.deleteSession") { [self] call in
            try await deleteSession(call)
            return .empty
        }
        methods.query("com.atproto.server.getSession") { [self] call in
            let did = try await authenticate(call)
            guard let account = try account(did) else { throw XRPCError.invalidToken("the account is gone") }
            var out = DataMap([
                "did": .string(did.description), "handle": .string(account.handle.description), "active": true,
            ])
            if let email = account.email { out["email"] = .string(email) }
            return .json(.map(out))
        }
        methods.procedure("com.atproto.server.createInviteCode") { [self] call in
            guard try isAdmin(call) else { throw XRPCError(.unauthorized, "AuthenticationRequired", "The admin password is required") }
            let input = try await call.input(limit: config.maxJSONBody)
            guard let uses = input["useCount"]?.intValue, uses > 0 else { throw XRPCError.invalidRequest("useCount must be a positive integer") }
            let code = config.handleDomain.replacingOccurrences(of: ".", with: "-") + "-" + UUID().uuidString.prefix(13).lowercased()
            try accounts.createInviteCode(code, uses: Int(uses))
            return .json(["code": .string(code)])
        }
        methods.query("com.atproto.identity.resolveHandle") { [self] call in
            let handle = try call.require("handle") { try Handle($0) }
            guard let account = try accounts.account(handle: handle) else {
                throw XRPCError.invalidRequest("Unable to resolve handle")
            }
            return .json(["did": .string(account.did.description)])
        }
    }
}

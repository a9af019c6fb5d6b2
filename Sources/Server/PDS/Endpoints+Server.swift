import ATData
import ATProtoAPI
import ATSyntax
import Foundation
import Hummingbird

private typealias ServerAPI = Com.Atproto.Server

extension PDS {
    /// `com.atproto.server.*`.
    func registerServerMethods(_ methods: inout XRPCMethods) {
        let writes = config.writeLimit.map { ("writes", $0) }
        methods.query(ServerAPI.DescribeServer.nsid) { [self] _ in
            let privacy = try? URI(publicURL.absoluteString.trimmingTrailingSlash + "/privacy")
            return .lex(ServerAPI.DescribeServer.Output(
                inviteCodeRequired: config.inviteRequired, phoneVerificationRequired: false,
                availableUserDomains: ["." + config.handleDomain], links: .init(privacyPolicy: privacy), did: try DID(serviceDID)))
        }
        methods.procedure(ServerAPI.CreateAccount.nsid, limit: writes) { [self] call in
            let admin = try isAdmin(call)
            let input = try await call.input(ServerAPI.CreateAccount.Input.self, limit: config.maxJSONBody)
            if let did = input.did {
                // An account moving here: its DID's key signs a service-auth token for this server.
                return .lex(try await createMigratingAccount(input, did: did, serviceAuth: try call.bearer(), admin: admin))
            }
            return .lex(try await createAccount(input, admin: admin))
        }
        methods.procedure(ServerAPI.CreateSession.nsid, limit: writes) { [self] call in
            .lex(try await createSession(try await call.input(ServerAPI.CreateSession.Input.self, limit: config.maxJSONBody)))
        }
        methods.procedure(ServerAPI.RefreshSession.nsid) { [self] call in
            .lex(ServerAPI.RefreshSession.Output(try await refreshSession(call)))
        }
        methods.procedure(ServerAPI.DeleteSession.nsid) { [self] call in
            try await deleteSession(call)
            return .empty
        }
        methods.query(ServerAPI.GetSession.nsid) { [self] call in
            let did = try await authenticate(call)
            guard let account = try await account(did) else { throw XRPCError.invalidToken("the account is gone") }
            return .lex(ServerAPI.GetSession.Output(
                handle: account.handle, did: did, email: account.email, emailConfirmed: account.emailConfirmedAt != nil, active: account.isActive,
                status: account.status))
        }
        methods.query(ServerAPI.GetServiceAuth.nsid) { [self] call in
            let credentials = try await credentials(call)
            let did = credentials.did
            let params = try call.parameters(ServerAPI.GetServiceAuth.Parameters.self)
            if credentials.scope == .appPass, params.lxm?.description.hasPrefix("chat.bsky.") ?? true {
                throw XRPCError.invalidToken("Bad token method: an app password's token must name a method, and not chat's")
            }
            let expires = params.exp.map { Date(timeIntervalSince1970: TimeInterval($0)) }
            return await .lex(ServerAPI.GetServiceAuth.Output(token: try serviceAuthToken(for: did, audience: params.aud, method: params.lxm, expires: expires)))
        }
        methods.procedure(ServerAPI.CreateInviteCode.nsid) { [self] call in
            guard try isAdmin(call) else { throw XRPCError(.unauthorized, "AuthenticationRequired", "The admin password is required") }
            let input = try await call.input(ServerAPI.CreateInviteCode.Input.self, limit: config.maxJSONBody)
            guard input.useCount > 0 else { throw XRPCError.invalidRequest("useCount must be a positive integer") }
            let code = config.handleDomain.replacingOccurrences(of: ".", with: "-") + "-" + UUID().uuidString.prefix(13).lowercased()
            try await accounts.createInviteCode(code, uses: input.useCount)
            return .lex(ServerAPI.CreateInviteCode.Output(code: code))
        }
    }
}

extension Com.Atproto.Server.RefreshSession.Output {
    /// The same session, as `refreshSession` answers it.
    init(_ session: Com.Atproto.Server.CreateSession.Output) {
        self.init(
            accessJwt: session.accessJwt, refreshJwt: session.refreshJwt, handle: session.handle, did: session.did,
            email: session.email, active: session.active)
    }
}

import ATData
import ATProtoAPI
import ATSyntax
import Foundation

private typealias ServerAPI = Com.Atproto.Server
private typealias Admin = Com.Atproto.Admin

extension PDS {
    /// A token for email: ten characters of base32 in two groups, as the
    /// reference PDS makes them (`ABCDE-FGHIJ`).
    static func emailToken() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var generator = SystemRandomNumberGenerator()
        let letters = (0..<10).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
        return String(letters[0..<5]) + "-" + String(letters[5...])
    }

    /// Removes `did` from this server: its repository, blobs, signing key,
    /// sessions and preferences, then says so with `#account` (`deleted`).
    /// The DID itself stays with its PLC directory.
    func deleteAccount(_ did: DID) async throws {
        guard try await account(did) != nil else { throw XRPCError.named("AccountNotFound", "No account \(did)") }
        writers.remove(did)
        try repos.deleteRepo(of: did)
        try blobs.deleteAll(did: did)
        try await accounts.deleteAccount(did: did)
        try await keys.deleteSigningKey(for: did)
        forgetAccount(did)
        try await firehose.append(did: did) { FirehoseFrame.account(seq: $0, did: did, active: false, status: "deleted") }
        logger.notice("deleted account \(did)")
    }

    /// `server.requestAccountDelete` and `deleteAccount` (with the emailed
    /// token and the password), and the operator's `admin.deleteAccount`,
    /// `getAccountInfo(s)` and `updateAccountPassword`.
    func registerDeletionMethods(_ methods: inout XRPCMethods) {
        methods.procedure(ServerAPI.RequestAccountDelete.nsid) { [self] call in
            try await mailTokenToOwner(call, purpose: "delete_account", subject: "Account deletion request") { account, token in
                "To delete the account \(account.handle) (\(account.did)), use this token: \(token)"
            }
            return .empty
        }
        methods.procedure(ServerAPI.DeleteAccount.nsid) { [self] call in
            let input = try await call.input(ServerAPI.DeleteAccount.Input.self, limit: config.maxJSONBody)
            let account = try await account(input.did)
            guard await passwords.verify(input.password, hash: account?.passwordHash), account != nil else {
                throw XRPCError(.unauthorized, "AuthenticationRequired", "Invalid did or password")
            }
            guard try await accounts.consumeEmailToken(input.token, purpose: "delete_account", did: input.did, now: Date()) else {
                throw XRPCError.named("InvalidToken", "Token is invalid or expired")
            }
            try await deleteAccount(input.did)
            return .empty
        }
        methods.procedure(Admin.DeleteAccount.nsid) { [self] call in
            guard try isAdmin(call) else { throw XRPCError(.unauthorized, "AuthenticationRequired", "The admin password is required") }
            let input = try await call.input(Admin.DeleteAccount.Input.self, limit: config.maxJSONBody)
            try await deleteAccount(input.did)
            return .empty
        }
        methods.query(Admin.GetAccountInfo.nsid) { [self] call in
            guard try isAdmin(call) else { throw XRPCError(.unauthorized, "AuthenticationRequired", "The admin password is required") }
            let did = try call.parameters(Admin.GetAccountInfo.Parameters.self).did
            guard let account = try await account(did) else { throw XRPCError.named("AccountNotFound", "No account \(did)") }
            return .lex(Self.view(account))
        }
        methods.query(Admin.GetAccountInfos.nsid) { [self] call in
            guard try isAdmin(call) else { throw XRPCError(.unauthorized, "AuthenticationRequired", "The admin password is required") }
            let dids = try call.parameters(Admin.GetAccountInfos.Parameters.self).dids
            var infos = [Admin.Defs.AccountView]()
            for did in dids.prefix(100) {
                if let account = try await account(did) { infos.append(Self.view(account)) }
            }
            return .lex(Admin.GetAccountInfos.Output(infos: infos))
        }
        methods.procedure(Admin.UpdateAccountPassword.nsid) { [self] call in
            guard try isAdmin(call) else { throw XRPCError(.unauthorized, "AuthenticationRequired", "The admin password is required") }
            let input = try await call.input(Admin.UpdateAccountPassword.Input.self, limit: config.maxJSONBody)
            guard try await account(input.did) != nil else { throw XRPCError.named("AccountNotFound", "No account \(input.did)") }
            if let problem = PasswordHasher.validate(input.password) { throw XRPCError.named("InvalidPassword", "Invalid password: \(problem)") }
            try await accounts.setPasswordHash(try await passwords.hash(input.password), did: input.did)
            forgetAccount(input.did)
            return .empty
        }
    }

    private static func view(_ account: AccountRecord) -> Admin.Defs.AccountView {
        Admin.Defs.AccountView(
            did: account.did, handle: account.handle, email: account.email, indexedAt: Datetime(account.createdAt),
            deactivatedAt: account.deactivatedAt.map(Datetime.init))
    }
}

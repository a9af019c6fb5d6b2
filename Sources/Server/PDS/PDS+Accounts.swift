import ATCrypto
import ATData
import ATProtoAPI
import ATSyntax
import Bluesky
import Foundation
import HTTPTypes

extension PDS {
    /// Tokens for a session of `account`, with the refresh token recorded;
    /// with `appPassword`, a session of that app password's scope.
    func session(for account: AccountRecord, appPassword: AppPasswordRecord? = nil) async throws -> Com.Atproto.Server.CreateSession.Output {
        let scope: TokenIssuer.Scope = appPassword.map { $0.privileged ? .appPassPrivileged : .appPass } ?? .access
        let access = try await tokens.issue(scope, for: account.did, appPassword: appPassword?.name)
        let refresh = try await tokens.issue(.refresh, for: account.did)
        try await accounts.storeRefreshToken(id: refresh.id!, did: account.did, expiresAt: refresh.expires, appPassword: appPassword?.name)
        return .init(
            accessJwt: access.token, refreshJwt: refresh.token, handle: account.handle, did: account.did, email: account.email,
            emailConfirmed: account.emailConfirmedAt != nil, active: account.isActive, status: account.status)
    }

    /// Checks a handle under this server's domain: one name of 3 to 30
    /// characters, not reserved.
    ///
    /// - Throws: 400 `InvalidHandle` or `HandleNotAvailable`.
    func checkLocalHandle(_ handle: Handle) throws {
        let suffix = "." + config.handleDomain
        let name = handle.description.hasSuffix(suffix) ? String(handle.description.dropLast(suffix.count)) : ""
        guard !name.isEmpty, !name.contains("."), (3...30).contains(name.count) else {
            throw XRPCError.named("InvalidHandle", "Handle must be a name of 3 to 30 characters under \(suffix)")
        }
        guard !AccountRules.isReserved(name) else { throw XRPCError.named("HandleNotAvailable", "Reserved handle: \(handle)") }
    }

    /// `com.atproto.server.createAccount`: checks the handle and the gate,
    /// makes a signing key, registers a `did:plc` with a signed genesis
    /// operation, and creates the repository.
    func createAccount(_ input: Com.Atproto.Server.CreateAccount.Input, admin: Bool) async throws -> Com.Atproto.Server.CreateAccount.Output {
        let handle = input.handle
        try checkLocalHandle(handle)
        let password = try await checkNewAccount(input, admin: admin)
        let email = input.email
        let signingKey = try Keys.generate(config.signingCurve)
        let operation = try PLCOperation.sign(
            .init(
                rotationKeys: [rotationKey.publicKey.didKey], signingKey: signingKey.publicKey.didKey,
                alsoKnownAs: ["at://\(handle)"], pdsEndpoint: publicURL.absoluteString.trimmingTrailingSlash, prev: nil),
            with: rotationKey)
        let did = operation.did
        try await submitToPLC(operation, did: did)
        try await keys.storeSigningKey(signingKey, for: did)
        let account = AccountRecord(
            did: did, handle: handle, email: email, passwordHash: try await passwords.hash(password), createdAt: Date())
        do {
            try await accounts.createAccount(account)
        } catch let error as StorageError where error.code == .conflict {
            throw XRPCError.named("HandleNotAvailable", "Handle or email already taken")
        }
        let writer = try RepoWriter.create(did: did, key: signingKey, store: repos, commits: commits, publish: publisher)
        cache(writer)
        try await firehose.append(did: did) { FirehoseFrame.identity(seq: $0, did: did, handle: handle) }
        try await firehose.append(did: did) { FirehoseFrame.account(seq: $0, did: did, active: true) }
        logger.info("created account \(handle) \(did)")
        let session = try await session(for: account)
        return .init(
            accessJwt: session.accessJwt, refreshJwt: session.refreshJwt, handle: session.handle, did: session.did,
            didDoc: operation.document(for: did))
    }

    /// The checks every new account passes, after its handle's: a valid
    /// password, a valid email, a free handle and email, and the invite code
    /// when the server asks for one (used up here, so this comes last).
    ///
    /// - Returns: the password.
    func checkNewAccount(_ input: Com.Atproto.Server.CreateAccount.Input, admin: Bool) async throws -> String {
        guard let password = input.password, !password.isEmpty else {
            throw XRPCError.invalidRequest("Input must have the property \"password\"")
        }
        if let problem = PasswordHasher.validate(password) { throw XRPCError.named("InvalidPassword", "Invalid password: \(problem)") }
        if let email = input.email, let problem = AccountRules.emailProblem(email) {
            throw XRPCError.named("InvalidEmail", "Invalid email: \(problem)")
        }
        if try await accounts.account(handle: input.handle) != nil {
            throw XRPCError.named("HandleNotAvailable", "Handle already taken: \(input.handle)")
        }
        if let email = input.email, try await accounts.account(email: email) != nil {
            throw XRPCError.invalidRequest("Email already taken: \(email)")
        }
        if config.inviteRequired && !admin {
            guard let code = input.inviteCode, try await accounts.useInviteCode(code) else {
                throw XRPCError.named("InvalidInviteCode", "Provided invite code not available")
            }
        }
        return password
    }

    /// Sends a PLC operation to the configured directory: the embedded one, or an external one over HTTP.
    func submitToPLC(_ operation: PLCOperation, did: DID) async throws {
        guard let external = config.plcURL else {
            try await plc.submit(operation, for: did)
            return
        }
        guard let url = URL(string: external.absoluteString.trimmingTrailingSlash + "/" + did.description) else {
            throw XRPCError.internalError("the PLC directory's URL is invalid")
        }
        var request = HTTPRequest(method: .post, url: url)
        request.headerFields[.contentType] = "application/json"
        let response = try await outbound.send(request, body: [UInt8](operation.value.jsonData()), timeout: .seconds(15))
        let body = try await response.body.collect(upTo: 1 << 16)
        guard response.head.status.code < 300 else {
            let reason = String(decoding: body.prefix(1000), as: UTF8.self)
            if (400..<500).contains(response.head.status.code) { throw PLCError(reason) }
            throw XRPCError.internalError("the PLC directory failed: \(reason)")
        }
    }

    /// `com.atproto.server.createSession`. Attempts are limited per account
    /// (``ServerConfig/loginLimit``) as well as per client, and a login
    /// takes as long whether the account exists or not.
    func createSession(_ input: Com.Atproto.Server.CreateSession.Input) async throws -> Com.Atproto.Server.CreateSession.Output {
        let identifier = input.identifier
        let password = input.password
        let account: AccountRecord?
        if let did = try? DID(identifier) {
            account = try await accounts.account(did: did)
        } else if identifier.contains("@") {
            account = try await accounts.account(email: identifier)
        } else {
            if let handle = try? Handle(identifier) {
                account = try await accounts.account(handle: handle)
            } else {
                account = nil
            }
        }
        // Counted per account whichever identifier names it (handle, DID or email).
        if let rule = config.loginLimit {
            _ = try limiter.take("login", rule: rule, key: account?.did.description ?? identifier.lowercased())
        }
        // The account's password, else one of its app passwords (checked only when the password fails).
        var appPassword: AppPasswordRecord?
        if await !passwords.verify(password, hash: account?.passwordHash) {
            let candidates = if let account { try await accounts.appPasswords(did: account.did) } else { [AppPasswordRecord]() }
            for candidate in candidates where await passwords.verify(password, hash: candidate.passwordHash) {
                appPassword = candidate
                break
            }
            guard appPassword != nil else { throw XRPCError(.unauthorized, "AuthenticationRequired", "Invalid identifier or password") }
        }
        guard let account else { throw XRPCError(.unauthorized, "AuthenticationRequired", "Invalid identifier or password") }
        // A deactivated account may log in (to activate itself); a taken-down one may not.
        if account.takedownRef != nil { throw XRPCError(.unauthorized, "AccountTakedown", "Account has been taken down") }
        return try await session(for: account, appPassword: appPassword)
    }

    /// `com.atproto.server.refreshSession`: rotates the refresh token.
    func refreshSession(_ call: XRPCRequest) async throws -> Com.Atproto.Server.CreateSession.Output {
        let (account, appPassword) = try await consumeRefreshToken(call)
        return try await session(for: account, appPassword: appPassword)
    }

    /// `com.atproto.server.deleteSession`: revokes the refresh token.
    func deleteSession(_ call: XRPCRequest) async throws {
        _ = try await consumeRefreshToken(call)
    }

    /// The session's account and app password, its refresh token used up.
    private func consumeRefreshToken(_ call: XRPCRequest) async throws -> (AccountRecord, AppPasswordRecord?) {
        let token = try call.bearer()
        let verified: (did: DID, id: String?)
        do {
            verified = try await tokens.verify(token, scope: .refresh)
        } catch .expired {
            throw XRPCError.expiredToken
        } catch .invalid(let why) {
            throw XRPCError.invalidToken(why)
        }
        guard let id = verified.id, let consumed = try await accounts.consumeRefreshToken(id: id) else {
            throw XRPCError.named("ExpiredToken", "Token has been revoked")
        }
        guard let account = try await account(verified.did) else { throw XRPCError.invalidToken("the account is gone") }
        guard let name = consumed else { return (account, nil) }
        // A revoked app password's sessions end (its refresh tokens went with it; this is the race).
        guard let appPassword = try await accounts.appPasswords(did: account.did).first(where: { $0.name == name }) else {
            throw XRPCError.named("ExpiredToken", "Token has been revoked")
        }
        return (account, appPassword)
    }

    func cache(_ writer: RepoWriter) {
        writers.insert(writer)
    }
}

extension String {
    var trimmingTrailingSlash: String {
        var text = self
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }
}

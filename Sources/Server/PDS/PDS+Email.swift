import ATProtoAPI
import ATSyntax
import Foundation

private typealias ServerAPI = Com.Atproto.Server

extension PDS {
    /// Makes a one-use token for `purpose`, keeps it for the configured
    /// lifetime, and mails it to `address`.
    func mailToken(purpose: String, did: DID, to address: String, subject: String, _ text: (String) -> String) async throws {
        let token = Self.emailToken()
        try await accounts.storeEmailToken(token, purpose: purpose, did: did, expiresAt: Date().addingTimeInterval(config.emailTokenLifetime))
        try await config.mailer.send(
            to: address, subject: subject,
            body: text(token) + "\nThe token works once, for \(Int(config.emailTokenLifetime / 60)) minutes.")
    }

    /// For the requests of a full session (email confirmation, the PLC
    /// operation, deletion): mails a token for `purpose` to the account's own
    /// address.
    ///
    /// - Throws: 400 `InvalidRequest` when the account has no email address.
    func mailTokenToOwner(
        _ call: XRPCRequest, purpose: String, subject: String, _ text: @escaping (AccountRecord, String) -> String
    ) async throws {
        let did = try await authenticateFully(call)
        guard let account = try await account(did), let email = account.email else {
            throw XRPCError.invalidRequest("The account has no email address to send the token to")
        }
        try await mailToken(purpose: purpose, did: did, to: email, subject: subject) { text(account, $0) }
    }

    /// Email confirmation, password reset and email change, each with a
    /// one-use token sent by email.
    func registerEmailMethods(_ methods: inout XRPCMethods) {
        methods.procedure(ServerAPI.RequestEmailConfirmation.nsid) { [self] call in
            try await mailTokenToOwner(call, purpose: "confirm_email", subject: "Confirm your email") { account, token in
                "To confirm this address for \(account.handle), use this token: \(token)"
            }
            return .empty
        }
        methods.procedure(ServerAPI.ConfirmEmail.nsid) { [self] call in
            let did = try await authenticateFully(call)
            let input = try await call.input(ServerAPI.ConfirmEmail.Input.self, limit: config.maxJSONBody)
            guard let account = try await account(did), let email = account.email, email.lowercased() == input.email.lowercased() else {
                throw XRPCError.named("InvalidEmail", "Invalid email")
            }
            guard try await accounts.consumeEmailToken(input.token, purpose: "confirm_email", did: did, now: Date()) else {
                throw XRPCError.named("InvalidToken", "Token is invalid or expired")
            }
            try await accounts.setEmail(nil, confirmedAt: Date(), did: did)
            forgetAccount(did)
            return .empty
        }
        methods.procedure(ServerAPI.RequestPasswordReset.nsid) { [self] call in
            let input = try await call.input(ServerAPI.RequestPasswordReset.Input.self, limit: config.maxJSONBody)
            // Answered the same whether or not an account has the address.
            if let account = try await accounts.account(email: input.email), let email = account.email {
                try await mailToken(purpose: "reset_password", did: account.did, to: email, subject: "Reset your password") {
                    "To set a new password for \(account.handle), use this token: \($0)"
                }
            }
            return .empty
        }
        methods.procedure(ServerAPI.ResetPassword.nsid) { [self] call in
            let input = try await call.input(ServerAPI.ResetPassword.Input.self, limit: config.maxJSONBody)
            if let problem = PasswordHasher.validate(input.password) { throw XRPCError.named("InvalidPassword", "Invalid password: \(problem)") }
            guard let did = try await accounts.consumeEmailToken(input.token, purpose: "reset_password", now: Date()) else {
                throw XRPCError.named("ExpiredToken", "Token is invalid or expired")
            }
            try await accounts.setPasswordHash(try await passwords.hash(input.password), did: did)
            forgetAccount(did)
            return .empty
        }
        methods.procedure(ServerAPI.RequestEmailUpdate.nsid) { [self] call in
            let did = try await authenticateFully(call)
            guard let account = try await account(did) else { throw XRPCError.invalidToken("the account is gone") }
            // A confirmed address must approve its replacement.
            let required = account.emailConfirmedAt != nil
            if required, let email = account.email {
                try await mailToken(purpose: "update_email", did: did, to: email, subject: "Change your email") {
                    "To change the email of \(account.handle), use this token: \($0)"
                }
            }
            return .lex(ServerAPI.RequestEmailUpdate.Output(tokenRequired: required))
        }
        methods.procedure(ServerAPI.UpdateEmail.nsid) { [self] call in
            let did = try await authenticateFully(call)
            let input = try await call.input(ServerAPI.UpdateEmail.Input.self, limit: config.maxJSONBody)
            guard let account = try await account(did) else { throw XRPCError.invalidToken("the account is gone") }
            if let problem = AccountRules.emailProblem(input.email) { throw XRPCError.named("InvalidEmail", "Invalid email: \(problem)") }
            if account.emailConfirmedAt != nil {
                guard let token = input.token else { throw XRPCError.named("TokenRequired", "Confirmation token required") }
                guard try await accounts.consumeEmailToken(token, purpose: "update_email", did: did, now: Date()) else {
                    throw XRPCError.named("ExpiredToken", "Token is invalid or expired")
                }
            }
            if let holder = try await accounts.account(email: input.email), holder.did != did {
                throw XRPCError.invalidRequest("This email address is already in use")
            }
            do {
                try await accounts.setEmail(input.email, confirmedAt: nil, did: did)
            } catch let error as StorageError where error.code == .conflict {
                throw XRPCError.invalidRequest("This email address is already in use")
            }
            forgetAccount(did)
            return .empty
        }
    }
}

import ATSyntax
import Foundation
import PostgresNIO

extension PostgresStore: AccountStore {
    public func createAccount(_ account: AccountRecord) async throws {
        _ = try await rows(
            """
            INSERT INTO account (did, handle, email, password_hash, created_at, deactivated_at)
            VALUES (\(account.did.description), \(account.handle.description), \(account.email), \(account.passwordHash),
                    \(account.createdAt), \(account.deactivatedAt))
            """)
    }

    public func account(did: DID) async throws -> AccountRecord? {
        try Self.account(from: try await rows("\(unescaped: Self.accountColumns) WHERE did = \(did.description)"), did.description)
    }

    public func account(handle: Handle) async throws -> AccountRecord? {
        try Self.account(from: try await rows("\(unescaped: Self.accountColumns) WHERE handle = \(handle.description)"), handle.description)
    }

    public func account(email: String) async throws -> AccountRecord? {
        try Self.account(from: try await rows("\(unescaped: Self.accountColumns) WHERE lower(email) = lower(\(email))"), email)
    }

    private static let accountColumns =
        "SELECT did, handle, email, password_hash, created_at, deactivated_at, takedown_ref, email_confirmed_at FROM account"

    /// The account in the first of `rows`, looked up by `key`.
    private static func account(from rows: [PostgresRow], _ key: String) throws -> AccountRecord? {
        guard let row = rows.first else { return nil }
        let (did, handle, email, hash, created, deactivated, takedown, confirmed) = try row.decode(
            (String, String, String?, String, Date, Date?, String?, Date?).self)
        guard let did = try? DID(did), let handle = try? Handle(handle) else {
            throw StorageError(.corrupt, "the account row for \(key) is invalid")
        }
        return AccountRecord(
            did: did, handle: handle, email: email, passwordHash: hash, createdAt: created, deactivatedAt: deactivated,
            takedownRef: takedown, emailConfirmedAt: confirmed)
    }

    public func storeRefreshToken(id: String, did: DID, expiresAt: Date, appPassword: String?) async throws {
        try await transaction { connection in
            try await connection.query(
                "INSERT INTO refresh_token (id, did, expires_at, app_password) VALUES (\(id), \(did.description), \(expiresAt), \(appPassword))",
                logger: self.logger)
            try await connection.query("DELETE FROM refresh_token WHERE expires_at < \(Date())", logger: self.logger)
        }
    }

    public func consumeRefreshToken(id: String) async throws -> String?? {
        // One statement: of two that race for the token, one gets the row.
        guard let row = try await rows("DELETE FROM refresh_token WHERE id = \(id) RETURNING app_password").first else { return nil }
        return .some(try row.decode(String?.self))
    }

    public func createAppPassword(_ password: AppPasswordRecord) async throws {
        _ = try await rows(
            """
            INSERT INTO app_password (did, name, password_hash, privileged, created_at)
            VALUES (\(password.did.description), \(password.name), \(password.passwordHash), \(password.privileged), \(password.createdAt))
            """)
    }

    public func appPasswords(did: DID) async throws -> [AppPasswordRecord] {
        try await rows("SELECT name, password_hash, privileged, created_at FROM app_password WHERE did = \(did.description) ORDER BY name")
            .map { row in
                let (name, hash, privileged, created) = try row.decode((String, String, Bool, Date).self)
                return AppPasswordRecord(did: did, name: name, passwordHash: hash, privileged: privileged, createdAt: created)
            }
    }

    public func deleteAppPassword(did: DID, name: String) async throws -> Bool {
        try await transaction { connection in
            var removed = false
            for try await _ in try await connection.query(
                "DELETE FROM app_password WHERE did = \(did.description) AND name = \(name) RETURNING name", logger: self.logger)
            {
                removed = true
            }
            try await connection.query(
                "DELETE FROM refresh_token WHERE did = \(did.description) AND app_password = \(name)", logger: self.logger)
            return removed
        }
    }

    public func useInviteCode(_ code: String) async throws -> Bool {
        try await !rows("UPDATE invite_code SET uses_left = uses_left - 1 WHERE code = \(code) AND uses_left > 0 RETURNING code").isEmpty
    }

    public func createInviteCode(_ code: String, uses: Int) async throws {
        _ = try await rows("INSERT INTO invite_code (code, uses_left) VALUES (\(code), \(uses))")
    }

    public func setDeactivated(did: DID, at date: Date?) async throws {
        _ = try await rows("UPDATE account SET deactivated_at = \(date) WHERE did = \(did.description)")
    }

    public func setTakedown(did: DID, ref: String?) async throws {
        _ = try await rows("UPDATE account SET takedown_ref = \(ref) WHERE did = \(did.description)")
    }

    public func setPasswordHash(_ hash: String, did: DID) async throws {
        _ = try await rows("UPDATE account SET password_hash = \(hash) WHERE did = \(did.description)")
    }

    public func storeEmailToken(_ token: String, purpose: String, did: DID, expiresAt: Date) async throws {
        _ = try await rows(
            """
            INSERT INTO email_token (did, purpose, token, expires_at) VALUES (\(did.description), \(purpose), \(token), \(expiresAt))
            ON CONFLICT (did, purpose) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at
            """)
    }

    public func consumeEmailToken(_ token: String, purpose: String, did: DID, now: Date) async throws -> Bool {
        try await !rows(
            """
            DELETE FROM email_token WHERE did = \(did.description) AND purpose = \(purpose) AND token = \(token) AND expires_at > \(now)
            RETURNING did
            """
        ).isEmpty
    }

    public func consumeEmailToken(_ token: String, purpose: String, now: Date) async throws -> DID? {
        let row = try await rows(
            "DELETE FROM email_token WHERE purpose = \(purpose) AND token = \(token) AND expires_at > \(now) RETURNING did"
        ).first
        return row.flatMap { try? DID(try $0.decode(String.self)) }
    }

    public func setEmail(_ email: String?, confirmedAt: Date?, did: DID) async throws {
        if let email {
            _ = try await rows(
                "UPDATE account SET email = \(email), email_confirmed_at = \(confirmedAt) WHERE did = \(did.description)")
        } else {
            _ = try await rows("UPDATE account SET email_confirmed_at = \(confirmedAt) WHERE did = \(did.description)")
        }
    }

    public func deleteAccount(did: DID) async throws {
        // Sessions, tokens, app passwords and preferences go with the row.
        try await transaction { connection in
            try await connection.query("DELETE FROM takedown WHERE did = \(did.description)", logger: self.logger)
            try await connection.query("DELETE FROM account WHERE did = \(did.description)", logger: self.logger)
        }
    }

    public func updateHandle(did: DID, handle: Handle) async throws {
        // A handle another account has fails the UNIQUE constraint: StorageError(.conflict).
        _ = try await rows("UPDATE account SET handle = \(handle.description) WHERE did = \(did.description)")
    }

    public func setTakedown(did: DID, subject: String, ref: String?) async throws {
        if let ref {
            _ = try await rows(
                """
                INSERT INTO takedown (did, subject, ref) VALUES (\(did.description), \(subject), \(ref))
                ON CONFLICT (did, subject) DO UPDATE SET ref = excluded.ref
                """)
        } else {
            _ = try await rows("DELETE FROM takedown WHERE did = \(did.description) AND subject = \(subject)")
        }
    }

    public func takedown(did: DID, subject: String) async throws -> String? {
        try await rows("SELECT ref FROM takedown WHERE did = \(did.description) AND subject = \(subject)").first?.decode(String.self)
    }

    public func preferences(did: DID) async throws -> [UInt8]? {
        try await rows("SELECT prefs FROM account_pref WHERE did = \(did.description)").first?.decode(ByteBuffer.self).bytes
    }

    public func setPreferences(_ json: [UInt8], did: DID) async throws {
        _ = try await rows(
            """
            INSERT INTO account_pref (did, prefs) VALUES (\(did.description), \(ByteBuffer(bytes: json)))
            ON CONFLICT (did) DO UPDATE SET prefs = excluded.prefs
            """)
    }
}

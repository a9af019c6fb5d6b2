import ATSyntax
import Foundation
import GRDB

extension SQLiteStore: AccountStore {
    public func createAccount(_ account: AccountRecord) async throws {
        try write { db in
            try db.execute(
                sql: "INSERT INTO account (did, handle, email, password_hash, created_at, deactivated_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [
                    account.did.description, account.handle.description, account.email, account.passwordHash,
                    account.createdAt.timeIntervalSince1970, account.deactivatedAt?.timeIntervalSince1970,
                ])
        }
    }

    public func account(did: DID) async throws -> AccountRecord? {
        try await fetchAccount(where: "did = ?", did.description)
    }

    public func account(handle: Handle) async throws -> AccountRecord? {
        try await fetchAccount(where: "handle = ?", handle.description)
    }

    public func account(email: String) async throws -> AccountRecord? {
        try await fetchAccount(where: "email = ? COLLATE NOCASE", email)
    }

    private func fetchAccount(where clause: String, _ value: String) async throws -> AccountRecord? {
        try read { db in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT did, handle, email, password_hash, created_at, deactivated_at, takedown_ref, email_confirmed_at FROM account WHERE \(clause)",
                arguments: [value])
            else { return nil }
            guard let did = try? DID(row["did"] as String), let handle = try? Handle(row["handle"] as String) else {
                throw StorageError(.corrupt, "the account row for \(value) is invalid")
            }
            return AccountRecord(
                did: did, handle: handle, email: row["email"], passwordHash: row["password_hash"],
                createdAt: Date(timeIntervalSince1970: row["created_at"]),
                deactivatedAt: (row["deactivated_at"] as Double?).map(Date.init(timeIntervalSince1970:)), takedownRef: row["takedown_ref"],
                emailConfirmedAt: (row["email_confirmed_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
        }
    }

    public func storeRefreshToken(id: String, did: DID, expiresAt: Date, appPassword: String?) async throws {
        try write { db in
            try db.execute(
                sql: "INSERT INTO refresh_token (id, did, expires_at, app_password) VALUES (?, ?, ?, ?)",
                arguments: [id, did.description, expiresAt.timeIntervalSince1970, appPassword])
            try db.execute(sql: "DELETE FROM refresh_token WHERE expires_at < ?", arguments: [Date().timeIntervalSince1970])
        }
    }

    public func consumeRefreshToken(id: String) async throws -> String?? {
        try write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT app_password FROM refresh_token WHERE id = ?", arguments: [id]) else { return nil }
            try db.execute(sql: "DELETE FROM refresh_token WHERE id = ?", arguments: [id])
            return .some(row["app_password"] as String?)
        }
    }

    public func createAppPassword(_ password: AppPasswordRecord) async throws {
        try write { db in
            try db.execute(
                sql: "INSERT INTO app_password (did, name, password_hash, privileged, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    password.did.description, password.name, password.passwordHash, password.privileged,
                    password.createdAt.timeIntervalSince1970,
                ])
        }
    }

    public func appPasswords(did: DID) async throws -> [AppPasswordRecord] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT name, password_hash, privileged, created_at FROM app_password WHERE did = ? ORDER BY name",
                arguments: [did.description]
            ).map { row in
                AppPasswordRecord(
                    did: did, name: row["name"], passwordHash: row["password_hash"], privileged: row["privileged"],
                    createdAt: Date(timeIntervalSince1970: row["created_at"]))
            }
        }
    }

    public func deleteAppPassword(did: DID, name: String) async throws -> Bool {
        try write { db in
            try db.execute(sql: "DELETE FROM app_password WHERE did = ? AND name = ?", arguments: [did.description, name])
            let removed = db.changesCount == 1
            try db.execute(sql: "DELETE FROM refresh_token WHERE did = ? AND app_password = ?", arguments: [did.description, name])
            return removed
        }
    }

    public func useInviteCode(_ code: String) async throws -> Bool {
        try write { db in
            try db.execute(sql: "UPDATE invite_code SET uses_left = uses_left - 1 WHERE code = ? AND uses_left > 0", arguments: [code])
            return db.changesCount == 1
        }
    }

    public func createInviteCode(_ code: String, uses: Int) async throws {
        try write { db in
            try db.execute(sql: "INSERT INTO invite_code (code, uses_left) VALUES (?, ?)", arguments: [code, uses])
        }
    }

    public func setPasswordHash(_ hash: String, did: DID) async throws {
        try write { db in
            try db.execute(sql: "UPDATE account SET password_hash = ? WHERE did = ?", arguments: [hash, did.description])
        }
    }

    public func storeEmailToken(_ token: String, purpose: String, did: DID, expiresAt: Date) async throws {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO email_token (did, purpose, token, expires_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (did, purpose) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at
                    """,
                arguments: [did.description, purpose, token, expiresAt.timeIntervalSince1970])
        }
    }

    public func consumeEmailToken(_ token: String, purpose: String, did: DID, now: Date) async throws -> Bool {
        try write { db in
            try db.execute(
                sql: "DELETE FROM email_token WHERE did = ? AND purpose = ? AND token = ? AND expires_at > ?",
                arguments: [did.description, purpose, token, now.timeIntervalSince1970])
            return db.changesCount == 1
        }
    }

    public func consumeEmailToken(_ token: String, purpose: String, now: Date) async throws -> DID? {
        try write { db in
            guard let did = try String.fetchOne(
                db, sql: "SELECT did FROM email_token WHERE purpose = ? AND token = ? AND expires_at > ?",
                arguments: [purpose, token, now.timeIntervalSince1970])
            else { return nil }
            try db.execute(sql: "DELETE FROM email_token WHERE did = ? AND purpose = ?", arguments: [did, purpose])
            return try? DID(did)
        }
    }

    public func setEmail(_ email: String?, confirmedAt: Date?, did: DID) async throws {
        try write { db in
            if let email {
                try db.execute(sql: "UPDATE account SET email = ? WHERE did = ?", arguments: [email, did.description])
            }
            try db.execute(
                sql: "UPDATE account SET email_confirmed_at = ? WHERE did = ?", arguments: [confirmedAt?.timeIntervalSince1970, did.description])
        }
    }

    public func deleteAccount(did: DID) async throws {
        try write { db in
            for table in ["refresh_token", "email_token", "account_pref", "app_password", "takedown", "account"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE did = ?", arguments: [did.description])
            }
        }
    }

    public func setDeactivated(did: DID, at date: Date?) async throws {
        try write { db in
            try db.execute(
                sql: "UPDATE account SET deactivated_at = ? WHERE did = ?", arguments: [date?.timeIntervalSince1970, did.description])
        }
    }

    public func setTakedown(did: DID, ref: String?) async throws {
        try write { db in
            try db.execute(sql: "UPDATE account SET takedown_ref = ? WHERE did = ?", arguments: [ref, did.description])
        }
    }

    public func updateHandle(did: DID, handle: Handle) async throws {
        // A handle another account has fails the UNIQUE constraint: StorageError(.conflict).
        try write { db in
            try db.execute(sql: "UPDATE account SET handle = ? WHERE did = ?", arguments: [handle.description, did.description])
        }
    }

    public func preferences(did: DID) async throws -> [UInt8]? {
        try read { db in
            try Data.fetchOne(db, sql: "SELECT prefs FROM account_pref WHERE did = ?", arguments: [did.description]).map { [UInt8]($0) }
        }
    }

    public func setPreferences(_ json: [UInt8], did: DID) async throws {
        try write { db in
            try db.execute(
                sql: "INSERT INTO account_pref (did, prefs) VALUES (?, ?) ON CONFLICT(did) DO UPDATE SET prefs = excluded.prefs",
                arguments: [did.description, Data(json)])
        }
    }

    public func setTakedown(did: DID, subject: String, ref: String?) async throws {
        try write { db in
            if let ref {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO takedown (did, subject, ref) VALUES (?, ?, ?)", arguments: [did.description, subject, ref])
            } else {
                try db.execute(sql: "DELETE FROM takedown WHERE did = ? AND subject = ?", arguments: [did.description, subject])
            }
        }
    }

    public func takedown(did: DID, subject: String) async throws -> String? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT ref FROM takedown WHERE did = ? AND subject = ?", arguments: [did.description, subject])
        }
    }
}

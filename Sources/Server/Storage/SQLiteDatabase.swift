import Foundation
import GRDB
import GRDBSQLite

/// The PDS's SQLite database (through GRDB): WAL mode, one writer, readers in
/// parallel, and a versioned schema that migrates on open.
///
/// It implements ``AccountStore``, ``RepoStore``, ``EventStore`` and ``PLCStore``.
public final class SQLiteStore: Sendable {
    let pool: DatabasePool

    /// The schema version this build writes.
    public static let schemaVersion = "v12"

    /// Opens (creating if needed) the database at `path` and migrates it.
    ///
    /// - Parameters:
    ///   - synchronous: SQLite's `synchronous` pragma. `NORMAL` (the default)
    ///     survives a crash of the process; `FULL` also a power cut.
    ///   - checkpointPages: the WAL size, in pages, at which the writer
    ///     checkpoints, most of the copying done beside it already
    ///     (``SQLiteCheckpointer``); 1,000 (SQLite's default) when `nil`.
    ///     Larger suits a store that takes long write bursts, like the relay's.
    public init(path: String, synchronous: String = "NORMAL", checkpointPages: Int? = nil) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let pragma = synchronous == "FULL" ? "FULL" : "NORMAL"
        let checkpointer = SQLiteCheckpointer(path: path, pages: Int32(checkpointPages ?? 1000))
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(pragma)")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            try db.execute(sql: "PRAGMA cache_size = -16384")
            // The log file is cut back to 64 MiB when it starts again, after a burst grew it.
            try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
            // Checkpoints run beside the writer, not inside its commits.
            if !db.configuration.readonly, let connection = db.sqliteConnection { checkpointer.install(on: connection) }
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // Again on the writer: GRDB sets NORMAL when it turns WAL on, after `prepareDatabase`.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = \(pragma)") }
            try Self.migrator.migrate(pool)
        } catch {
            throw StorageError(.io, "cannot open the database at \(path): \(error)")
        }
    }

    /// The migrations: each is applied once, in order, and recorded.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE account (
                    did TEXT PRIMARY KEY NOT NULL,
                    handle TEXT NOT NULL UNIQUE,
                    email TEXT UNIQUE,
                    password_hash TEXT NOT NULL,
                    created_at REAL NOT NULL
                );
                CREATE TABLE refresh_token (
                    id TEXT PRIMARY KEY NOT NULL,
                    did TEXT NOT NULL REFERENCES account(did),
                    expires_at REAL NOT NULL
                );
                CREATE TABLE invite_code (
                    code TEXT PRIMARY KEY NOT NULL,
                    uses_left INTEGER NOT NULL
                );
                CREATE TABLE repo_root (
                    did TEXT PRIMARY KEY NOT NULL,
                    commit_cid BLOB NOT NULL,
                    rev TEXT NOT NULL
                );
                CREATE TABLE block (
                    did TEXT NOT NULL,
                    cid BLOB NOT NULL,
                    rev TEXT NOT NULL,
                    bytes BLOB NOT NULL,
                    PRIMARY KEY (did, cid)
                ) WITHOUT ROWID;
                CREATE INDEX block_rev ON block(did, rev, cid);
                CREATE TABLE record (
                    did TEXT NOT NULL,
                    collection TEXT NOT NULL,
                    rkey TEXT NOT NULL,
                    cid BLOB NOT NULL,
                    PRIMARY KEY (did, collection, rkey)
                ) WITHOUT ROWID;
                CREATE INDEX record_cid ON record(did, cid);
                CREATE TABLE record_blob (
                    did TEXT NOT NULL,
                    collection TEXT NOT NULL,
                    rkey TEXT NOT NULL,
                    blob_cid TEXT NOT NULL,
                    rev TEXT NOT NULL,
                    PRIMARY KEY (did, collection, rkey, blob_cid)
                ) WITHOUT ROWID;
                CREATE INDEX record_blob_cid ON record_blob(did, blob_cid);
                CREATE TABLE plc_operation (
                    did TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    cid TEXT NOT NULL,
                    operation BLOB NOT NULL,
                    PRIMARY KEY (did, seq)
                );
                """)
        }
        migrator.registerMigration("v2") { db in
            // The firehose: one row per event, in sequence.
            try db.execute(sql: """
                CREATE TABLE repo_event (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    did TEXT NOT NULL,
                    frame BLOB NOT NULL,
                    time REAL NOT NULL
                );
                """)
        }
        migrator.registerMigration("v3") { db in
            // The relay role: hosts it crawls, and the sync state of each mirrored repository.
            try db.execute(sql: """
                CREATE TABLE relay_host (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    hostname TEXT NOT NULL UNIQUE,
                    cursor INTEGER NOT NULL DEFAULT 0,
                    status TEXT NOT NULL,
                    first_seen REAL NOT NULL
                );
                CREATE TABLE relay_repo (
                    did TEXT PRIMARY KEY NOT NULL,
                    host TEXT NOT NULL,
                    status TEXT NOT NULL,
                    data_cid BLOB
                );
                CREATE INDEX relay_repo_host ON relay_repo(host);
                """)
        }
        migrator.registerMigration("v4") { db in
            // Each account's app preferences, as the JSON object `getPreferences` answers.
            try db.execute(sql: """
                CREATE TABLE account_pref (
                    did TEXT PRIMARY KEY NOT NULL,
                    prefs BLOB NOT NULL
                );
                """)
        }
        migrator.registerMigration("v5") { db in
            // Account status: deactivated by its owner, taken down by the operator.
            try db.execute(sql: """
                ALTER TABLE account ADD COLUMN deactivated_at REAL;
                ALTER TABLE account ADD COLUMN takedown_ref TEXT;
                """)
        }
        migrator.registerMigration("v6") { db in
            // One-use tokens sent by email (account deletion…), one per account and purpose.
            try db.execute(sql: """
                CREATE TABLE email_token (
                    did TEXT NOT NULL,
                    purpose TEXT NOT NULL,
                    token TEXT NOT NULL,
                    expires_at REAL NOT NULL,
                    PRIMARY KEY (did, purpose)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v7") { db in
            // App passwords, and which one opened each session.
            try db.execute(sql: """
                CREATE TABLE app_password (
                    did TEXT NOT NULL,
                    name TEXT NOT NULL,
                    password_hash TEXT NOT NULL,
                    privileged INTEGER NOT NULL,
                    created_at REAL NOT NULL,
                    PRIMARY KEY (did, name)
                ) WITHOUT ROWID;
                ALTER TABLE refresh_token ADD COLUMN app_password TEXT;
                """)
        }
        migrator.registerMigration("v8") { db in
            // When the account's email was confirmed.
            try db.execute(sql: "ALTER TABLE account ADD COLUMN email_confirmed_at REAL;")
        }
        migrator.registerMigration("v9") { db in
            // Takedowns of single records (by AT-URI) and blobs (by CID).
            try db.execute(sql: """
                CREATE TABLE takedown (
                    did TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    ref TEXT NOT NULL,
                    PRIMARY KEY (did, subject)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v10") { db in
            // Blocks clustered by repository and then by arrival (a number
            // counted per repository), found by CID through an index: a
            // commit's new blocks land on its repository's last page rather
            // than on random pages of a table clustered by CID, and an
            // export reads the repository's range in order.
            try db.execute(sql: """
                CREATE TABLE repo (
                    id INTEGER PRIMARY KEY,
                    did TEXT NOT NULL UNIQUE
                );
                INSERT INTO repo (did) SELECT DISTINCT did FROM block ORDER BY did;
                CREATE TABLE block_v10 (
                    repo INTEGER NOT NULL,
                    id INTEGER NOT NULL,
                    cid BLOB NOT NULL,
                    rev TEXT NOT NULL,
                    bytes BLOB NOT NULL,
                    PRIMARY KEY (repo, id)
                ) WITHOUT ROWID;
                INSERT INTO block_v10 (repo, id, cid, rev, bytes)
                    SELECT r.id, ROW_NUMBER() OVER (PARTITION BY r.id ORDER BY b.rev, b.cid), b.cid, b.rev, b.bytes
                    FROM block b JOIN repo r ON r.did = b.did;
                DROP TABLE block;
                ALTER TABLE block_v10 RENAME TO block;
                CREATE UNIQUE INDEX block_cid ON block(repo, cid);
                CREATE INDEX block_rev ON block(repo, rev, cid);
                """)
        }
        migrator.registerMigration("v11") { db in
            // No index of revisions: a repository's blocks are numbered in
            // revision order (a block written again moves to the end), so a
            // `since` diff finds where it starts by a binary search of the
            // numbers. Renumbered once here, since v10 updated a rewritten
            // block's revision in place. The index took one write in three
            // on the block table.
            try db.execute(sql: """
                CREATE TABLE block_v11 (
                    repo INTEGER NOT NULL,
                    id INTEGER NOT NULL,
                    cid BLOB NOT NULL,
                    rev TEXT NOT NULL,
                    bytes BLOB NOT NULL,
                    PRIMARY KEY (repo, id)
                ) WITHOUT ROWID;
                INSERT INTO block_v11 (repo, id, cid, rev, bytes)
                    SELECT repo, ROW_NUMBER() OVER (PARTITION BY repo ORDER BY rev, id), cid, rev, bytes FROM block;
                DROP TABLE block;
                ALTER TABLE block_v11 RENAME TO block;
                CREATE UNIQUE INDEX block_cid ON block(repo, cid);
                """)
        }
        migrator.registerMigration("v12") { db in
            // Emails are found whatever their case, so they are unique so too.
            try db.execute(sql: "CREATE UNIQUE INDEX account_email_nocase ON account(email COLLATE NOCASE)")
        }
        return migrator
    }

    /// The migrations applied to this database, in order.
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in try Self.migrator.appliedMigrations(db) }
    }

    /// Runs `body` in a write transaction, mapping GRDB's errors.
    ///
    /// It blocks the calling thread, even from a task: GRDB's async API
    /// holds a reader until the awaiting task resumes, so while some reads
    /// still block the concurrency pool's threads (the repository store's),
    /// async reads beside them can take every reader and leave no thread to
    /// release one. The tests deadlocked so on two cores. The switch waits
    /// until no store blocks.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try mappingErrors { try pool.write(body) }
    }

    /// Runs `body` on the writer's connection outside a transaction (for
    /// statements that cannot run in one, such as `ATTACH`), mapping GRDB's errors.
    func writeWithoutTransaction<T>(_ body: (Database) throws -> T) throws -> T {
        try mappingErrors { try pool.writeWithoutTransaction(body) }
    }

    private func mappingErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw Self.mapped(error)
        }
    }

    /// GRDB's errors as ``StorageError``; the body's own errors (a failed
    /// verification, say) pass through.
    private static func mapped(_ error: any Error) -> any Error {
        switch error {
        case let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT:
            StorageError(.conflict, error.message ?? "constraint failed")
        case let error as DatabaseError:
            StorageError(.io, "\(error)")
        default:
            error
        }
    }

    /// Runs `body` on a reader.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(.io, "\(error)")
        }
    }
}

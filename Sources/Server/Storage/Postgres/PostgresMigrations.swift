import Logging
import PostgresNIO

extension PostgresStore {
    /// The migrations, in order: each a name and its statements, applied once
    /// in one transaction and recorded in `schema_migration`.
    static let migrations: [(name: String, statements: [String])] = [
        (
            "v1",
            [
                // The firehose: events by sequence number. The numbers come
                // from one counter row, taken as the last step of the
                // transaction that writes the event: its lock orders the
                // writers, so numbers have no gaps and commit in order. (A
                // PostgreSQL sequence is not transactional: a writer that
                // rolls back leaves a gap, and a later number can commit
                // first, which a reader following the log by number would
                // pass over.)
                """
                CREATE TABLE repo_event (
                    seq BIGINT PRIMARY KEY,
                    did TEXT NOT NULL,
                    frame BYTEA NOT NULL,
                    time TIMESTAMPTZ NOT NULL
                )
                """,
                "CREATE TABLE event_counter (id BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id), last BIGINT NOT NULL)",
                "INSERT INTO event_counter (last) VALUES (0)",
                // The PLC directory's operation logs.
                """
                CREATE TABLE plc_operation (
                    did TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    cid TEXT NOT NULL,
                    operation BYTEA NOT NULL,
                    PRIMARY KEY (did, seq)
                )
                """,
            ]
        ),
        (
            "v2",
            [
                // Accounts. Emails are unique whatever their case, and found so.
                """
                CREATE TABLE account (
                    did TEXT PRIMARY KEY,
                    handle TEXT NOT NULL UNIQUE,
                    email TEXT,
                    password_hash TEXT NOT NULL,
                    created_at TIMESTAMPTZ NOT NULL,
                    deactivated_at TIMESTAMPTZ,
                    takedown_ref TEXT,
                    email_confirmed_at TIMESTAMPTZ
                )
                """,
                "CREATE UNIQUE INDEX account_email ON account (lower(email))",
                """
                CREATE TABLE refresh_token (
                    id TEXT PRIMARY KEY,
                    did TEXT NOT NULL REFERENCES account(did) ON DELETE CASCADE,
                    expires_at TIMESTAMPTZ NOT NULL,
                    app_password TEXT
                )
                """,
                "CREATE INDEX refresh_token_did ON refresh_token (did)",
                "CREATE INDEX refresh_token_expiry ON refresh_token (expires_at)",
                "CREATE TABLE invite_code (code TEXT PRIMARY KEY, uses_left INTEGER NOT NULL)",
                """
                CREATE TABLE app_password (
                    did TEXT NOT NULL REFERENCES account(did) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    password_hash TEXT NOT NULL,
                    privileged BOOLEAN NOT NULL,
                    created_at TIMESTAMPTZ NOT NULL,
                    PRIMARY KEY (did, name)
                )
                """,
                """
                CREATE TABLE email_token (
                    did TEXT NOT NULL REFERENCES account(did) ON DELETE CASCADE,
                    purpose TEXT NOT NULL,
                    token TEXT NOT NULL,
                    expires_at TIMESTAMPTZ NOT NULL,
                    PRIMARY KEY (did, purpose)
                )
                """,
                "CREATE INDEX email_token_token ON email_token (purpose, token)",
                "CREATE TABLE account_pref (did TEXT PRIMARY KEY REFERENCES account(did) ON DELETE CASCADE, prefs BYTEA NOT NULL)",
                // Takedowns of single records and blobs (the account's own is on its row).
                """
                CREATE TABLE takedown (
                    did TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    ref TEXT NOT NULL,
                    PRIMARY KEY (did, subject)
                )
                """,
            ]
        ),
    ]

    /// The schema version this build writes.
    public static var schemaVersion: String { migrations.last!.name }

    /// The names of the migrations, in order.
    public static var migrationNames: [String] { migrations.map(\.name) }

    /// The migrations applied to this database, in order.
    public func appliedMigrations() async throws -> [String] {
        try await rows("SELECT name FROM schema_migration ORDER BY applied_at, name").map { try $0.decode(String.self) }
    }

    /// Applies the migrations not yet applied, over `connection`. Processes
    /// that open the database at once wait for each other on an advisory lock.
    static func migrate(_ connection: PostgresConnection, logger: Logger) async throws {
        try await transaction(on: connection, logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS schema_migration (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())",
                logger: logger)
            var applied = Set<String>()
            for try await name in try await connection.query("SELECT name FROM schema_migration", logger: logger).decode(String.self) {
                applied.insert(name)
            }
            for migration in Self.migrations where !applied.contains(migration.name) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO schema_migration (name) VALUES (\(migration.name))", logger: logger)
            }
        }
    }

    /// The advisory lock that serialises migrations ("bskymigr").
    private static let migrationLock: Int64 = 0x62_73_6b_79_6d_69_67_72
}

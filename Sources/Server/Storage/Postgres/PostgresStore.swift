import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// A PostgreSQL database (through postgres-nio's `PostgresClient`): a pool of
/// connections, and a versioned schema that migrates on open.
///
/// Several processes can share one: migrations take an advisory lock, event
/// sequence numbers come from one row, and conflicts surface as
/// ``StorageError/Code/conflict``. It implements ``AccountStore``,
/// ``EventStore`` and ``PLCStore``.
public final class PostgresStore: Sendable {
    let client: PostgresClient
    let logger: Logger
    /// How long an operation waits for a connection before it fails.
    let leaseTimeout: Duration
    private let runner: Task<Void, Never>

    /// Connects to the database at `url` (see ``PostgresURL``) with at most
    /// `connections` connections, and migrates it.
    ///
    /// - Parameter leaseTimeout: how long an operation waits for a
    ///   connection (all busy, or the server gone) before it fails with
    ///   ``StorageError/Code/io``, rather than wait for ever.
    /// - Throws: ``StorageError`` when the URL is bad, the server cannot be
    ///   reached, or a migration fails.
    public static func open(
        url: String, connections: Int = 20, leaseTimeout: Duration = .seconds(10), logger: Logger = Logger(label: "bsky.postgres")
    ) async throws -> PostgresStore {
        let parsed = try PostgresURL(url)
        // One connection of its own first, which migrates the database: the
        // pool retries a server it cannot reach without end, while this says
        // at once why it cannot connect.
        let first: PostgresConnection
        do {
            first = try await PostgresConnection.connect(configuration: parsed.connectionConfiguration, id: 0, logger: logger)
        } catch {
            throw StorageError(.io, "cannot connect to the database at \(parsed): \(Self.reason(error))")
        }
        do {
            try await migrate(first, logger: logger)
            try await first.close()
        } catch {
            try? await first.close()
            throw StorageError(.io, "cannot migrate the database at \(parsed): \(Self.reason(error))")
        }
        var configuration = parsed.configuration
        configuration.options.maximumConnections = max(1, connections)
        configuration.options.connectTimeout = .seconds(10)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        // The pool makes and keeps connections while `run` runs: it is under
        // way before the store is handed out.
        let (started, didStart) = AsyncStream<Void>.makeStream()
        let runner = Task {
            didStart.finish()
            await client.run()
        }
        for await _ in started {}
        let store = PostgresStore(client: client, runner: runner, leaseTimeout: leaseTimeout, logger: logger)
        return store
    }

    private init(client: PostgresClient, runner: Task<Void, Never>, leaseTimeout: Duration, logger: Logger) {
        self.client = client
        self.runner = runner
        self.leaseTimeout = leaseTimeout
        self.logger = logger
    }

    /// Closes every connection. The store cannot be used afterwards.
    public func close() async {
        runner.cancel()
        await runner.value
    }

    /// Runs `body` in one transaction on one connection: committed when it
    /// returns, rolled back when it throws. Errors come out as ``StorageError``
    /// unless they are the body's own.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await leased { connection in try await Self.transaction(on: connection, logger: self.logger, body) }
    }

    /// Runs `body` with a connection of the pool, once one is free within
    /// ``leaseTimeout``. Errors come out as ``StorageError`` unless they are
    /// the body's own.
    ///
    /// The pool waits for a connection for ever (it keeps retrying a server
    /// that is gone), so the wait is cut short here; once `body` has its
    /// connection, it runs to its end.
    func leased<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let started = StartFlag()
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    try await self.client.withConnection { connection in
                        started.set()
                        return try await body(connection)
                    }
                }
                group.addTask {
                    try? await Task.sleep(for: self.leaseTimeout)
                    return nil
                }
                while let next = try await group.next() {
                    if let value = next {
                        group.cancelAll()
                        return value
                    }
                    if !started.isSet {
                        group.cancelAll()
                        throw StorageError(.io, "no connection to PostgreSQL within \(self.leaseTimeout)")
                    }
                }
                throw StorageError(.io, "PostgreSQL operation ended without a result")
            }
        } catch {
            throw Self.mapped(error)
        }
    }

    /// Runs `body` in a transaction on `connection`.
    static func transaction<T: Sendable>(
        on connection: PostgresConnection, logger: Logger, _ body: @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await connection.query("BEGIN", logger: logger)
        do {
            let value = try await body(connection)
            try await connection.query("COMMIT", logger: logger)
            return value
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }

    /// Runs one statement outside a transaction and collects its rows.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await leased { connection in
            var rows = [PostgresRow]()
            for try await row in try await connection.query(query, logger: self.logger) { rows.append(row) }
            return rows
        }
    }

    /// What went wrong, for a message: the server's own words, or the
    /// connection's failure (postgres-nio's descriptions hide both).
    static func reason(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] { return message }
        return error.underlying.map { "\($0)" } ?? "\(error.code)"
    }

    /// PostgreSQL's errors as ``StorageError``: a unique or exclusion
    /// violation, a serialization failure or a deadlock is a conflict; the
    /// rest is `io`, with the server's message. Other errors pass through.
    static func mapped(_ error: any Error) -> any Error {
        guard let error = error as? PSQLError else { return error }
        guard let info = error.serverInfo else {
            return StorageError(.io, "PostgreSQL: \(error.code)\(error.underlying.map { ": \($0)" } ?? "")")
        }
        let state = info[.sqlState] ?? ""
        let message = info[.message] ?? "\(error.code)"
        switch state {
        case "23505", "23P01", "40001", "40P01": return StorageError(.conflict, message)
        default: return StorageError(.io, "PostgreSQL \(state): \(message)")
        }
    }
}

extension ByteBuffer {
    /// Its readable bytes.
    var bytes: [UInt8] { Array(readableBytesView) }
}

/// Whether an operation got its connection.
private final class StartFlag: Sendable {
    private let value = Mutex(false)

    func set() { value.withLock { $0 = true } }

    var isSet: Bool { value.withLock { $0 } }
}

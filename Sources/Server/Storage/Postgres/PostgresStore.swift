import Foundation
import Logging
import NIOCore
import PostgresNIO

/// A PostgreSQL database (through postgres-nio's `PostgresClient`): a pool of
/// connections, and a versioned schema that migrates on open.
///
/// Several processes can share one: migrations take an advisory lock, event
/// sequence numbers come from one row, and conflicts surface as
/// ``StorageError/Code/conflict``. It implements ``EventStore`` and
/// ``PLCStore``.
public final class PostgresStore: Sendable {
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>

    /// Connects to the database at `url` (see ``PostgresURL``) with at most
    /// `connections` connections, and migrates it.
    ///
    /// - Throws: ``StorageError`` when the URL is bad, the server cannot be
    ///   reached, or a migration fails.
    public static func open(url: String, connections: Int = 20, logger: Logger = Logger(label: "bsky.postgres")) async throws -> PostgresStore {
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
        let store = PostgresStore(client: client, runner: runner, logger: logger)
        return store
    }

    private init(client: PostgresClient, runner: Task<Void, Never>, logger: Logger) {
        self.client = client
        self.runner = runner
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
    func transaction<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await client.withConnection { connection in try await Self.transaction(on: connection, logger: logger, body) }
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
        do {
            var rows = [PostgresRow]()
            for try await row in try await client.query(query, logger: logger) { rows.append(row) }
            return rows
        } catch {
            throw Self.mapped(error)
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

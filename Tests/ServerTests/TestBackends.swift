import Foundation
import Logging
import PostgresNIO
import Server
import Testing
import TestSupport

/// The storage backends that the conformance tests run each test against.
enum Backend: String, CaseIterable, Sendable {
    case sqlite
    case postgres
}

/// What both backends implement.
typealias BackendStore = AccountStore & EventStore & PLCStore

/// Fresh, empty stores for tests: SQLite in a temporary file, PostgreSQL as a
/// new database in the test cluster.
enum TestStores {
    /// A new SQLite store in a temporary directory.
    static func sqlite() throws -> SQLiteStore {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return try SQLiteStore(path: dir.appendingPathComponent("db.sqlite").path)
    }

    /// Runs `body` over a fresh store of `backend`, and closes it after.
    static func with<T>(_ backend: Backend, _ body: (any BackendStore) async throws -> T) async throws -> T {
        switch backend {
        case .sqlite:
            return try await body(try sqlite())
        case .postgres:
            let store = try await postgres()
            do {
                let value = try await body(store)
                await store.close()
                return value
            } catch {
                await store.close()
                throw error
            }
        }
    }

    /// A new PostgreSQL store over a database of its own. Close it when done.
    ///
    /// An operation may wait for a connection for up to two minutes: the
    /// whole suite on two cores can keep a task that holds one from running
    /// for many seconds.
    static func postgres() async throws -> PostgresStore {
        try await PostgresStore.open(url: try await TestPostgres.shared.freshDatabase(), connections: 4, leaseTimeout: .seconds(120))
    }
}

/// The PostgreSQL cluster the tests use: `$BSKY_TEST_DATABASE_URL` (which
/// `.ci/run` sets), or else one that `scripts/postgres` starts for this test
/// process and stops when it exits. Each test gets a database of its own.
actor TestPostgres {
    static let shared = TestPostgres()

    private var admin: (url: URLComponents, client: PostgresClient, runner: Task<Void, Never>)?

    /// The URL of a new, empty database.
    func freshDatabase() async throws -> String {
        let (base, client) = try await connect()
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        var url = base
        url.path = "/" + name
        return url.string!
    }

    /// Runs one statement as the cluster's superuser.
    func execute(_ sql: String) async throws {
        let (_, client) = try await connect()
        try await client.query(PostgresQuery(unsafeSQL: sql))
    }

    private func connect() async throws -> (URLComponents, PostgresClient) {
        if let admin { return (admin.url, admin.client) }
        let text = try ProcessInfo.processInfo.environment["BSKY_TEST_DATABASE_URL"] ?? Self.startCluster()
        guard let url = URLComponents(string: text) else { throw TestPostgresError("bad BSKY_TEST_DATABASE_URL \(text)") }
        let client = PostgresClient(configuration: try PostgresURL(text).configuration)
        let runner = Task { await client.run() }
        admin = (url, client, runner)
        return (url, client)
    }

    /// Starts a cluster with `scripts/postgres`, watched by this process.
    private static func startCluster() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("postgres-\(UUID())")
        let process = Process()
        process.executableURL = Fixtures.packageRoot.appendingPathComponent("scripts/postgres")
        process.arguments = ["start", dir.path, "--watch", "\(ProcessInfo.processInfo.processIdentifier)"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // The URL is the last thing it writes before it exits. (Not
        // `waitUntilExit`: on Linux it can wait for ever when called from a
        // task, here and in swift-corelibs-foundation.)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let url = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard url.hasPrefix("postgres://") else {
            throw TestPostgresError(
                "scripts/postgres could not start a PostgreSQL cluster; install Debian's postgresql, or set BSKY_TEST_DATABASE_URL")
        }
        return url
    }
}

struct TestPostgresError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

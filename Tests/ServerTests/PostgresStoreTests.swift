import Foundation
import Server
import Testing

/// The PostgreSQL backend's own behaviour: its URL, its migrations, and
/// failing cleanly when the server is not there.
@Suite("PostgreSQL store")
struct PostgresStoreTests {
    @Test func urlsAreParsedAsLibpqWritesThem() throws {
        let url = try PostgresURL("postgres://bsky:secret@db.example:6543/pds?sslmode=disable")
        #expect(url.configuration.host == "db.example" && url.configuration.port == 6543)
        #expect(url.configuration.username == "bsky" && url.configuration.password == "secret" && url.configuration.database == "pds")
        #expect(url.description == "postgres://bsky:***@db.example:6543/pds?sslmode=disable")
        let defaults = try PostgresURL("postgresql://bsky@localhost/pds")
        #expect(defaults.configuration.port == 5432 && defaults.configuration.password == nil)
        let socket = try PostgresURL("postgres://bsky@/pds?host=/run/postgresql")
        #expect(socket.configuration.unixSocketPath == "/run/postgresql/.s.PGSQL.5432")
        for bad in ["mysql://bsky@localhost/pds", "postgres://localhost/pds", "postgres://bsky@/pds", "postgres://bsky@h/pds?sslmode=maybe"] {
            #expect(throws: StorageError.self, "\(bad)") { try PostgresURL(bad) }
        }
    }

    @Test func migrationsApplyOnceEvenWhenProcessesOpenTogether() async throws {
        let url = try await TestPostgres.shared.freshDatabase()
        let stores = try await withThrowingTaskGroup(of: PostgresStore.self) { group in
            for _ in 0..<3 { group.addTask { try await PostgresStore.open(url: url, connections: 2) } }
            return try await group.reduce(into: [PostgresStore]()) { $0.append($1) }
        }
        for store in stores {
            #expect(try await store.appliedMigrations() == PostgresStore.migrationNames)
        }
        for store in stores { await store.close() }
        let again = try await PostgresStore.open(url: url, connections: 1)
        #expect(try await again.appliedMigrations() == PostgresStore.migrationNames)
        await again.close()
    }

    @Test(.timeLimit(.minutes(1))) func anUnreachableServerIsAnIOError() async throws {
        // A port that nothing listens on: bound, then closed.
        let port = try freePort()
        do {
            let store = try await PostgresStore.open(url: "postgres://bsky@127.0.0.1:\(port)/bsky?sslmode=disable", connections: 1)
            await store.close()
            Issue.record("opened a database where there is no server")
        } catch let error as StorageError {
            #expect(error.code == .io)
            #expect(error.message.contains("127.0.0.1:\(port)"))
        }
    }

    @Test(.timeLimit(.minutes(1))) func operationsFailInsteadOfWaitingForAConnectionThatNeverComes() async throws {
        let url = try await TestPostgres.shared.freshDatabase()
        let name = try #require(URLComponents(string: url)?.path.dropFirst())
        let store = try await PostgresStore.open(url: url, connections: 2, leaseTimeout: .seconds(1))
        // Opened (and migrated) over a connection of its own: the pool has
        // none yet, and the database now takes none.
        try await TestPostgres.shared.execute("ALTER DATABASE \(name) ALLOW_CONNECTIONS false")
        for _ in 0..<2 {
            let error = await #expect(throws: StorageError.self) { try await store.eventBounds() }
            #expect(error?.code == .io)
        }
        await store.close()
    }

    func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

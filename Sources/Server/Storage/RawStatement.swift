import GRDB
import GRDBSQLite

/// A prepared statement stepped through SQLite's C API, for the hot paths
/// (the import's hundreds of thousands of lookups and inserts, every commit's
/// writes), where GRDB's per-call argument boxing is most of the cost. Used
/// only inside one transaction on the connection it was prepared on.
final class RawStatement {
    private let handle: OpaquePointer
    private let connection: OpaquePointer
    /// Whether this object prepared the statement, and so finalizes it.
    private let owned: Bool

    /// A statement prepared for this object alone.
    init(_ db: Database, _ sql: String) throws {
        guard let connection = db.sqliteConnection else { throw StorageError(.io, "the database is closed") }
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(connection, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw StorageError(.io, "cannot prepare \(sql): \(String(cString: sqlite3_errmsg(connection)))")
        }
        self.handle = statement
        self.connection = connection
        self.owned = true
    }

    /// The connection's cached statement for `sql`: prepared once for the
    /// connection's life, and kept by GRDB.
    init(cached db: Database, _ sql: String) throws {
        guard let connection = db.sqliteConnection else { throw StorageError(.io, "the database is closed") }
        self.handle = try db.cachedStatement(sql: sql).sqliteStatement
        self.connection = connection
        self.owned = false
    }

    deinit { if owned { sqlite3_finalize(handle) } }

    /// A bindable argument.
    enum Argument {
        case text(String)
        case blob([UInt8])
        case int(Int64)
        case real(Double)
    }

    private func bind(_ arguments: [Argument]) {
        sqlite3_reset(handle)
        let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
        for (i, argument) in arguments.enumerated() {
            let index = Int32(i + 1)
            switch argument {
            case .text(let text): sqlite3_bind_text(handle, index, text, -1, transient)
            case .blob(let bytes): bytes.withUnsafeBytes { _ = sqlite3_bind_blob(handle, index, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32($0.count), transient) }
            case .int(let value): sqlite3_bind_int64(handle, index, value)
            case .real(let value): sqlite3_bind_double(handle, index, value)
            }
        }
    }

    private func failure() -> StorageError {
        StorageError(.io, String(cString: sqlite3_errmsg(connection)))
    }

    /// Runs a statement that returns no rows.
    func run(_ arguments: Argument...) throws {
        bind(arguments)
        defer { sqlite3_reset(handle) }
        guard sqlite3_step(handle) == SQLITE_DONE else { throw failure() }
    }

    /// Calls `body` with each row.
    func forEach(_ arguments: Argument..., body: (Columns) throws -> Void) throws {
        bind(arguments)
        defer { sqlite3_reset(handle) }
        while true {
            switch sqlite3_step(handle) {
            case SQLITE_ROW: try body(Columns(handle: handle))
            case SQLITE_DONE: return
            default: throw failure()
            }
        }
    }

    /// Calls `body` with each row until it returns false.
    func forEach(_ arguments: [Argument], while body: (Columns) throws -> Bool) throws {
        bind(arguments)
        defer { sqlite3_reset(handle) }
        while true {
            switch sqlite3_step(handle) {
            case SQLITE_ROW: if try !body(Columns(handle: handle)) { return }
            case SQLITE_DONE: return
            default: throw failure()
            }
        }
    }

    /// The first row's columns, read by `body`, or `nil` when there is none.
    func row<T>(_ arguments: Argument..., body: (Columns) -> T) throws -> T? {
        bind(arguments)
        defer { sqlite3_reset(handle) }
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return body(Columns(handle: handle))
        case SQLITE_DONE: return nil
        default: throw failure()
        }
    }

    /// The current row of a statement.
    struct Columns {
        let handle: OpaquePointer
        /// Column `index` as bytes (empty for `NULL`).
        func blob(_ index: Int32) -> [UInt8] {
            let count = Int(sqlite3_column_bytes(handle, index))
            guard count > 0, let base = sqlite3_column_blob(handle, index) else { return [] }
            return [UInt8](UnsafeRawBufferPointer(start: base, count: count))
        }

        /// Lends column `index`'s bytes in place (empty for `NULL`), valid only during `body`.
        func withBlob<R>(_ index: Int32, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            let count = Int(sqlite3_column_bytes(handle, index))
            guard count > 0, let base = sqlite3_column_blob(handle, index) else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
            return try body(UnsafeRawBufferPointer(start: base, count: count))
        }

        /// Column `index` as text (empty for `NULL`).
        func text(_ index: Int32) -> String {
            guard let text = sqlite3_column_text(handle, index) else { return "" }
            return String(cString: text)
        }

        /// Column `index` as an integer (0 for `NULL`).
        func int(_ index: Int32) -> Int64 { sqlite3_column_int64(handle, index) }
    }
}

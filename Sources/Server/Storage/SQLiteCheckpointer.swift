import Dispatch
import GRDBSQLite
import Synchronization

/// Copies the write-ahead log back into the database mostly on a thread of
/// its own, so that the writer, which every commit waits for, does little of it.
///
/// SQLite's own automatic checkpoint copies the whole log inside the commit
/// that fills it. Here the writer's WAL hook queues a passive checkpoint, run
/// on a connection opened for it, from a quarter of ``pages``: it copies the
/// log beside the writer and keeps up with it. At ``pages`` the writer itself
/// checkpoints, as SQLite would, but finds almost everything copied already;
/// with no write running beside it, that checkpoint reaches the end of the
/// log, and the next commit starts the log again from its beginning.
final class SQLiteCheckpointer: Sendable {
    let path: String
    let pages: Int32
    private let queued = Atomic<Bool>(false)
    private let queue = DispatchQueue(label: "sqlite.checkpoint", qos: .utility)

    init(path: String, pages: Int32) {
        self.path = path
        self.pages = max(pages, 4)
    }

    /// Installs the hook on the writer's `connection`, in place of SQLite's
    /// automatic checkpoint. The hook holds this object (a path and a queue)
    /// for the rest of the process: the connection may outlive its store.
    func install(on connection: OpaquePointer) {
        let context = Unmanaged.passRetained(self).toOpaque()
        sqlite3_wal_hook(connection, { context, connection, _, pages in
            guard let context, let connection else { return SQLITE_OK }
            let checkpointer = Unmanaged<SQLiteCheckpointer>.fromOpaque(context).takeUnretainedValue()
            checkpointer.logGrew(to: pages, on: connection)
            return SQLITE_OK
        }, context)
    }

    private func logGrew(to count: Int32, on connection: OpaquePointer) {
        if count >= pages {
            sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
        } else if count >= pages / 4, !queued.exchange(true, ordering: .acquiringAndReleasing) {
            queue.async { self.checkpoint() }
        }
    }

    /// A passive checkpoint on a connection of its own.
    private func checkpoint() {
        defer { queued.store(false, ordering: .releasing) }
        var connection: OpaquePointer?
        guard sqlite3_open_v2(path, &connection, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let connection else {
            sqlite3_close(connection)
            return
        }
        defer { sqlite3_close(connection) }
        // A first read makes the new connection find the log: until then it
        // does not know that the database is in WAL mode.
        guard sqlite3_exec(connection, "PRAGMA schema_version", nil, nil, nil) == SQLITE_OK else { return }
        sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
    }
}

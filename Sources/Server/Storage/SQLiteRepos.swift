import ATData
import ATRepo
import ATSyntax
import Foundation
import GRDB
import Synchronization

extension SQLiteStore: RepoStore {
    public func root(of did: DID) throws -> RepoRoot? {
        let row = try read { db in
            try Row.fetchOne(db, sql: "SELECT commit_cid, rev FROM repo_root WHERE did = ?", arguments: [did.description])
        }
        guard let row else { return nil }
        return RepoRoot(did: did, commit: try Self.cid(row["commit_cid"]), rev: try Self.tid(row["rev"]))
    }

    public func blocks(of did: DID) -> any BlockStore {
        SQLiteBlockStore(store: self, did: did)
    }

    @discardableResult
    public func apply(_ commit: StoredCommit) throws -> SequencedEvent? {
        try write { db in try Self.apply(commit, in: db) }
    }

    public func apply(group commits: [StoredCommit]) throws -> [Result<SequencedEvent?, StorageError>] {
        try write { db in
            let writer = try CommitWriter(db)
            // Which commits go in: each must follow the root that the ones
            // before it in this transaction left.
            var roots = [DID: CID]()
            var refusals = [Int: StorageError]()
            for (i, commit) in commits.enumerated() {
                if let previous = commit.previous {
                    let current: CID?
                    if let known = roots[commit.did] {
                        current = known
                    } else {
                        current = try writer.root(of: commit.did.description)
                    }
                    guard current == previous else {
                        refusals[i] = StorageError(.conflict, "\(commit.did) is at \(current?.description ?? "no commit"), not \(previous)")
                        continue
                    }
                }
                roots[commit.did] = commit.commit
            }
            let accepted = commits.indices.filter { refusals[$0] == nil }
            let transient = CommitWriter.transientBlocks(of: accepted.map { commits[$0] })
            var last = [DID: Int]()
            for i in accepted { last[commits[i].did] = i }
            var results = [Result<SequencedEvent?, StorageError>]()
            results.reserveCapacity(commits.count)
            var next = 0
            for (i, commit) in commits.enumerated() {
                if let refusal = refusals[i] {
                    results.append(.failure(refusal))
                    continue
                }
                results.append(.success(try writer.apply(commit, updatingRoot: last[commit.did] == i, skipping: transient[next])))
                next += 1
            }
            return results
        }
    }

    /// Writes a commit in the current transaction.
    ///
    /// - Parameter updatingRoot: `false` when a later commit of the same
    ///   repository in this transaction sets the root (readers only ever see
    ///   the last).
    static func apply(_ commit: StoredCommit, in db: Database, updatingRoot: Bool = true) throws -> SequencedEvent? {
        try CommitWriter(db).apply(commit, updatingRoot: updatingRoot)
    }

    public func records(of did: DID, collection: String, limit: Int, cursor: String?, reverse: Bool) throws -> [(rkey: String, cid: CID)] {
        let rows = try read { db in
            let order = reverse ? "DESC" : "ASC", comparison = reverse ? "<" : ">"
            if let cursor {
                return try Row.fetchAll(
                    db, sql: "SELECT rkey, cid FROM record WHERE did = ? AND collection = ? AND rkey \(comparison) ? ORDER BY rkey \(order) LIMIT ?",
                    arguments: [did.description, collection, cursor, limit])
            }
            return try Row.fetchAll(
                db, sql: "SELECT rkey, cid FROM record WHERE did = ? AND collection = ? ORDER BY rkey \(order) LIMIT ?",
                arguments: [did.description, collection, limit])
        }
        return try rows.map { (rkey: $0["rkey"], cid: try Self.cid($0["cid"])) }
    }

    public func deleteRepo(of did: DID) throws {
        try write { db in
            try Self.deleteRepo(did.description, in: db)
        }
    }

    public func counts(of did: DID) throws -> (blocks: Int, records: Int, blobs: Int) {
        try read { db in
            let arguments: StatementArguments = [did.description]
            let blocks = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM block WHERE repo = (SELECT id FROM repo WHERE did = ?)", arguments: arguments) ?? 0
            let records = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record WHERE did = ?", arguments: arguments) ?? 0
            let blobs = try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT blob_cid) FROM record_blob WHERE did = ?", arguments: arguments) ?? 0
            return (blocks, records, blobs)
        }
    }

    public func collections(of did: DID) throws -> [String] {
        try read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT collection FROM record WHERE did = ? ORDER BY collection", arguments: [did.description])
        }
    }

    public func blobs(of did: DID, since: TID?, cursor: String?, limit: Int) throws -> [String] {
        try read { db in
            try String.fetchAll(
                db, sql: """
                    SELECT DISTINCT blob_cid FROM record_blob
                    WHERE did = ? AND rev > ? AND blob_cid > ? ORDER BY blob_cid LIMIT ?
                    """,
                arguments: [did.description, since?.description ?? "", cursor ?? "", limit])
        }
    }

    public func repos(after cursor: String?, limit: Int) throws -> [RepoRoot] {
        let rows = try read { db in
            try Row.fetchAll(
                db, sql: "SELECT did, commit_cid, rev FROM repo_root WHERE did > ? ORDER BY did LIMIT ?",
                arguments: [cursor ?? "", limit])
        }
        return try rows.map { row in
            guard let did = try? DID(row["did"] as String) else { throw StorageError(.corrupt, "a repo_root row has an invalid DID") }
            return RepoRoot(did: did, commit: try Self.cid(row["commit_cid"]), rev: try Self.tid(row["rev"]))
        }
    }

    public func record(of did: DID, collection: String, rkey: String) throws -> CID? {
        let data = try read { db in
            try Data.fetchOne(
                db, sql: "SELECT cid FROM record WHERE did = ? AND collection = ? AND rkey = ?", arguments: [did.description, collection, rkey])
        }
        return try data.map(Self.cid)
    }

    public func snapshot(of did: DID) throws -> (any RepoSnapshot)? {
        let snapshot: DatabaseSnapshot
        do {
            snapshot = try pool.makeSnapshot()
        } catch {
            throw StorageError(.io, "\(error)")
        }
        let row = try snapshot.read { db in
            try Row.fetchOne(db, sql: "SELECT commit_cid, rev FROM repo_root WHERE did = ?", arguments: [did.description])
        }
        guard let row else { return nil }
        // An export reads each page once: a small cache per snapshot, so that
        // many exports at once do not each cache the whole repository.
        try? snapshot.read { db in try db.execute(sql: "PRAGMA cache_size = -1024") }
        let root = RepoRoot(did: did, commit: try Self.cid(row["commit_cid"]), rev: try Self.tid(row["rev"]))
        return SQLiteRepoSnapshot(snapshot: snapshot, root: root)
    }

    /// Deletes `did`'s repository (blocks, records, blob references, root)
    /// in the current transaction.
    static func deleteRepo(_ did: String, in db: Database) throws {
        try db.execute(sql: "DELETE FROM block WHERE repo = (SELECT id FROM repo WHERE did = ?)", arguments: [did])
        for table in ["repo", "record", "record_blob", "repo_root"] {
            try db.execute(sql: "DELETE FROM \(table) WHERE did = ?", arguments: [did])
        }
    }

    static func cid(_ data: Data) throws -> CID {
        do {
            return try CID(bytes: [UInt8](data))
        } catch {
            throw StorageError(.corrupt, "a stored CID does not parse: \(error)")
        }
    }

    static func tid(_ text: String) throws -> TID {
        do {
            return try TID(text)
        } catch {
            throw StorageError(.corrupt, "a stored revision does not parse: \(text)")
        }
    }
}

/// One repository's blocks in SQLite, read through the ``BlockStore`` seam.
/// Writes go through ``SQLiteStore/apply(_:)``, a commit at a time.
struct SQLiteBlockStore: BlockStore {
    let store: SQLiteStore
    let did: DID

    func get(_ cid: CID) throws -> [UInt8]? {
        try store.read { db in
            try Data.fetchOne(
                db.cachedStatement(sql: "SELECT bytes FROM block WHERE repo = (SELECT id FROM repo WHERE did = ?) AND cid = ?"),
                arguments: [did.description, Data(cid.bytes)]).map { [UInt8]($0) }
        }
    }

    func put(_ cid: CID, _ bytes: [UInt8]) throws {
        throw StorageError(.io, "SQLite repository blocks are written a commit at a time")
    }
}

/// A repository in a WAL snapshot of the database.
final class SQLiteRepoSnapshot: RepoSnapshot, Sendable {
    /// The snapshot's connection, until ``close()``.
    private let connection: Mutex<DatabaseSnapshot?>
    let root: RepoRoot

    init(snapshot: DatabaseSnapshot, root: RepoRoot) {
        connection = Mutex(snapshot)
        self.root = root
    }

    /// Releases the snapshot's connection (and its read transaction) now,
    /// whoever still holds this value.
    func close() {
        try? connection.withLock { $0.take() }?.close()
    }

    /// Keyset pagination, so that each batch is a range and costs the same
    /// however far the export has got: an export reads the repository's
    /// range of the table in the order its blocks came, which is revision
    /// order; a `since` diff starts that read where the revisions after
    /// `since` begin (``firstBlock(after:repo:in:)``). Sections are framed
    /// straight from SQLite's buffers.
    func forEachSectionChunk(since: TID?, batchSize: Int, maxBytes: Int, _ body: ([UInt8]) async throws -> Void) async throws {
        guard let snapshot = connection.withLock({ $0 }) else { throw StorageError(.io, "the snapshot of \(root.did) is closed") }
        let did = root.did.description, after = since?.description ?? ""
        // The repository's number, and the block number the read starts past.
        let start = try await snapshot.read { db -> (repo: Int64, past: Int64)? in
            guard let repo = try Int64.fetchOne(db, sql: "SELECT id FROM repo WHERE did = ?", arguments: [did]) else { return nil }
            return (repo, since == nil ? 0 : try Self.firstBlock(after: after, repo: repo, in: db) - 1)
        }
        guard let (repo, past) = start else { return }
        var lastID = past
        while true {
            let arguments: [RawStatement.Argument] = [.int(repo), .int(lastID), .text(after), .int(Int64(batchSize))]
            let (chunk, full, id) = try await snapshot.read { (db: Database) throws -> ([UInt8], Bool, Int64) in
                // The revision test only guards the invariant; past the start every block passes it.
                let statement = try RawStatement(
                    cached: db, "SELECT cid, bytes, id FROM block WHERE repo = ? AND id > ? AND rev > ? ORDER BY id LIMIT ?")
                var chunk = [UInt8](), count = 0, full = false, lastID: Int64 = 0
                chunk.reserveCapacity(maxBytes + (4 << 10))
                // A batch ends at `batchSize` rows or once it holds `maxBytes`, whichever comes first.
                try statement.forEach(arguments) { row in
                    row.withBlob(0) { cid in row.withBlob(1) { bytes in CARWriter<[UInt8]>.appendSection(cid: cid, data: bytes, to: &chunk) } }
                    count += 1
                    guard count == batchSize || chunk.count >= maxBytes else { return true }
                    full = true
                    lastID = row.int(2)
                    return false
                }
                return (chunk, full, lastID)
            }
            if !chunk.isEmpty { try await body(chunk) }
            if !full { return }
            lastID = id
        }
    }

    /// The first block number of `repo` from which every block is of a
    /// revision after `after`: a binary search of the numbers, about 20
    /// lookups for a million blocks.
    ///
    /// Blocks are numbered in revision order: a commit's blocks are
    /// appended under its revision, after its predecessor's (the writer
    /// refuses a commit that is not after the last), and a block written
    /// again takes a new number (``CommitWriter``). So whether the
    /// first block at or past a number is of a later revision only ever
    /// turns from false to true along the numbers.
    static func firstBlock(after: String, repo: Int64, in db: Database) throws -> Int64 {
        let firstAtOrPast = try RawStatement(cached: db, "SELECT rev FROM block WHERE repo = ? AND id >= ? ORDER BY id LIMIT 1")
        var low: Int64 = 0
        var high = try RawStatement(cached: db, "SELECT MAX(id) FROM block WHERE repo = ?").row(.int(repo), body: { $0.int(0) }).map { $0 + 1 } ?? 1
        while low < high {
            let middle = low + (high - low) / 2
            if let rev = try firstAtOrPast.row(.int(repo), .int(middle), body: { $0.text(0) }), rev <= after {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }
}

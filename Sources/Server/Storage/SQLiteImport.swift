import ATData
import ATRepo
import ATSyntax
import Foundation
import GRDB
import GRDBSQLite

extension SQLiteStore {
    /// Where imports stage their blocks: a directory beside the database.
    var importDirectory: URL {
        URL(fileURLWithPath: pool.path).deletingLastPathComponent().appendingPathComponent("imports")
    }

    /// Drops the staging files of imports that were running when the process
    /// stopped; called when the server opens the store.
    public func discardStagedImports() throws {
        try? FileManager.default.removeItem(at: importDirectory)
    }

    /// How many imports have staging files now.
    func stagedImports() -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: importDirectory.path)) ?? []).count
    }

    public func beginImport(did: DID) throws -> any RepoImport {
        try SQLiteRepoImport(store: self, did: did, file: importDirectory.appendingPathComponent("\(UUID().uuidString).sqlite"))
    }

    public func referencesBlob(_ cid: CID, of did: DID) throws -> Bool {
        try read { db in
            try Bool.fetchOne(
                db, sql: "SELECT 1 FROM record_blob WHERE did = ? AND blob_cid = ? LIMIT 1", arguments: [did.description, cid.description]) ?? false
        }
    }

    public func blobReferences(of did: DID, after cursor: String?, limit: Int) throws -> [(blob: String, collection: String, rkey: String)] {
        let rows = try read { db in
            try Row.fetchAll(
                db, sql: """
                    SELECT blob_cid, MIN(collection || '/' || rkey) AS path FROM record_blob
                    WHERE did = ? AND blob_cid > ? GROUP BY blob_cid ORDER BY blob_cid LIMIT ?
                    """,
                arguments: [did.description, cursor ?? "", limit])
        }
        return rows.map { row in
            let path: String = row["path"]
            let slash = path.firstIndex(of: "/") ?? path.endIndex
            return (row["blob_cid"], String(path[..<slash]), String(path[path.index(after: slash)...]))
        }
    }
}

/// An import staged in a SQLite file of its own: blocks appended as they
/// arrive (no journal, no sync: the file is thrown away on any failure), then
/// sorted once into a table clustered by CID. The swap attaches that file to
/// the writer's connection, so that the walk reads staged blocks and the
/// kept ones are copied into the repository in CID order in one statement.
final class SQLiteRepoImport: RepoImport {
    let store: SQLiteStore
    let did: DID
    let file: URL
    private let staging: DatabaseQueue

    init(store: SQLiteStore, did: DID, file: URL) throws {
        self.store = store
        self.did = did
        self.file = file
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -2048")
        }
        do {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            staging = try DatabaseQueue(path: file.path, configuration: configuration)
            try staging.writeWithoutTransaction { db in
                try db.execute(sql: """
                    CREATE TABLE arrived (cid BLOB NOT NULL, bytes BLOB NOT NULL);
                    CREATE TABLE used (cid BLOB PRIMARY KEY) WITHOUT ROWID;
                    """)
            }
        } catch {
            throw StorageError(.io, "cannot stage an import at \(file.path): \(error)")
        }
    }

    func stage(_ blocks: [(cid: CID, bytes: [UInt8])]) throws {
        do {
            try staging.inTransaction { db in
                let insert = try RawStatement(db, "INSERT INTO arrived (cid, bytes) VALUES (?, ?)")
                for block in blocks { try insert.run(.blob(block.cid.bytes), .blob(block.bytes)) }
                return .commit
            }
        } catch {
            throw StorageError(.io, "cannot stage an import: \(error)")
        }
    }

    func install(
        rev: TID, _ build: (any BlockStore, any ImportSink) throws -> (cid: CID, bytes: [UInt8]), checkRecord: (CID, [UInt8]) throws -> [CID]
    ) throws {
        defer { discard() }
        do {
            // Sorted once (SQLite's external sort), then stored clustered by CID.
            try staging.writeWithoutTransaction { db in
                try db.execute(sql: """
                    CREATE TABLE blocks (cid BLOB PRIMARY KEY, bytes BLOB NOT NULL) WITHOUT ROWID;
                    INSERT OR IGNORE INTO blocks (cid, bytes) SELECT cid, bytes FROM arrived ORDER BY cid;
                    """)
            }
            try staging.close()
        } catch {
            throw StorageError(.io, "cannot index a staged import: \(error)")
        }
        try store.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS staging", arguments: [file.path])
            defer { try? db.execute(sql: "DETACH DATABASE staging") }
            // A fixed cache for the walk's lookups: memory stays the same whatever the size.
            try db.execute(sql: "PRAGMA staging.journal_mode = OFF; PRAGMA staging.synchronous = OFF; PRAGMA staging.cache_size = -16384")
            try db.inTransaction {
                let did = did.description, rev = rev.description
                try SQLiteStore.deleteRepo(did, in: db)
                try db.execute(sql: "INSERT INTO repo (did) VALUES (?)", arguments: [did])
                let repo = db.lastInsertedRowID
                let commit = try build(try StagedBlocks(db: db), try SQLiteImportSink(db: db, did: did))
                let records = try Self.storeRecords(db, did: did, repo: repo, rev: rev, checkRecord: checkRecord)
                // The nodes the walk kept, read in CID order and appended after the records; then the commit.
                try db.execute(
                    sql: """
                        INSERT OR IGNORE INTO block (repo, id, cid, rev, bytes)
                        SELECT ?1, ?3 + ROW_NUMBER() OVER (ORDER BY b.cid), b.cid, ?2, b.bytes
                        FROM staging.blocks b JOIN staging.used u ON u.cid = b.cid ORDER BY b.cid
                        """,
                    arguments: [repo, rev, records])
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO block (repo, id, cid, rev, bytes)
                        VALUES (?1, (SELECT COALESCE(MAX(id), 0) + 1 FROM block WHERE repo = ?1), ?2, ?3, ?4)
                        """,
                    arguments: [repo, Data(commit.cid.bytes), rev, Data(commit.bytes)])
                try db.execute(
                    sql: "INSERT INTO repo_root (did, commit_cid, rev) VALUES (?, ?, ?)", arguments: [did, Data(commit.cid.bytes), rev])
                return .commit
            }
        }
    }

    /// Reads the staged block of every record the walk indexed, in CID order
    /// (one pass over the clustered table), checks it, indexes its blobs, and
    /// stores it; then makes sure none was missing.
    /// Returns the number of the last block stored (the records are the
    /// repository's first blocks, numbered from 1).
    private static func storeRecords(
        _ db: Database, did: String, repo: Int64, rev: String, checkRecord: (CID, [UInt8]) throws -> [CID]
    ) throws -> Int64 {
        let scan = try RawStatement(db, """
            SELECT b.cid, b.bytes FROM staging.blocks b
            WHERE EXISTS (SELECT 1 FROM main.record r WHERE r.did = ?1 AND r.cid = b.cid) ORDER BY b.cid
            """)
        let store = try RawStatement(db, "INSERT OR IGNORE INTO block (repo, id, cid, rev, bytes) VALUES (?, ?, ?, ?, ?)")
        let paths = try db.cachedStatement(sql: "SELECT collection, rkey FROM record WHERE did = ? AND cid = ?")
        let putBlob = try db.cachedStatement(sql: "INSERT OR IGNORE INTO record_blob (did, collection, rkey, blob_cid, rev) VALUES (?, ?, ?, ?, ?)")
        var found = 0
        try scan.forEach(.text(did)) { columns in
            let cidBytes = columns.blob(0), bytes = columns.blob(1)
            let cid: CID
            do { cid = try CID(bytes: cidBytes) } catch { throw StorageError(.corrupt, "a staged CID does not parse: \(error)") }
            let blobs = try checkRecord(cid, bytes)
            try store.run(.int(repo), .int(Int64(found + 1)), .blob(cidBytes), .text(rev), .blob(bytes))
            if !blobs.isEmpty {
                for row in try Row.fetchAll(paths, arguments: [did, Data(cidBytes)]) {
                    for blob in blobs { try putBlob.execute(arguments: [did, row[0] as String, row[1] as String, blob.description, rev]) }
                }
            }
            found += 1
        }
        let indexed = try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT cid) FROM record WHERE did = ?", arguments: [did]) ?? 0
        guard found == indexed else {
            let missing = try Data.fetchOne(db, sql: """
                SELECT r.cid FROM record r WHERE r.did = ? AND NOT EXISTS (SELECT 1 FROM staging.blocks b WHERE b.cid = r.cid) LIMIT 1
                """, arguments: [did]).flatMap { try? CID(bytes: [UInt8]($0)) }
            throw RepoError(.missingBlock, "record \(missing?.description ?? "?") is missing", cid: missing)
        }
        return Int64(found)
    }

    func discard() {
        try? staging.close()
        try? FileManager.default.removeItem(at: file)
    }
}

/// The staged blocks, read on the connection of the transaction that
/// installs them. Only used inside that transaction's closure, on its thread.
private struct StagedBlocks: BlockStore, @unchecked Sendable {
    let select: RawStatement

    init(db: Database) throws {
        select = try RawStatement(db, "SELECT bytes FROM staging.blocks WHERE cid = ?")
    }

    func get(_ cid: CID) throws -> [UInt8]? {
        try select.row(.blob(cid.bytes)) { columns in columns.blob(0) }
    }

    func put(_ cid: CID, _ bytes: [UInt8]) throws {
        throw StorageError(.io, "staged import blocks are read-only")
    }
}

/// What the walk keeps, in the install transaction: nodes are marked (and
/// copied at the end), records indexed by path (their blocks are read,
/// checked and copied after the walk, in CID order).
private struct SQLiteImportSink: ImportSink {
    let markUsed: RawStatement
    let putRecord: RawStatement
    let did: String

    init(db: Database, did: String) throws {
        markUsed = try RawStatement(db, "INSERT OR IGNORE INTO staging.used (cid) VALUES (?)")
        putRecord = try RawStatement(db, "INSERT INTO record (did, collection, rkey, cid) VALUES (?, ?, ?, ?)")
        self.did = did
    }

    func keep(_ cid: CID) throws {
        try markUsed.run(.blob(cid.bytes))
    }

    func index(collection: String, rkey: String, cid: CID) throws {
        try putRecord.run(.text(did), .text(collection), .text(rkey), .blob(cid.bytes))
    }
}

import ATData
import ATRepo
import ATSyntax
import Foundation
import GRDB

extension SQLiteStore {
    /// Drops the staged blocks of imports that were running when the process
    /// stopped; called when the server opens the store.
    public func discardStagedImports() throws {
        try write { db in try db.execute(sql: "DELETE FROM import_block") }
    }

    /// How many blocks imports have staged.
    func stagedImportBlocks() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM import_block") ?? 0 }
    }

    public func beginImport(did: DID) throws -> any RepoImport {
        SQLiteRepoImport(store: self, did: did, id: Int64.random(in: 1...Int64.max))
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

/// An import staged in `import_block` under a random id; the swap is one
/// write transaction that reads the staged blocks on the writer's connection.
final class SQLiteRepoImport: RepoImport {
    let store: SQLiteStore
    let did: DID
    let id: Int64

    init(store: SQLiteStore, did: DID, id: Int64) {
        self.store = store
        self.did = did
        self.id = id
    }

    func stage(_ blocks: [(cid: CID, bytes: [UInt8])]) throws {
        try store.write { db in
            let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO import_block (import_id, cid, bytes) VALUES (?, ?, ?)")
            for block in blocks { try insert.execute(arguments: [id, Data(block.cid.bytes), Data(block.bytes)]) }
        }
    }

    func install(rev: TID, _ build: (any BlockStore, any ImportSink) throws -> CID) throws {
        defer { discard() }
        try store.write { db in
            let did = did.description
            for table in ["block", "record", "record_blob", "repo_root"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE did = ?", arguments: [did])
            }
            let sink = try SQLiteImportSink(db: db, did: did, rev: rev.description)
            let commit = try build(StagedBlocks(db: db, id: id), sink)
            try db.execute(
                sql: "INSERT INTO repo_root (did, commit_cid, rev) VALUES (?, ?, ?)", arguments: [did, Data(commit.bytes), rev.description])
        }
    }

    func discard() {
        try? store.write { db in try db.execute(sql: "DELETE FROM import_block WHERE import_id = ?", arguments: [id]) }
    }
}

/// The staged blocks, read on the connection of the transaction that
/// installs them. Only used inside that transaction's closure, on its thread.
private struct StagedBlocks: BlockStore, @unchecked Sendable {
    let select: Statement
    let id: Int64

    init(db: Database, id: Int64) throws {
        select = try db.cachedStatement(sql: "SELECT bytes FROM import_block WHERE import_id = ? AND cid = ?")
        self.id = id
    }

    func get(_ cid: CID) throws -> [UInt8]? {
        try Data.fetchOne(select, arguments: [id, Data(cid.bytes)]).map { [UInt8]($0) }
    }

    func put(_ cid: CID, _ bytes: [UInt8]) throws {
        throw StorageError(.io, "staged import blocks are read-only")
    }
}

/// Writes the verified repository into the live tables, in the install transaction.
private struct SQLiteImportSink: ImportSink {
    let putBlock: Statement
    let putRecord: Statement
    let putBlob: Statement
    let did: String
    let rev: String

    init(db: Database, did: String, rev: String) throws {
        putBlock = try db.cachedStatement(sql: "INSERT OR IGNORE INTO block (did, cid, rev, bytes) VALUES (?, ?, ?, ?)")
        putRecord = try db.cachedStatement(sql: "INSERT INTO record (did, collection, rkey, cid) VALUES (?, ?, ?, ?)")
        putBlob = try db.cachedStatement(sql: "INSERT OR IGNORE INTO record_blob (did, collection, rkey, blob_cid, rev) VALUES (?, ?, ?, ?, ?)")
        self.did = did
        self.rev = rev
    }

    func keep(_ cid: CID, _ bytes: [UInt8]) throws {
        try putBlock.execute(arguments: [did, Data(cid.bytes), rev, Data(bytes)])
    }

    func index(collection: String, rkey: String, cid: CID, blobs: [CID]) throws {
        try putRecord.execute(arguments: [did, collection, rkey, Data(cid.bytes)])
        for blob in blobs { try putBlob.execute(arguments: [did, collection, rkey, blob.description, rev]) }
    }
}

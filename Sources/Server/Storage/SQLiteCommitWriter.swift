import ATData
import ATSyntax
import Foundation
import GRDB

/// Writes commits into the current transaction through the connection's
/// cached statements, bound through SQLite's C API: one per transaction, so
/// that a group of commits looks each statement up once.
///
/// A commit adds its blocks, updates the record index and the blobs each
/// record references, deletes the blocks it no longer needs (unless it wrote
/// them again or another path still holds the record), moves the root, and
/// appends its firehose event.
final class CommitWriter {
    private let putBlock, putRecord, deleteRecord, dropBlobs, addBlob, stillUsed, dropBlock, putRoot, readRoot: RawStatement
    private let lastSeq, putEvent, readRepo, addRepo, lastBlock: RawStatement
    private let db: Database
    /// The last sequence number this transaction gave, once read.
    private var seq: Int64?
    /// The repositories' numbers (the `repo` table), once read.
    private var repoIDs = [String: Int64]()
    /// Per repository number: the last block number given, once read.
    private var lastBlockIDs = [Int64: Int64]()
    /// Per repository: the revision of its last commit (empty for none), as
    /// this transaction leaves it, once read.
    private var lastRevs = [String: String]()

    init(_ db: Database) throws {
        self.db = db
        putBlock = try RawStatement(cached: db, """
            INSERT INTO block (repo, id, cid, rev, bytes) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (repo, cid) DO UPDATE SET id = excluded.id, rev = excluded.rev
            """)
        putRecord = try RawStatement(cached: db, "INSERT OR REPLACE INTO record (did, collection, rkey, cid) VALUES (?, ?, ?, ?)")
        deleteRecord = try RawStatement(cached: db, "DELETE FROM record WHERE did = ? AND collection = ? AND rkey = ?")
        dropBlobs = try RawStatement(cached: db, "DELETE FROM record_blob WHERE did = ? AND collection = ? AND rkey = ?")
        addBlob = try RawStatement(cached: db, "INSERT OR REPLACE INTO record_blob (did, collection, rkey, blob_cid, rev) VALUES (?, ?, ?, ?, ?)")
        stillUsed = try RawStatement(cached: db, "SELECT 1 FROM record WHERE did = ? AND cid = ? LIMIT 1")
        dropBlock = try RawStatement(cached: db, "DELETE FROM block WHERE repo = ? AND cid = ?")
        putRoot = try RawStatement(cached: db, "INSERT OR REPLACE INTO repo_root (did, commit_cid, rev) VALUES (?, ?, ?)")
        readRoot = try RawStatement(cached: db, "SELECT commit_cid, rev FROM repo_root WHERE did = ?")
        lastSeq = try RawStatement(cached: db, "SELECT seq FROM sqlite_sequence WHERE name = 'repo_event'")
        putEvent = try RawStatement(cached: db, "INSERT INTO repo_event (seq, did, frame, time) VALUES (?, ?, ?, ?)")
        readRepo = try RawStatement(cached: db, "SELECT id FROM repo WHERE did = ?")
        addRepo = try RawStatement(cached: db, "INSERT INTO repo (did) VALUES (?)")
        lastBlock = try RawStatement(cached: db, "SELECT MAX(id) FROM block WHERE repo = ?")
    }

    /// The next block number of repository `repo`: blocks are numbered in
    /// the order they come, so that each repository's are appended to its
    /// range in revision order. A block written again takes a new number
    /// (`putBlock`), which keeps that order for `since` diffs.
    private func nextBlockID(of repo: Int64) throws -> Int64 {
        let last = try lastBlockIDs[repo] ?? lastBlock.row(.int(repo), body: { $0.int(0) }) ?? 0
        lastBlockIDs[repo] = last + 1
        return last + 1
    }

    /// The number of `did`'s repository, given it on first use.
    func repoID(of did: String) throws -> Int64 {
        if let known = repoIDs[did] { return known }
        let id: Int64
        if let stored = try readRepo.row(.text(did), body: { $0.int(0) }) {
            id = stored
        } else {
            try addRepo.run(.text(did))
            id = db.lastInsertedRowID
        }
        repoIDs[did] = id
        return id
    }

    /// The stored root commit of `did`, as this transaction sees it.
    func root(of did: String) throws -> CID? {
        guard let bytes = try readStoredRoot(did) else { return nil }
        do {
            return try CID(bytes: bytes)
        } catch {
            throw StorageError(.corrupt, "a stored CID does not parse: \(error)")
        }
    }

    /// The stored root commit's CID of `did`, if any; keeps its revision
    /// for ``apply(_:updatingRoot:skipping:)`` unless this transaction has
    /// moved past it.
    private func readStoredRoot(_ did: String) throws -> [UInt8]? {
        let row = try readRoot.row(.text(did), body: { ($0.blob(0), $0.text(1)) })
        if lastRevs[did] == nil { lastRevs[did] = row?.1 ?? "" }
        return row?.0
    }

    /// Writes `commit`.
    ///
    /// A commit must come after the repository's last: its blocks are
    /// numbered after that commit's, and `since` diffs rely on numbers that
    /// follow revisions. One that does not (two hosts racing over one
    /// account, say) is refused with ``StorageError/Code/conflict``.
    ///
    /// - Parameters:
    ///   - updatingRoot: `false` when a later commit of the same repository
    ///     in this transaction sets the root (readers only ever see the last).
    ///   - skipping: new blocks not to write, because a later commit in this
    ///     transaction removes them again (``transientBlocks(of:)``).
    func apply(_ commit: StoredCommit, updatingRoot: Bool = true, skipping: Set<CID> = []) throws -> SequencedEvent? {
        let didText = commit.did.description, revText = commit.rev.description
        let did = RawStatement.Argument.text(didText), rev = RawStatement.Argument.text(revText)
        if lastRevs[didText] == nil { _ = try readStoredRoot(didText) }
        if let last = lastRevs[didText], revText <= last {
            throw StorageError(.conflict, "\(didText) is at revision \(last), not before \(revText)")
        }
        lastRevs[didText] = revText
        let repoNumber = try repoID(of: didText), repo = RawStatement.Argument.int(repoNumber)
        for block in commit.newBlocks where !skipping.contains(block.cid) {
            try putBlock.run(repo, .int(try nextBlockID(of: repoNumber)), .blob(block.cid.bytes), rev, .blob(block.bytes))
        }
        for change in commit.records {
            if let cid = change.cid {
                try putRecord.run(did, .text(change.collection), .text(change.rkey), .blob(cid.bytes))
            } else {
                try deleteRecord.run(did, .text(change.collection), .text(change.rkey))
            }
        }
        for entry in commit.blobs {
            try dropBlobs.run(did, .text(entry.collection), .text(entry.rkey))
            for cid in entry.cids { try addBlob.run(did, .text(entry.collection), .text(entry.rkey), .text(cid.description), rev) }
        }
        // Removed blocks go, unless this commit wrote them again or another path still holds the record.
        let written = Set(commit.newBlocks.map(\.cid))
        for cid in Set(commit.removed) where !written.contains(cid) {
            let key = RawStatement.Argument.blob(cid.bytes)
            if try stillUsed.row(did, key, body: { _ in true }) == true { continue }
            try dropBlock.run(repo, key)
        }
        if updatingRoot {
            try putRoot.run(did, .blob(commit.commit.bytes), rev)
        }
        guard let make = commit.event else { return nil }
        return try appendEvent(did: commit.did.description, make)
    }

    /// For each of `commits`, written in order in one transaction: the new
    /// blocks that a later commit of the same repository removes again.
    ///
    /// Readers see a transaction whole, so no reader ever needs them: the
    /// top of the tree, rewritten by each commit, and each commit block but
    /// the last. Writing them only to delete them was more than half of the
    /// block writes of one busy account. Blocks of records written by the
    /// commit are kept, since another path may hold the same record.
    static func transientBlocks(of commits: [StoredCommit]) -> [Set<CID>] {
        var removedLater = [DID: Set<CID>]()
        var transient = [Set<CID>](repeating: [], count: commits.count)
        for (i, commit) in commits.enumerated().reversed() {
            if let later = removedLater[commit.did] {
                let records = Set(commit.records.compactMap(\.cid))
                transient[i] = Set(commit.newBlocks.lazy.map(\.cid).filter { later.contains($0) && !records.contains($0) })
            }
            removedLater[commit.did, default: []].formUnion(commit.removed)
        }
        return transient
    }

    /// Appends an event with the next sequence number.
    func appendEvent(did: String, _ make: (Int64) -> [UInt8]) throws -> SequencedEvent {
        let last: Int64
        if let seq {
            last = seq
        } else {
            last = try lastSeq.row(body: { $0.int(0) }) ?? 0
        }
        let next = last + 1
        let frame = make(next)
        try putEvent.run(.int(next), .text(did), .blob(frame), .real(Date().timeIntervalSince1970))
        seq = next
        return SequencedEvent(seq: next, frame: frame)
    }
}

import ATCrypto
import ATData
import ATRepo
import ATSyntax
import Foundation
@testable import Server
import Testing

/// Commits of one repository written in one transaction: blocks that a later
/// commit of the group removes again are never written, and everything the
/// last tree needs is.
@Suite("Transient blocks in a group")
struct TransientBlockTests {
    let did = try! DID("did:plc:transientblocks000000000")
    let key = try! K256PrivateKey()

    func store() throws -> SQLiteStore {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("transient-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return try SQLiteStore(path: dir.appendingPathComponent("db.sqlite").path)
    }

    func path(_ rkey: String) throws -> RepoPath {
        RepoPath(collection: try NSID("app.bsky.feed.post"), recordKey: try RecordKey(rkey))
    }

    /// Builds the next commit in memory, as the PDS's writer does.
    func next(_ repo: Repository, _ writes: [RecordWrite], rev: UInt64, previous: CID? = nil) throws -> (Repository, StoredCommit) {
        let staging = StagingStore(base: repo.store)
        let tid = TID(microseconds: 1_800_000_000_000_000 + rev, clockID: 0)
        let (after, result) = try repo.applying(writes, key: key, rev: tid, store: staging)
        let records = result.ops.map { (collection: $0.path.collection.description, rkey: $0.path.recordKey.description, cid: $0.cid) }
        let stored = StoredCommit(
            did: did, commit: result.commitCID, rev: tid, newBlocks: result.newBlocks, removed: result.removedCIDs + [repo.commitCID],
            records: records, blobs: [], event: nil, previous: previous ?? repo.commitCID)
        return (after, stored)
    }

    /// Opens the stored repository, reads every record, and checks that the
    /// block table holds exactly the commit, the tree and its records.
    func expectExact(_ db: SQLiteStore, at commit: CID, records expected: Int) throws {
        #expect(try db.root(of: did)?.commit == commit)
        let repo = try Repository.open(commit: commit, store: db.blocks(of: did), key: key.publicKey)
        let records = try repo.recordCIDs()
        #expect(records.count == expected)
        for (_, cid) in records { #expect(try db.blocks(of: did).get(cid) != nil) }
        let needed = 1 + repo.mst.nodes().count + Set(records.map(\.cid)).count
        #expect(try db.counts(of: did).blocks == needed)
    }

    func succeeded(_ result: Result<SequencedEvent?, StorageError>) -> Bool {
        if case .success = result { true } else { false }
    }

    func start(_ db: SQLiteStore) throws -> Repository {
        _ = try RepoWriter.create(did: did, key: key, store: db)
        let root = try #require(try db.root(of: did))
        return try Repository.open(commit: root.commit, store: db.blocks(of: did), key: key.publicKey)
    }

    @Test func aGroupOfOneRepositoryWritesOnlyItsLastTree() throws {
        let db = try store()
        var repo = try start(db)
        var group = [StoredCommit]()
        for i in 0..<40 {
            let commit: StoredCommit
            (repo, commit) = try next(repo, [.create(try path("k\(i)"), ["text": .string("post \(i)")])], rev: UInt64(i + 1))
            group.append(commit)
        }
        let transient = CommitWriter.transientBlocks(of: group)
        // The top of the tree and each commit block but the last are rewritten within the group.
        #expect(transient.last?.isEmpty == true)
        for i in group.indices.dropLast() { #expect(transient[i].contains(group[i].commit)) }
        #expect(transient.reduce(0) { $0 + $1.count } >= 2 * 39)
        let results = try db.apply(group: group)
        #expect(results.allSatisfy(succeeded))
        try expectExact(db, at: repo.commitCID, records: 40)
    }

    /// One commit writes a record at two paths; a later commit of the same
    /// group deletes one of them. The record block stays: the other path holds it.
    @Test func aRecordHeldByAnotherPathIsWritten() throws {
        let db = try store()
        var repo = try start(db)
        let shared: DataValue = ["text": "the same record"]
        let (one, first) = try next(repo, [.create(try path("a"), shared), .create(try path("b"), shared)], rev: 1)
        let (two, second) = try next(one, [.delete(try path("a"))], rev: 2)
        let (three, third) = try next(two, [.create(try path("c"), ["text": "another"])], rev: 3)
        repo = three
        #expect(second.removed.contains(DAGCBOR.encodeWithCID(shared).cid))
        _ = try db.apply(group: [first, second, third])
        try expectExact(db, at: repo.commitCID, records: 2)
        #expect(try db.blocks(of: did).get(DAGCBOR.encodeWithCID(shared).cid) != nil)
    }

    /// A refused commit takes no part: the commit before it keeps its whole tree.
    @Test func aRefusedSuccessorLeavesItsPredecessorWhole() throws {
        let db = try store()
        let repo = try start(db)
        let (one, first) = try next(repo, [.create(try path("a"), ["text": "a"])], rev: 1)
        // Built on `one`, but claims to follow another commit: refused.
        let (_, refused) = try next(one, [.delete(try path("a"))], rev: 2, previous: repo.commitCID)
        let results = try db.apply(group: [first, refused])
        #expect(results.map(succeeded) == [true, false])
        try expectExact(db, at: one.commitCID, records: 1)
    }
}

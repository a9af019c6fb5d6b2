import ATCrypto
import ATData
import ATRepo
import ATSyntax
import Foundation
@testable import Server
import Synchronization
import Testing

/// A writer reads its tree block by block. A commit that another writer of
/// the account (one the cache has just retired) stores meanwhile deletes the
/// nodes it replaced, some of which the load may not have read yet.
@Suite("Loading a writer while its repository moves")
struct WriterLoadTests {
    let helpers = TransientBlockTests()

    /// A repository of 120 records in a tree of several layers, and the
    /// next commit of it, not yet stored.
    func setUp() throws -> (SQLiteStore, StoredCommit) {
        let db = try helpers.store()
        var repo = try helpers.start(db)
        for batch in 0..<3 {
            let writes = try (0..<40).map { i in
                RecordWrite.create(try helpers.path("r\(batch)x\(i)"), ["$type": "app.bsky.feed.post", "text": .string("\(batch) \(i)")])
            }
            let (after, stored) = try helpers.next(repo, writes, rev: UInt64(batch + 1))
            try db.apply(stored)
            repo = after
        }
        let (_, moving) = try helpers.next(repo, [.create(try helpers.path("moved"), ["$type": "app.bsky.feed.post", "text": "moved"])], rev: 100)
        return (db, moving)
    }

    @Test func aTreeThatMovesWhileItLoadsIsReadAgainFromTheNewRoot() async throws {
        let (db, moving) = try setUp()
        // The commit lands just before the load reads its second block, the
        // tree's root node, which that commit replaces (and so deletes).
        let racing = RacingStore(db) { try db.apply(moving) }
        let writer = try RepoWriter(did: helpers.did, key: helpers.key, store: racing)
        let hookRan = racing.hooked.load(ordering: .relaxed)
        #expect(hookRan)
        #expect(await writer.repo.commitCID == moving.commit)
        #expect(try await writer.repo.mst.get(try helpers.path("moved").key) != nil)
        #expect(try await writer.repo.recordCIDs().count == 121)
    }

    @Test func aBlockMissingUnderARootThatStaysIsAnError() throws {
        let (db, _) = try setUp()
        let racing = RacingStore(db, hidesSecondBlock: true) {}
        #expect { _ = try RepoWriter(did: helpers.did, key: helpers.key, store: racing) } throws: {
            ($0 as? RepoError)?.code == .missingBlock
        }
    }
}

/// A store that runs `hook` once, when the second block of a repository is
/// read (and, if asked, answers that block is missing); otherwise the store
/// it wraps.
final class RacingStore: RepoStore {
    let base: SQLiteStore
    let hidesSecondBlock: Bool
    let hook: @Sendable () throws -> Void
    let reads = Atomic<Int>(0)
    let hooked = Atomic<Bool>(false)

    init(_ base: SQLiteStore, hidesSecondBlock: Bool = false, hook: @escaping @Sendable () throws -> Void) {
        self.base = base
        self.hidesSecondBlock = hidesSecondBlock
        self.hook = hook
    }

    struct Blocks: BlockStore {
        let store: RacingStore
        let base: any BlockStore

        func get(_ cid: CID) throws -> [UInt8]? {
            if store.reads.add(1, ordering: .relaxed).newValue == 2 {
                try store.hook()
                store.hooked.store(true, ordering: .relaxed)
                if store.hidesSecondBlock { return nil }
            }
            return try base.get(cid)
        }

        func put(_ cid: CID, _ bytes: [UInt8]) throws { try base.put(cid, bytes) }
    }

    func blocks(of did: DID) -> any BlockStore { Blocks(store: self, base: base.blocks(of: did)) }
    func root(of did: DID) throws -> RepoRoot? { try base.root(of: did) }
    func apply(_ commit: StoredCommit) throws -> SequencedEvent? { try base.apply(commit) }
    func apply(group commits: [StoredCommit]) throws -> [Result<SequencedEvent?, StorageError>] { try base.apply(group: commits) }
    func records(of did: DID, collection: String, limit: Int, cursor: String?, reverse: Bool) throws -> [(rkey: String, cid: CID)] {
        try base.records(of: did, collection: collection, limit: limit, cursor: cursor, reverse: reverse)
    }
    func collections(of did: DID) throws -> [String] { try base.collections(of: did) }
    func blobs(of did: DID, since: TID?, cursor: String?, limit: Int) throws -> [String] {
        try base.blobs(of: did, since: since, cursor: cursor, limit: limit)
    }
    func repos(after cursor: String?, limit: Int) throws -> [RepoRoot] { try base.repos(after: cursor, limit: limit) }
    func record(of did: DID, collection: String, rkey: String) throws -> CID? { try base.record(of: did, collection: collection, rkey: rkey) }
    func deleteRepo(of did: DID) throws { try base.deleteRepo(of: did) }
    func counts(of did: DID) throws -> (blocks: Int, records: Int, blobs: Int) { try base.counts(of: did) }
    func snapshot(of did: DID) throws -> (any RepoSnapshot)? { try base.snapshot(of: did) }
    func blobReferences(of did: DID, after cursor: String?, limit: Int) throws -> [(blob: String, collection: String, rkey: String)] {
        try base.blobReferences(of: did, after: cursor, limit: limit)
    }
    func referencesBlob(_ cid: CID, of did: DID) throws -> Bool { try base.referencesBlob(cid, of: did) }
    func beginImport(did: DID) throws -> any RepoImport { try base.beginImport(did: did) }
}

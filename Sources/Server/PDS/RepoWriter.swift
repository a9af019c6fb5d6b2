import ATCrypto
import ATData
import ATRepo
import ATSyntax
import Foundation
import Synchronization

/// One write of a request, before it meets the repository.
struct WriteOp: Sendable {
    enum Action: Sendable { case create, update, put, delete }

    var action: Action
    var collection: NSID
    var rkey: RecordKey
    var record: DataValue?
    /// The record's expected current state (`swapRecord`).
    var swap: Swap?

    enum Swap: Sendable, Hashable {
        case absent
        case cid(CID)
    }

    var path: RepoPath { RepoPath(collection: collection, recordKey: rkey) }
}

/// What a write request did.
struct WriteOutcome: Sendable {
    /// Per op: the record's CID after it (`nil` for a delete), and whether it changed anything.
    var results: [(op: WriteOp, cid: CID?, changed: Bool)]
    /// The commit after the request (the new one, or the current one for a no-op).
    var commit: CID
    /// Its revision.
    var rev: TID
    /// The commit and its blocks, when one was made (the firehose's event).
    var result: CommitResult?
}

/// Serialises the writes to one repository and keeps its tree in memory.
///
/// Each request becomes one signed commit with a fresh `rev`, and is answered
/// only once that commit is durable. The commits go through the shared
/// ``CommitQueue``, which writes those waiting in one transaction: while one
/// commit waits for the disk, the next request builds on it in memory, its
/// blocks read from ``PendingBlocks`` until they are stored. A commit the
/// store refuses is followed by a reload of the stored state.
actor RepoWriter {
    nonisolated let did: DID
    private let key: any PrivateKey
    private let store: any RepoStore
    private let commits: CommitQueue
    /// The head: the last commit made, durable or on its way.
    private(set) var repo: Repository
    /// Blocks of the commits on their way, over the stored ones.
    private let pending: PendingBlocks
    private let clock = TIDClock()
    /// Called with each commit's firehose event once it is durable.
    private let publish: @Sendable (SequencedEvent) -> Void
    /// Writes in progress, or `-1` once retired from the cache.
    private let activity = Atomic<Int>(0)

    /// A write reached a writer that the cache retired: fetch the writer again.
    struct Retired: Error {}

    /// The store held a later commit than the one a write built on (a writer
    /// loaded while another, since retired, was still writing): the writer
    /// has reloaded the stored state, and the write can be tried again.
    struct Stale: Error {
        let refusal: StorageError
    }

    /// Whether the cache has retired this writer.
    nonisolated var isRetired: Bool { activity.load(ordering: .acquiring) < 0 }

    /// Retires this writer if no write is in progress; after that, writes
    /// throw ``Retired``.
    nonisolated func retireIfIdle() -> Bool {
        activity.compareExchange(expected: 0, desired: -1, ordering: .acquiringAndReleasing).exchanged
    }

    /// Counts a write in, unless the writer is retired.
    private func enter() throws(Retired) {
        var current = activity.load(ordering: .acquiring)
        while true {
            guard current >= 0 else { throw Retired() }
            let (exchanged, original) = activity.compareExchange(expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return }
            current = original
        }
    }

    /// Loads the repository at its stored commit.
    init(
        did: DID, key: any PrivateKey, store: any RepoStore, commits: CommitQueue? = nil,
        publish: @escaping @Sendable (SequencedEvent) -> Void = { _ in }
    ) throws {
        self.did = did
        self.key = key
        self.store = store
        self.commits = commits ?? CommitQueue(store: store)
        self.publish = publish
        self.pending = PendingBlocks(base: store.blocks(of: did))
        self.repo = try Self.load(did: did, store: store, blocks: pending)
    }

    /// The repository at its stored commit, through `blocks`; read again
    /// from the new root if a commit that another writer of the account (one
    /// the cache has just retired) stores meanwhile deletes blocks of the
    /// tree before they are read.
    private static func load(did: DID, store: any RepoStore, blocks: PendingBlocks) throws -> Repository {
        let repo = try store.readingStableRoot(of: did) { root in
            let commit = try Commit(decoding: try blocks.require(root.commit))
            let mst = try MST.load(root: commit.data, from: blocks)
            return Repository(trusting: commit, commitCID: root.commit, mst: mst, store: blocks)
        }
        guard let repo else { throw StorageError(.corrupt, "\(did) has no repository") }
        return repo
    }

    /// Creates the repository with its first (empty) commit.
    static func create(
        did: DID, key: any PrivateKey, store: any RepoStore, commits: CommitQueue? = nil,
        publish: @escaping @Sendable (SequencedEvent) -> Void = { _ in }
    ) throws -> RepoWriter {
        let staging = StagingStore(base: MemoryBlockStore())
        let repo = try Repository.create(did: did, key: key, rev: TIDClock().next(), store: staging)
        try store.apply(StoredCommit(
            did: did, commit: repo.commitCID, rev: repo.commit.rev ?? TIDClock().next(), newBlocks: staging.written, removed: [],
            records: [], blobs: [], event: nil))
        return try RepoWriter(did: did, key: key, store: store, commits: commits, publish: publish)
    }

    /// Applies `ops` as one commit, after checking the swaps.
    func apply(_ ops: [WriteOp], swapCommit: CID?) async throws -> WriteOutcome {
        try enter()
        defer { activity.subtract(1, ordering: .releasing) }
        if let swapCommit, swapCommit != repo.commitCID {
            throw XRPCError.named("InvalidSwap", "Commit was at \(repo.commitCID)")
        }
        var writes = [RecordWrite]()
        var results = [(op: WriteOp, cid: CID?, changed: Bool)]()
        var touched = Set<RepoPath>()
        for op in ops {
            let path = op.path
            guard touched.insert(path).inserted else { throw XRPCError.invalidRequest("\(path) is written twice in one request") }
            let existing = try repo.mst.get(path.key)
            switch op.swap {
            case .absent? where existing != nil:
                throw XRPCError.named("InvalidSwap", "Record was at \(existing!)")
            case .cid(let expected)? where existing != expected:
                throw XRPCError.named("InvalidSwap", existing.map { "Record was at \($0)" } ?? "Record was not present")
            default: break
            }
            switch op.action {
            case .delete:
                if existing == nil {
                    results.append((op, nil, false))
                } else {
                    writes.append(.delete(path))
                    results.append((op, nil, true))
                }
            case .create, .update, .put:
                guard let record = op.record else { throw XRPCError.invalidRequest("\(path) needs a record") }
                let cid = DAGCBOR.encodeWithCID(record).cid
                if op.action == .create, existing != nil { throw XRPCError.invalidRequest("Record already exists at \(path)") }
                if op.action == .update, existing == nil { throw XRPCError.invalidRequest("Could not find record at \(path)") }
                if existing == cid {
                    results.append((op, cid, false))  // an identical write changes nothing
                } else {
                    writes.append(existing == nil ? .create(path, record) : .update(path, record))
                    results.append((op, cid, true))
                }
            }
        }
        guard !writes.isEmpty else {
            return WriteOutcome(results: results, commit: repo.commitCID, rev: repo.commit.rev ?? clock.next(), result: nil)
        }
        let rev = nextRev()
        let staging = StagingStore(base: repo.store)
        let (next, result) = try repo.applying(writes, key: key, rev: rev, store: staging)
        var records = [(collection: String, rkey: String, cid: CID?)]()
        var blobs = [(collection: String, rkey: String, cids: [CID])]()
        for (op, cid, changed) in results where changed {
            records.append((op.collection.description, op.rkey.description, cid))
            blobs.append((op.collection.description, op.rkey.description, op.record?.blobReferences ?? []))
        }
        let did = did, since = repo.commit.rev
        let proof = try CommitProof.blocks(tree: next.mst, ops: result.ops, newBlocks: result.newBlocks, from: staging)
        // Encoded here, off the store's serial write, which only numbers it.
        let frame = FirehoseFrame.Message(splitting: FirehoseFrame.commit(seq: 0, did: did, result: result, blocks: proof, since: since))
        let stored = StoredCommit(
            did: did, commit: result.commitCID, rev: rev, newBlocks: result.newBlocks, removed: result.removedCIDs + [repo.commitCID],
            records: records, blobs: blobs,
            event: { seq in
                frame?.frame(seq: seq) ?? FirehoseFrame.commit(seq: seq, did: did, result: result, blocks: proof, since: since)
            },
            previous: repo.commitCID)
        // The head moves now, so that the next request can build on this
        // commit while it waits for the disk.
        pending.add(result.newBlocks)
        repo = Repository(trusting: next.commit, commitCID: next.commitCID, mst: next.mst, store: pending)
        let event: SequencedEvent?
        do {
            // Queued from the actor itself, so in the order the commits were made.
            event = try await withCheckedThrowingContinuation { commits.enqueue(stored, $0) }
        } catch {
            pending.remove(result.newBlocks)
            // This commit is not stored, nor will any built on it be: back to what is.
            if let reloaded = try? Self.load(did: did, store: store, blocks: pending) { repo = reloaded }
            if let refusal = error as? StorageError, refusal.code == .conflict { throw Stale(refusal: refusal) }
            throw error
        }
        pending.remove(result.newBlocks)
        if let event { publish(event) }
        return WriteOutcome(results: results, commit: result.commitCID, rev: rev, result: result)
    }

    /// The proof blocks of `path` at the head (``Repository/recordProof(for:)``).
    func proof(for path: RepoPath) throws -> (commit: CID, blocks: [(cid: CID, bytes: [UInt8])]) {
        (repo.commitCID, try repo.recordProof(for: path))
    }

    /// A `rev` later than the current one, even if the wall clock went back.
    private func nextRev() -> TID {
        let candidate = clock.next()
        guard let current = repo.commit.rev, candidate <= current else { return candidate }
        return TID(microseconds: current.microseconds + 1, clockID: 0)
    }
}

/// The blocks of commits on their way to the store, over the stored blocks
/// of one repository. A block added by several commits stays until the last
/// of them is stored.
final class PendingBlocks: BlockStore {
    private let base: any BlockStore
    private let blocks = Mutex<[CID: (bytes: [UInt8], count: Int)]>([:])

    init(base: any BlockStore) {
        self.base = base
    }

    func get(_ cid: CID) throws -> [UInt8]? {
        if let entry = blocks.withLock({ $0[cid] }) { return entry.bytes }
        return try base.get(cid)
    }

    /// Pending blocks are added with ``add(_:)``; this store is read-only otherwise.
    func put(_ cid: CID, _ bytes: [UInt8]) throws {
        throw StorageError(.io, "pending blocks are added by their commit")
    }

    func add(_ list: [(cid: CID, bytes: [UInt8])]) {
        blocks.withLock { blocks in
            for block in list { blocks[block.cid, default: (block.bytes, 0)].count += 1 }
        }
    }

    func remove(_ list: [(cid: CID, bytes: [UInt8])]) {
        blocks.withLock { blocks in
            for block in list {
                guard let entry = blocks[block.cid] else { continue }
                blocks[block.cid] = entry.count > 1 ? (entry.bytes, entry.count - 1) : nil
            }
        }
    }
}

/// A block store that keeps new blocks aside, over a read-only base.
final class StagingStore: RevisionedBlockStore {
    private let base: any BlockStore
    private let blocks = Mutex<[(cid: CID, bytes: [UInt8])]>([])
    private let index = Mutex<[CID: Int]>([:])

    init(base: any BlockStore) {
        self.base = base
    }

    /// The blocks written, in order.
    var written: [(cid: CID, bytes: [UInt8])] { blocks.withLock { $0 } }

    func get(_ cid: CID) throws -> [UInt8]? {
        if let i = index.withLock({ $0[cid] }) { return blocks.withLock { $0[i].bytes } }
        return try base.get(cid)
    }

    func put(_ cid: CID, _ bytes: [UInt8]) {
        blocks.withLock { list in
            index.withLock { $0[cid] = list.count }
            list.append((cid, bytes))
        }
    }

    func put(_ cid: CID, _ bytes: [UInt8], rev: TID) { put(cid, bytes) }

    func cids(since rev: TID) -> Set<CID> { Set(written.map(\.cid)) }
}

extension DataValue {
    /// The CIDs of the blobs this value references: maps with `$type: blob`
    /// and a `ref` link, at any depth.
    var blobReferences: [CID] { blobRefs.map(\.cid) }

    /// The blobs this value references, with the type and size each reference states.
    var blobRefs: [(cid: CID, mimeType: String?, size: Int?)] {
        var out = [(cid: CID, mimeType: String?, size: Int?)]()
        func visit(_ value: DataValue) {
            switch value {
            case .map(let map):
                if map["$type"] == "blob", let ref = map["ref"]?.linkValue {
                    out.append((ref, map["mimeType"]?.stringValue, map["size"]?.intValue.flatMap { Int(exactly: $0) }))
                }
                for entry in map { visit(entry.value) }
            case .array(let items):
                items.forEach(visit)
            default: break
            }
        }
        visit(self)
        return out
    }
}

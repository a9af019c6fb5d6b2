import ATCrypto
import ATData
import ATSyntax

/// One change to a repository's records.
public enum RecordWrite: Sendable {
    /// Adds a record; the path must be free.
    case create(RepoPath, DataValue)
    /// Replaces a record; the path must exist.
    case update(RepoPath, DataValue)
    /// Removes a record; the path must exist.
    case delete(RepoPath)

    /// The record's path.
    public var path: RepoPath {
        switch self {
        case .create(let p, _), .update(let p, _), .delete(let p): p
        }
    }
}

/// One applied operation, as the firehose reports it.
public struct RecordOp: Sendable, Hashable {
    /// What happened.
    public enum Action: String, Sendable { case create, update, delete }
    /// What happened.
    public let action: Action
    /// The record's path.
    public let path: RepoPath
    /// The record's new CID; `nil` for a delete.
    public let cid: CID?
    /// The record's previous CID; `nil` for a create.
    public let prev: CID?

    /// An op with these fields.
    public init(action: Action, path: RepoPath, cid: CID?, prev: CID?) {
        self.action = action
        self.path = path
        self.cid = cid
        self.prev = prev
    }
}

/// The result of a commit: what a PDS stores and a firehose event carries.
public struct CommitResult: Sendable {
    /// The signed commit.
    public let commit: Commit
    /// Its CID.
    public let commitCID: CID
    /// The previous MST root (`prevData` on the firehose).
    public let prevData: CID
    /// The operations, in the order given.
    public let ops: [RecordOp]
    /// The blocks this commit adds: records, MST nodes, and the commit.
    public let newBlocks: [(cid: CID, bytes: [UInt8])]
    /// The CIDs of MST nodes the tree no longer has, and of records this
    /// commit replaced or deleted. Two paths can hold identical records (one
    /// CID), so a store that shares blocks must count references before it
    /// drops a record block.
    public let removedCIDs: [CID]
}

extension Repository {
    /// A new, empty repository with its first signed commit.
    public static func create(
        did: DID, key: some PrivateKey, rev: TID, store: some RevisionedBlockStore = MemoryBlockStore()
    ) throws -> Repository {
        let mst = MST()
        let commit = try Commit.sign(did: did, data: mst.rootCID, rev: rev, key: key)
        let bytes = commit.encoded()
        let cid = CID.compute(bytes, codec: .dagCBOR)
        try store.put(mst.rootCID, mst.root.bytes, rev: rev)
        try store.put(cid, bytes, rev: rev)
        return Repository(trusting: commit, commitCID: cid, mst: mst, store: store)
    }

    /// Applies `writes` and signs a new commit at `rev`, which must be later
    /// than the current one. The new blocks go into `store`.
    public func applying(
        _ writes: [RecordWrite], key: some PrivateKey, rev: TID, store: some RevisionedBlockStore
    ) throws -> (Repository, CommitResult) {
        if let current = commit.rev, rev <= current {
            throw RepoError(.keyOrder, "rev \(rev) is not after the current rev \(current)")
        }
        var mst = self.mst
        var ops = [RecordOp]()
        var records = [(cid: CID, bytes: [UInt8])]()
        for write in writes {
            let key = write.path.key
            let existing = try mst.get(key)
            switch write {
            case .create(let path, let value), .update(let path, let value):
                if case .create = write, existing != nil { throw RepoError(.keyExists, "\(path) already exists") }
                if case .update = write, existing == nil { throw RepoError(.keyNotFound, "\(path) does not exist") }
                let (cid, bytes) = DAGCBOR.encodeWithCID(value)
                records.append((cid, bytes))
                mst = try mst.inserting(key, cid)
                ops.append(RecordOp(action: existing == nil ? .create : .update, path: path, cid: cid, prev: existing))
            case .delete(let path):
                guard let existing else { throw RepoError(.keyNotFound, "\(path) does not exist") }
                mst = try mst.removing(key)
                ops.append(RecordOp(action: .delete, path: path, cid: nil, prev: existing))
            }
        }
        let changes = try mst.nodeChanges(from: self.mst)
        let signed = try Commit.sign(did: did, data: mst.rootCID, rev: rev, key: key)
        let commitBytes = signed.encoded()
        let commitCID = CID.compute(commitBytes, codec: .dagCBOR)
        // Only records that the new tree still holds are new blocks.
        var kept = Set<CID>()
        for op in ops { if let cid = op.cid, try mst.get(op.path.key) == cid { kept.insert(cid) } }
        var seen = Set<CID>()
        var newBlocks = records.filter { kept.contains($0.cid) && seen.insert($0.cid).inserted }
        newBlocks += changes.new.map { ($0.cid, $0.bytes) }
        newBlocks.append((commitCID, commitBytes))
        for block in newBlocks { try store.put(block.cid, block.bytes, rev: rev) }
        let removed = changes.removed + ops.compactMap { op in op.prev.flatMap { kept.contains($0) ? nil : $0 } }
        let result = CommitResult(
            commit: signed, commitCID: commitCID, prevData: self.mst.rootCID, ops: ops,
            newBlocks: newBlocks, removedCIDs: removed)
        return (Repository(trusting: signed, commitCID: commitCID, mst: mst, store: store), result)
    }

    /// The whole repository as a CAR: the commit, then every node and record.
    public func exportCAR() throws -> [UInt8] {
        var blocks: [(CID, [UInt8])] = [(commitCID, try store.require(commitCID))]
        for node in mst.nodes() { blocks.append((node.cid, node.bytes)) }
        var seen = Set<CID>()
        try mst.walk { _, value in
            if seen.insert(value).inserted { blocks.append((value, try store.require(value))) }
        }
        return CARWriter.encode(roots: [commitCID], blocks: blocks)
    }

    /// The blocks written after `rev` that the current tree still uses, and the
    /// commit: the sync spec's diff CAR "since" a revision.
    public func exportCAR(since rev: TID, store: some RevisionedBlockStore) throws -> [UInt8] {
        let fresh = try store.cids(since: rev)
        var blocks: [(CID, [UInt8])] = [(commitCID, try store.require(commitCID))]
        for node in mst.nodes() where fresh.contains(node.cid) { blocks.append((node.cid, node.bytes)) }
        var seen = Set<CID>()
        try mst.walk { _, value in
            if fresh.contains(value), seen.insert(value).inserted { blocks.append((value, try store.require(value))) }
        }
        return CARWriter.encode(roots: [commitCID], blocks: blocks)
    }
}

extension Repository {
    /// A repository holding `records`, built bottom-up in one pass and signed
    /// at `rev`: the same tree that creating the records one by one gives.
    ///
    /// - Throws: ``RepoError/Code/keyExists`` when a path repeats.
    public static func build(
        did: DID, key: some PrivateKey, rev: TID, records: [(path: RepoPath, value: DataValue)],
        store: some RevisionedBlockStore = MemoryBlockStore()
    ) throws -> Repository {
        var pairs = [(key: [UInt8], value: CID)]()
        pairs.reserveCapacity(records.count)
        for (path, value) in records {
            let (cid, bytes) = DAGCBOR.encodeWithCID(value)
            try store.put(cid, bytes, rev: rev)
            pairs.append((path.key, cid))
        }
        pairs.sort { KeyOrder.precedes($0.key, $1.key) }
        for i in pairs.indices.dropFirst() where pairs[i - 1].key == pairs[i].key {
            throw RepoError(.keyExists, "\(String(decoding: pairs[i].key, as: UTF8.self)) appears twice")
        }
        let mst = try MST(sortedPairs: pairs)
        for node in mst.nodes() { try store.put(node.cid, node.bytes, rev: rev) }
        let commit = try Commit.sign(did: did, data: mst.rootCID, rev: rev, key: key)
        let bytes = commit.encoded()
        let cid = CID.compute(bytes, codec: .dagCBOR)
        try store.put(cid, bytes, rev: rev)
        return Repository(trusting: commit, commitCID: cid, mst: mst, store: store)
    }
}

import ATCrypto
import ATData
import ATSyntax

extension MST {
    /// The tree before `ops`: creates removed, updates and deletes put back
    /// to their `prev`, in reverse order.
    ///
    /// - Throws: ``RepoError/Code/missingBlock`` (with the block's CID) when a
    ///   subtree the inversion needs is not loaded; ``RepoError/Code/keyNotFound``
    ///   when an op does not match the tree.
    public func inverting(_ ops: [RecordOp]) throws(RepoError) -> MST {
        var tree = self
        for op in ops.reversed() {
            let key = op.path.key
            guard try tree.get(key) == op.cid else {
                throw RepoError(.keyNotFound, "\(op.path) is not \(op.cid.map(\.description) ?? "absent") in the commit's tree")
            }
            switch op.action {
            case .create:
                tree = try tree.removing(key)
            case .update, .delete:
                guard let prev = op.prev else { throw RepoError(.malformedBlock, "the \(op.action.rawValue) of \(op.path) has no prev") }
                tree = try tree.inserting(key, prev)
            }
        }
        return tree
    }
}

/// What a firehose commit carries so that a consumer can check it without
/// the rest of the repository: the signed commit, its new blocks, and the
/// MST nodes needed to invert its operations back to the previous root.
public enum CommitProof {
    /// The blocks to send with a commit: `newBlocks`, plus the unchanged MST
    /// nodes (read from `store`) that inverting `ops` from `root` touches.
    public static func blocks(
        root: CID, ops: [RecordOp], newBlocks: [(cid: CID, bytes: [UInt8])], from store: some BlockStore
    ) throws -> [(cid: CID, bytes: [UInt8])] {
        var blocks = newBlocks
        let slice = MemoryBlockStore(Dictionary(newBlocks.map { ($0.cid, $0.bytes) }, uniquingKeysWith: { a, _ in a }))
        // Each missing node is fetched and the inversion retried; a tree is only so deep.
        for _ in 0..<256 {
            do {
                _ = try MST.loadPartial(root: root, from: slice).inverting(ops)
                return blocks
            } catch let error as RepoError where error.code == .missingBlock {
                guard let cid = error.cid, slice.get(cid) == nil else { throw error }
                let bytes = try store.require(cid)
                slice.put(cid, bytes)
                blocks.append((cid, bytes))
            }
        }
        throw RepoError(.missingBlock, "the inversion needs more blocks than a tree can have")
    }

    /// The blocks to send with a commit, from the whole new tree in memory
    /// (a writer's): `newBlocks`, plus the unchanged nodes that inverting
    /// `ops` reads, found by walking `tree` (``MST/inversionNodes(for:_:)``)
    /// rather than by loading the commit's slice again and again. With more
    /// than one op, the slice is then checked, and completed from `store`,
    /// as ``blocks(root:ops:newBlocks:from:)`` does.
    public static func blocks(
        tree: MST, ops: [RecordOp], newBlocks: [(cid: CID, bytes: [UInt8])], from store: some BlockStore
    ) throws -> [(cid: CID, bytes: [UInt8])] {
        var blocks = newBlocks
        var have = Set(newBlocks.map(\.cid))
        for op in ops {
            tree.inversionNodes(for: op.path.key) { node in
                if have.insert(node.cid).inserted { blocks.append((node.cid, node.bytes)) }
            }
        }
        guard ops.count > 1 else { return blocks }
        return try Self.blocks(root: tree.rootCID, ops: ops, newBlocks: blocks, from: store)
    }

    /// Verifies the root commit of a CAR that need not hold the whole
    /// repository (a `since` diff, say): the commit block against its CID,
    /// its signature with `key`, and its DID.
    ///
    /// - Returns: the verified commit.
    public static func verifyRoot(car: [UInt8], repo: DID, key: some PublicKey) throws -> Commit {
        let store = try CARBlockStore(car: car)
        guard let root = store.header.roots.first else { throw RepoError(.malformedBlock, "the CAR has no root") }
        let bytes = try store.require(root)
        guard CID.compute(bytes, codec: .dagCBOR) == root else { throw RepoError(.commitHashMismatch, "commit \(root) does not hash to its CID") }
        let commit = try Commit(decoding: bytes)
        try commit.verify(with: key)
        guard commit.did == repo else { throw RepoError(.malformedBlock, "the commit is for \(commit.did), not \(repo)") }
        return commit
    }

    /// Verifies a firehose commit in one call: every block against its CID,
    /// the commit's signature with `key`, its DID and revision, the ops
    /// against the new tree, and the inversion of the ops back to `prevData`
    /// (when given), using only the blocks in `car`.
    ///
    /// - Returns: the verified commit.
    public static func verify(
        car: [UInt8], commit commitCID: CID, repo: DID, rev: TID?, ops: [RecordOp], prevData: CID?, key: some PublicKey
    ) throws -> Commit {
        try verifiedChange(car: car, commit: commitCID, repo: repo, rev: rev, ops: ops, prevData: prevData, key: key).commit
    }

    /// Verifies a firehose commit like ``verify(car:commit:repo:rev:ops:prevData:key:)``,
    /// and also works out what a mirror of the repository must store and drop
    /// to follow it, from the slice alone: the new commit, MST nodes and
    /// records, and the replaced nodes and records.
    ///
    /// - Throws: ``RepoError/Code/missingBlock`` when the slice lacks a block
    ///   of a created or updated record, or a node the change needs.
    public static func verifiedChange(
        car: [UInt8], commit commitCID: CID, repo: DID, rev: TID?, ops: [RecordOp], prevData: CID?, key: some PublicKey
    ) throws -> VerifiedCommit {
        let store = try CARBlockStore(car: car)
        let bytes = try store.require(commitCID)
        guard CID.compute(bytes, codec: .dagCBOR) == commitCID else { throw RepoError(.commitHashMismatch, "commit \(commitCID) does not hash to its CID") }
        let commit = try Commit(decoding: bytes)
        try commit.verify(with: key)
        guard commit.did == repo else { throw RepoError(.malformedBlock, "the commit is for \(commit.did), not \(repo)") }
        if let rev, commit.rev != rev { throw RepoError(.malformedBlock, "the commit's rev is \(commit.rev?.description ?? "none"), not \(rev)") }
        let after = try MST.loadPartial(root: commit.data, from: store)
        let before = try after.inverting(ops)
        if let prevData, before.rootCID != prevData {
            throw RepoError(.nodeHashMismatch, "inverting the ops gives \(before.rootCID), not prevData \(prevData)")
        }
        let (newNodes, removedNodes) = try after.nodeChanges(from: before)
        var newBlocks: [(cid: CID, bytes: [UInt8])] = [(commitCID, bytes)]
        newBlocks += newNodes.map { ($0.cid, $0.bytes) }
        var removed = removedNodes
        for op in ops {
            if let prev = op.prev { removed.append(prev) }
            guard let cid = op.cid else { continue }
            guard let record = store.get(cid) else { throw RepoError(.missingBlock, "the record block \(cid) of \(op.path) is missing", cid: cid) }
            guard CID.compute(record, codec: cid.codec) == cid else { throw RepoError(.nodeHashMismatch, "record \(cid) does not hash to its CID") }
            newBlocks.append((cid, record))
        }
        return VerifiedCommit(commit: commit, commitCID: commitCID, data: commit.data, prevData: before.rootCID, newBlocks: newBlocks, removed: removed)
    }
}

/// A firehose commit that verified, with what following it changes in a
/// mirror of the repository.
public struct VerifiedCommit: Sendable {
    /// The signed commit.
    public let commit: Commit
    /// Its CID.
    public let commitCID: CID
    /// The MST root after the commit.
    public let data: CID
    /// The MST root before it, as the inversion computed it.
    public let prevData: CID
    /// The blocks to store: the commit, the new MST nodes and the records
    /// the ops create or update.
    public let newBlocks: [(cid: CID, bytes: [UInt8])]
    /// The blocks the commit replaces: MST nodes, and the previous records of
    /// updated and deleted paths (which other paths may still hold).
    public let removed: [CID]
}

import ATData

extension Repository {
    /// The blocks that prove `path` present or absent at this commit
    /// (`com.atproto.sync.getRecord`): the commit, the tree's nodes from the
    /// root down to where the key is or would be, and the record if there is one.
    public func recordProof(for path: RepoPath) throws -> [(cid: CID, bytes: [UInt8])] {
        var blocks: [(cid: CID, bytes: [UInt8])] = [(commitCID, try store.require(commitCID))]
        for node in try mst.proof(for: path.key) { blocks.append((node.cid, node.bytes)) }
        if let cid = try mst.get(path.key) { blocks.append((cid, try store.require(cid))) }
        return blocks
    }

    /// The same blocks as ``recordProof(for:)``, read from `store` along the
    /// path only (``MST/path(to:root:in:)``), without loading the tree: as
    /// many reads as the tree has layers, plus the commit and the record.
    public static func recordProof(for path: RepoPath, commit: CID, in store: some BlockStore) throws -> [(cid: CID, bytes: [UInt8])] {
        let commitBytes = try store.require(commit)
        let (nodes, value) = try MST.path(to: path.key, root: try Commit(decoding: commitBytes).data, in: store)
        var blocks = [(cid: commit, bytes: commitBytes)] + nodes
        if let value { blocks.append((value, try store.require(value))) }
        return blocks
    }
}

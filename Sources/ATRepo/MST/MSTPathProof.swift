import ATData

extension MST {
    /// The nodes from the root down to where `key` is, or would be, read one
    /// at a time from `store`, with the value the tree holds at `key`.
    ///
    /// These are the blocks that prove a record present or absent
    /// (`com.atproto.sync.getRecord`): as many as the tree has layers, so a
    /// server can answer without loading the whole tree. Each node's hash,
    /// key order and range are checked on the way down.
    public static func path(
        to key: [UInt8], root: CID, in store: some BlockStore
    ) throws -> (nodes: [(cid: CID, bytes: [UInt8])], value: CID?) {
        var nodes = [(cid: CID, bytes: [UInt8])]()
        var next: CID? = root
        var lower: [UInt8]?, upper: [UInt8]?
        while let cid = next {
            // A tree deeper than keys have layers is not one this code wrote.
            guard nodes.count <= 128 else { throw RepoError(.malformedBlock, "the path to a key passes more than 128 nodes") }
            let bytes = try store.require(cid)
            let (data, keys) = try checkedNode(cid, bytes: bytes, lower: lower, upper: upper)
            nodes.append((cid, bytes))
            var i = 0
            while i < keys.count, KeyOrder.precedes(keys[i], key) { i += 1 }
            if i < keys.count, keys[i] == key { return (nodes, data.entries[i].value) }
            next = i == 0 ? data.left : data.entries[i - 1].right
            if i > 0 { lower = keys[i - 1] }
            if i < keys.count { upper = keys[i] }
        }
        return (nodes, nil)
    }
}

import ATData

extension MST {
    /// Loads the tree rooted at `root` from `store`, checking everything the
    /// spec asks of a tree: each node's encoding, key order (within nodes and
    /// against the parent's range), every key's layer, canonical prefix
    /// compression, no skipped layers, and the empty-node rules.
    public static func load(root: CID, from store: some BlockStore) throws -> MST {
        try load(root: root, from: store, partial: false)
    }

    /// Loads what `store` holds of the tree rooted at `root`, checking it as
    /// ``load(root:from:)`` does; subtrees whose blocks are missing become
    /// ``MSTChild/stub(_:)`` links. This is how the blocks of one commit are
    /// read: enough of the tree to check the commit's operations.
    public static func loadPartial(root: CID, from store: some BlockStore) throws -> MST {
        try load(root: root, from: store, partial: true)
    }

    private static func load(root: CID, from store: some BlockStore, partial: Bool) throws -> MST {
        guard root.isATProtoBlessed, root.codec == .dagCBOR else {
            throw RepoError(.nonBlessedCID, "MST root \(root) is not a CIDv1 dag-cbor SHA-256")
        }
        var checks = [LayerCheck]()
        let node = try loadNode(root, layer: nil, lower: nil, upper: nil, store: store, isRoot: true, partial: partial, checks: &checks)
        try verifyLayers(checks)
        return MST(root: node)
    }

    /// A key whose layer must be `layer`; checked in bulk, on all cores.
    struct LayerCheck {
        let key: [UInt8]
        let layer: Int
        let node: CID
    }

    private static func verifyLayers(_ checks: [LayerCheck]) throws(RepoError) {
        let layers = MST.layers(of: checks) { $0.key }
        for (check, actual) in zip(checks, layers) where actual != check.layer {
            throw RepoError(.wrongLayer, "node \(check.node) holds a layer-\(actual) key where layer \(check.layer) belongs")
        }
    }

    /// Loads one node. `layer` is the layer the parent implies (nil at the
    /// root); keys must fall in `lower < key < upper`.
    private static func loadNode(
        _ cid: CID, layer expected: Int?, lower: [UInt8]?, upper: [UInt8]?, store: some BlockStore, isRoot: Bool, partial: Bool,
        checks: inout [LayerCheck]
    ) throws -> MSTNode {
        let bytes = try store.require(cid)
        let (data, keys) = try checkedNode(cid, bytes: bytes, lower: lower, upper: upper)
        guard let layer = try nodeLayer(cid, firstKey: keys.first?[...], hasLeft: data.left != nil, expected: expected, isRoot: isRoot) else {
            return .empty
        }
        for key in keys { checks.append(LayerCheck(key: key, layer: layer, node: cid)) }
        func child(_ link: CID?, lower: [UInt8]?, upper: [UInt8]?) throws -> MSTChild? {
            guard let link else { return nil }
            try checkChildLink(link, from: cid, layer: layer)
            if partial, try store.get(link) == nil { return .stub(link) }
            return .node(try loadNode(link, layer: layer - 1, lower: lower, upper: upper, store: store, isRoot: false, partial: partial, checks: &checks))
        }
        let left = try child(data.left, lower: lower, upper: keys.first ?? upper)
        var entries = [MSTNode.Entry]()
        entries.reserveCapacity(keys.count)
        for (i, entry) in data.entries.enumerated() {
            let right = try child(entry.right, lower: keys[i], upper: i + 1 < keys.count ? keys[i + 1] : upper)
            entries.append(.init(key: keys[i], value: entry.value, right: right))
        }
        // The strict reader accepted only canonical DAG-CBOR of exactly the node
        // shape, and the prefixes are checked above, so these bytes are the one
        // encoding of this node: re-encoding would give them back.
        return MSTNode(layer: layer, left: left, entries: entries, bytes: bytes, cid: cid)
    }

    /// Decodes one node block after checking its hash, and rebuilds its full
    /// keys, checking prefix compression, order within the node, and that each
    /// key falls in `lower < key < upper` (the range its parent gives it).
    static func checkedNode(
        _ cid: CID, bytes: [UInt8], lower: [UInt8]?, upper: [UInt8]?, hashChecked: Bool = false
    ) throws -> (MSTNodeData, [[UInt8]]) {
        guard hashChecked || CID.compute(bytes, codec: .dagCBOR) == cid else {
            throw RepoError(.nodeHashMismatch, "MST node \(cid) does not hash to its CID")
        }
        let data = try MSTNodeData(decoding: bytes, cid: cid)
        let (keys, ends) = try bytes.withUnsafeBytes { raw in
            try nodeKeys(data.entries.count, cid: cid, lower: lower.map { $0[...] }, upper: upper.map { $0[...] }) { i in
                let suffix = data.entries[i].keySuffix
                return (data.entries[i].prefixLength, UnsafeRawBufferPointer(rebasing: raw[suffix.startIndex..<suffix.endIndex]))
            }
        }
        var start = 0
        return (data, ends.map { end in
            defer { start = end }
            return Array(keys[start..<end])
        })
    }

    /// The full keys of a node's `count` entries, one after another in one
    /// buffer, and where each ends; `entry(i)` gives entry `i`'s prefix
    /// length and key suffix. Each prefix must be the whole of what the key
    /// shares with the one before; no key may be empty or longer than
    /// ``maxKeyLength``; the keys must increase strictly and fall within
    /// `lower` and `upper`.
    @inline(__always)
    static func nodeKeys(
        _ count: Int, cid: CID, lower: ArraySlice<UInt8>?, upper: ArraySlice<UInt8>?,
        entry: (Int) -> (prefix: Int, suffix: UnsafeRawBufferPointer)
    ) throws -> (keys: [UInt8], ends: [Int]) {
        var keys = [UInt8](), ends = [Int]()
        ends.reserveCapacity(count)
        // Room for every key at once; a bad prefix is refused below, within the bound.
        keys.reserveCapacity((0..<count).reduce(0) { total, i in
            let (prefix, suffix) = entry(i)
            return total + min(prefix + suffix.count, MST.maxKeyLength)
        })
        var previous = 0..<0
        for i in 0..<count {
            let (prefix, suffix) = entry(i)
            guard prefix <= previous.count else {
                throw RepoError(.nonCanonicalPrefix, "node \(cid) entry \(i): prefix \(prefix) is longer than the previous key")
            }
            guard prefix + suffix.count <= MST.maxKeyLength else {
                throw RepoError(.invalidKey, "node \(cid) entry \(i): a key longer than \(MST.maxKeyLength) bytes")
            }
            let start = keys.count
            for j in previous.lowerBound..<(previous.lowerBound + prefix) { keys.append(keys[j]) }
            keys.append(contentsOf: suffix)
            let current = start..<keys.count
            var shared = 0
            while shared < min(previous.count, current.count), keys[previous.lowerBound + shared] == keys[start + shared] { shared += 1 }
            guard prefix == shared else {
                throw RepoError(.nonCanonicalPrefix, "node \(cid) entry \(i): prefix length is not the shared prefix")
            }
            guard !current.isEmpty else { throw RepoError(.invalidKey, "node \(cid) entry \(i): empty key") }
            if i > 0 {
                guard KeyOrder.precedes(keys[previous], keys[current]) else {
                    throw RepoError(.keyOrder, "node \(cid): keys out of order at entry \(i)")
                }
            }
            if let lower, !KeyOrder.precedes(lower, keys[current]) {
                throw RepoError(.keyOrder, "node \(cid): key \(i) sorts before its subtree's range")
            }
            if let upper, !KeyOrder.precedes(keys[current], upper) {
                throw RepoError(.keyOrder, "node \(cid): key \(i) sorts after its subtree's range")
            }
            ends.append(keys.count)
            previous = current
        }
        return (keys, ends)
    }

    /// The layer of a node: that of its keys (the root's is computed from its
    /// first key; any other node's is the one its parent implies, `expected`),
    /// or for a keyless node the implied one. `nil` for the empty root.
    static func nodeLayer(_ cid: CID, firstKey: ArraySlice<UInt8>?, hasLeft: Bool, expected: Int?, isRoot: Bool) throws -> Int? {
        let layer: Int
        if let first = firstKey {
            layer = expected ?? MST.layer(of: first)
        } else {
            if isRoot {
                guard !hasLeft else {
                    throw RepoError(.emptyNode, "the root \(cid) is an empty node that only points down")
                }
                return nil
            }
            guard hasLeft, let expected else {
                throw RepoError(.emptyNode, "node \(cid) is empty and points nowhere")
            }
            layer = expected
        }
        guard layer >= 0 else { throw RepoError(.wrongLayer, "node \(cid) is below layer 0") }
        return layer
    }

    /// Checks a link from a node at `layer` to a subtree.
    static func checkChildLink(_ link: CID, from cid: CID, layer: Int) throws {
        guard layer > 0 else { throw RepoError(.wrongLayer, "node \(cid) at layer 0 links to a subtree") }
        guard link.isATProtoBlessed, link.codec == .dagCBOR else {
            throw RepoError(.nonBlessedCID, "node \(cid) links to \(link), not a CIDv1 dag-cbor SHA-256")
        }
    }
}

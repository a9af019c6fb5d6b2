import ATData

extension MST {
    /// Walks the tree rooted at `root` depth first and checks everything
    /// ``load(root:from:)`` checks, without building the tree: only the path
    /// from the root to the current node is held, so memory does not grow
    /// with the number of records.
    ///
    /// - Parameters:
    ///   - node: called with each node's CID and bytes, after they are checked.
    ///   - leaf: called with each key and value, in key order.
    public static func walkVerifying(
        root: CID, from store: some BlockStore, node: (CID, [UInt8]) throws -> Void,
        leaf: ([UInt8], CID) throws -> Void
    ) throws {
        try checkRoot(root)
        try visit(Subtree(cid: root, layer: nil, lower: nil, upper: nil), store: store, hashChecked: false, node: node, leaf: leaf)
    }

    static func checkRoot(_ root: CID) throws {
        guard root.isATProtoBlessed, root.codec == .dagCBOR else {
            throw RepoError(.nonBlessedCID, "MST root \(root) is not a CIDv1 dag-cbor SHA-256")
        }
    }

    /// A node still to visit, with what its parent asks of it: its layer
    /// (`nil` for the root) and the range its keys must fall in.
    struct Subtree {
        let cid: CID
        let layer: Int?
        let lower: [UInt8]?
        let upper: [UInt8]?
        var isRoot: Bool { layer == nil }
    }

    /// One node, checked: its entries' full keys and values, and the
    /// subtrees it links to, in key order (`children[0]` sits before the
    /// first entry, `children[i + 1]` after entry `i`).
    struct CheckedNode {
        let bytes: [UInt8]
        let keys: [[UInt8]]
        let values: [CID]
        let children: [Subtree?]
    }

    /// Reads and checks the node of `subtree`: its hash (unless the store has
    /// checked every block already), encoding, order, prefixes, range and
    /// layers, and its links down.
    static func check(_ subtree: Subtree, store: some BlockStore, hashChecked: Bool) throws -> CheckedNode {
        let cid = subtree.cid
        let bytes = try store.require(cid)
        let (data, keys) = try MST.checkedNode(cid, bytes: bytes, lower: subtree.lower, upper: subtree.upper, hashChecked: hashChecked)
        guard let layer = try MST.nodeLayer(
            cid, firstKey: keys.first?[...], hasLeft: data.left != nil, expected: subtree.layer, isRoot: subtree.isRoot)
        else {
            return CheckedNode(bytes: bytes, keys: [], values: [], children: [nil])
        }
        for key in keys {
            let actual = MST.layer(of: key)
            guard actual == layer else {
                throw RepoError(.wrongLayer, "node \(cid) holds a layer-\(actual) key where layer \(layer) belongs")
            }
        }
        func child(_ link: CID?, lower: [UInt8]?, upper: [UInt8]?) throws -> Subtree? {
            guard let link else { return nil }
            try MST.checkChildLink(link, from: cid, layer: layer)
            return Subtree(cid: link, layer: layer - 1, lower: lower, upper: upper)
        }
        var children = [Subtree?]()
        children.reserveCapacity(data.entries.count + 1)
        children.append(try child(data.left, lower: subtree.lower, upper: keys.first ?? subtree.upper))
        for (i, entry) in data.entries.enumerated() {
            children.append(try child(entry.right, lower: keys[i], upper: i + 1 < keys.count ? keys[i + 1] : subtree.upper))
        }
        return CheckedNode(bytes: bytes, keys: keys, values: data.entries.map(\.value), children: children)
    }

    /// One subtree of a verifying walk: its node, then its subtrees and
    /// entries in key order.
    static func visit(
        _ subtree: Subtree, store: some BlockStore, hashChecked: Bool,
        node: (CID, [UInt8]) throws -> Void, leaf: ([UInt8], CID) throws -> Void
    ) throws {
        let checked = try check(subtree, store: store, hashChecked: hashChecked)
        try node(subtree.cid, checked.bytes)
        if let left = checked.children[0] { try visit(left, store: store, hashChecked: hashChecked, node: node, leaf: leaf) }
        for i in checked.keys.indices {
            try leaf(checked.keys[i], checked.values[i])
            if let right = checked.children[i + 1] {
                try visit(right, store: store, hashChecked: hashChecked, node: node, leaf: leaf)
            }
        }
    }
}

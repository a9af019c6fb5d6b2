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
        guard root.isATProtoBlessed, root.codec == .dagCBOR else {
            throw RepoError(.nonBlessedCID, "MST root \(root) is not a CIDv1 dag-cbor SHA-256")
        }
        try visit(
            root, layer: nil, lower: nil, upper: nil, store: store, isRoot: true, node: node, leaf: leaf)
    }

    /// One node of ``walkVerifying(root:from:node:leaf:)``, then its subtrees and entries in key order.
    private static func visit(
        _ cid: CID, layer expected: Int?, lower: [UInt8]?, upper: [UInt8]?, store: some BlockStore,
        isRoot: Bool,
        node: (CID, [UInt8]) throws -> Void, leaf: ([UInt8], CID) throws -> Void
    ) throws {
        let bytes = try store.require(cid)
        let (data, keys) = try MST.checkedNode(cid, bytes: bytes, lower: lower, upper: upper)
        guard
            let layer = try MST.nodeLayer(cid, data: data, keys: keys, expected: expected, isRoot: isRoot)
        else {
            try node(cid, bytes)
            return
        }
        for key in keys {
            let actual = MST.layer(of: key)
            guard actual == layer else {
                throw RepoError(
                    .wrongLayer, "node \(cid) holds a layer-\(actual) key where layer \(layer) belongs")
            }
        }
        try node(cid, bytes)
        if let left = data.left {
            try MST.checkChildLink(left, from: cid, layer: layer)
            try visit(
                left, layer: layer - 1, lower: lower, upper: keys.first ?? upper, store: store,
                isRoot: false, node: node, leaf: leaf)
        }
        for (i, entry) in data.entries.enumerated() {
            try leaf(keys[i], entry.value)
            if let right = entry.right {
                try MST.checkChildLink(right, from: cid, layer: layer)
                try visit(
                    right, layer: layer - 1, lower: keys[i], upper: i + 1 < keys.count ? keys[i + 1] : upper,
                    store: store, isRoot: false,
                    node: node, leaf: leaf)
            }
        }
    }
}

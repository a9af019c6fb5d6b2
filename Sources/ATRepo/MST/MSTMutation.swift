import ATData

extension MST {
    /// The tree with `key` set to `value`, inserted or updated.
    ///
    /// - Throws: ``RepoError/Code/missingBlock`` when the change needs a
    ///   subtree of a partial tree that is not loaded.
    public func inserting(_ key: [UInt8], _ value: CID) throws(RepoError) -> MST {
        let keyLayer = MST.layer(of: key)
        var top: MSTNode? = isEmpty ? nil : root
        var layer = top?.layer ?? keyLayer
        // A key above the top layer lifts the tree, through empty nodes, to its layer.
        while layer < keyLayer {
            layer += 1
            top = top.map { MSTNode(layer: layer, left: .node($0), entries: []) }
        }
        return MST(root: try Self.insert(top, layer: layer, key, keyLayer, value))
    }

    /// The tree without `key`; the same tree when the key is absent.
    public func removing(_ key: [UInt8]) throws(RepoError) -> MST {
        guard !isEmpty, try get(key) != nil else { return self }
        var top = try Self.delete(root, key, MST.layer(of: key))
        // Empty nodes that only point down are pruned from the top.
        while let node = top, node.entries.isEmpty, let below = node.left { top = try below.resolved() }
        return MST(root: top)
    }

    private static func insert(_ node: MSTNode?, layer: Int, _ key: [UInt8], _ keyLayer: Int, _ value: CID) throws(RepoError) -> MSTNode {
        guard let node else {
            if keyLayer == layer { return MSTNode(layer: layer, left: nil, entries: [.init(key: key, value: value, right: nil)]) }
            return MSTNode(layer: layer, left: .node(try insert(nil, layer: layer - 1, key, keyLayer, value)), entries: [])
        }
        let i = node.lowerBound(key)
        if keyLayer == layer {
            if i < node.entries.count, node.entries[i].key == key {
                var entries = node.entries
                entries[i] = .init(key: key, value: value, right: entries[i].right)
                return MSTNode(layer: layer, left: node.left, entries: entries)
            }
            let (low, high) = try split(node.child(before: i), at: key)
            var entries = node.entries
            entries.insert(.init(key: key, value: value, right: high), at: i)
            return MSTNode(layer: layer, left: i == 0 ? low : node.left, entries: replacingRight(of: i - 1, in: entries, with: low))
        }
        let child = try insert(node.child(before: i)?.resolved(), layer: layer - 1, key, keyLayer, value)
        return node.replacing(childBefore: i, with: .node(child))!
    }

    /// `entries` with the subtree right of entry `index` replaced (no change for -1).
    private static func replacingRight(of index: Int, in entries: [MSTNode.Entry], with child: MSTChild?) -> [MSTNode.Entry] {
        guard index >= 0 else { return entries }
        var list = entries
        let e = list[index]
        list[index] = .init(key: e.key, value: e.value, right: child)
        return list
    }

    /// Splits a subtree into the keys below `key` and the keys above it.
    private static func split(_ child: MSTChild?, at key: [UInt8]) throws(RepoError) -> (MSTChild?, MSTChild?) {
        guard let child else { return (nil, nil) }
        let node = try child.resolved()
        let i = node.lowerBound(key)
        let (low, high) = try split(node.child(before: i), at: key)
        let lowerEntries = Array(node.entries[..<i])
        let lower: MSTNode? = lowerEntries.isEmpty
            ? MSTNode.make(layer: node.layer, left: low, entries: [])
            : MSTNode.make(layer: node.layer, left: node.left, entries: replacingRight(of: i - 1, in: lowerEntries, with: low))
        let upper = MSTNode.make(layer: node.layer, left: high, entries: Array(node.entries[i...]))
        return (lower.map { .node($0) }, upper.map { .node($0) })
    }

    private static func delete(_ node: MSTNode, _ key: [UInt8], _ keyLayer: Int) throws(RepoError) -> MSTNode? {
        let i = node.lowerBound(key)
        if keyLayer == node.layer {
            let merged = try merge(node.child(before: i), node.entries[i].right)
            var entries = node.entries
            entries.remove(at: i)
            return node.replacing(childBefore: i, with: merged, entries: entries)
        }
        guard let child = try node.child(before: i)?.resolved() else { return node }
        return node.replacing(childBefore: i, with: try delete(child, key, keyLayer).map { .node($0) })
    }

    /// Joins two adjacent subtrees of one layer.
    private static func merge(_ a: MSTChild?, _ b: MSTChild?) throws(RepoError) -> MSTChild? {
        guard let a else { return b }
        guard let b else { return a }
        let left = try a.resolved(), right = try b.resolved()
        if left.entries.isEmpty {
            return MSTNode.make(layer: left.layer, left: try merge(left.left, right.left), entries: right.entries).map { .node($0) }
        }
        let last = left.entries.count - 1
        let joined = try merge(left.entries[last].right, right.left)
        let entries = replacingRight(of: last, in: left.entries, with: joined) + right.entries
        return MSTNode.make(layer: left.layer, left: left.left, entries: entries).map { .node($0) }
    }
}

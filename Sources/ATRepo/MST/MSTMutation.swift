import ATData

extension MST {
    /// The tree with `key` set to `value`, inserted or updated.
    public func inserting(_ key: [UInt8], _ value: CID) -> MST {
        let keyLayer = MST.layer(of: key)
        var top: MSTNode? = isEmpty ? nil : root
        var layer = top?.layer ?? keyLayer
        // A key above the top layer lifts the tree, through empty nodes, to its layer.
        while layer < keyLayer {
            layer += 1
            top = top.map { MSTNode(layer: layer, left: $0, entries: []) }
        }
        return MST(root: Self.insert(top, layer: layer, key, keyLayer, value))
    }

    /// The tree without `key`; the same tree when the key is absent.
    public func removing(_ key: [UInt8]) -> MST {
        guard !isEmpty, get(key) != nil else { return self }
        var top = Self.delete(root, key, MST.layer(of: key))
        // Empty nodes that only point down are pruned from the top.
        while let node = top, node.entries.isEmpty, let below = node.left { top = below }
        return MST(root: top)
    }

    private static func insert(_ node: MSTNode?, layer: Int, _ key: [UInt8], _ keyLayer: Int, _ value: CID) -> MSTNode {
        guard let node else {
            if keyLayer == layer { return MSTNode(layer: layer, left: nil, entries: [.init(key: key, value: value, right: nil)]) }
            return MSTNode(layer: layer, left: insert(nil, layer: layer - 1, key, keyLayer, value), entries: [])
        }
        let i = node.lowerBound(key)
        if keyLayer == layer {
            if i < node.entries.count, node.entries[i].key == key {
                var entries = node.entries
                entries[i] = .init(key: key, value: value, right: entries[i].right)
                return MSTNode(layer: layer, left: node.left, entries: entries)
            }
            let (low, high) = split(node.child(before: i), at: key)
            var entries = node.entries
            entries.insert(.init(key: key, value: value, right: high), at: i)
            return node.replacing(childBefore: i, with: low, entries: entries)!
        }
        let child = insert(node.child(before: i), layer: layer - 1, key, keyLayer, value)
        return node.replacing(childBefore: i, with: child)!
    }

    /// Splits a subtree into the keys below `key` and the keys above it.
    private static func split(_ node: MSTNode?, at key: [UInt8]) -> (MSTNode?, MSTNode?) {
        guard let node else { return (nil, nil) }
        let i = node.lowerBound(key)
        let (low, high) = split(node.child(before: i), at: key)
        let lowerEntries = Array(node.entries[..<i])
        let upperEntries = Array(node.entries[i...])
        let lower: MSTNode?
        if lowerEntries.isEmpty {
            lower = MSTNode.make(layer: node.layer, left: low, entries: [])
        } else {
            var entries = lowerEntries
            let last = entries[entries.count - 1]
            entries[entries.count - 1] = .init(key: last.key, value: last.value, right: low)
            lower = MSTNode.make(layer: node.layer, left: node.left, entries: entries)
        }
        let upper = MSTNode.make(layer: node.layer, left: high, entries: upperEntries)
        return (lower, upper)
    }

    private static func delete(_ node: MSTNode, _ key: [UInt8], _ keyLayer: Int) -> MSTNode? {
        let i = node.lowerBound(key)
        if keyLayer == node.layer {
            let merged = merge(node.child(before: i), node.entries[i].right)
            var entries = node.entries
            entries.remove(at: i)
            return node.replacing(childBefore: i, with: merged, entries: entries)
        }
        guard let child = node.child(before: i) else { return node }
        return node.replacing(childBefore: i, with: delete(child, key, keyLayer))
    }

    /// Joins two adjacent subtrees of one layer.
    private static func merge(_ a: MSTNode?, _ b: MSTNode?) -> MSTNode? {
        guard let a else { return b }
        guard let b else { return a }
        if a.entries.isEmpty {
            return MSTNode.make(layer: a.layer, left: merge(a.left, b.left), entries: b.entries)
        }
        var entries = a.entries
        let last = entries[entries.count - 1]
        entries[entries.count - 1] = .init(key: last.key, value: last.value, right: merge(last.right, b.left))
        return MSTNode.make(layer: a.layer, left: a.left, entries: entries + b.entries)
    }
}

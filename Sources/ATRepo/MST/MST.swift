import ATData

/// A Merkle Search Tree: the ordered map from repository paths to record CIDs
/// that a commit signs.
///
/// The tree is persistent: every change returns a new tree that shares the
/// unchanged nodes with the old one. Its shape depends only on its contents,
/// so any two trees with the same keys and values have the same ``rootCID``.
///
/// Terminology: a key's *layer* comes from its hash (``layer(of:)``); a node
/// holds keys of one layer and links to subtrees one layer down, between its
/// keys. Empty nodes are pruned from the top and bottom of the tree, but kept
/// in the middle so that links never skip a layer.
///
/// A tree may be partial: subtrees whose blocks were not at hand are
/// ``MSTChild/stub(_:)`` links. Operations that need to look inside one throw
/// ``RepoError/Code/missingBlock``.
public struct MST: Sendable {
    /// The top node; an empty tree is one node with no entries.
    public let root: MSTNode

    /// An empty tree.
    public init() { root = .empty }

    init(root: MSTNode?) { self.root = root ?? .empty }

    /// The CID of the root node: the `data` of a commit.
    public var rootCID: CID { root.cid }

    /// Whether the tree has no keys.
    public var isEmpty: Bool { root.entries.isEmpty && root.left == nil }

    /// The record CID for `key`, or `nil`.
    public func get(_ key: [UInt8]) throws(RepoError) -> CID? {
        var node: MSTNode? = root
        while let current = node {
            let i = current.lowerBound(key)
            if i < current.entries.count, current.entries[i].key == key { return current.entries[i].value }
            node = try current.child(before: i)?.resolved()
        }
        return nil
    }

    /// The record CID for a string key, or `nil`.
    public func get(_ key: String) throws(RepoError) -> CID? { try get(Array(key.utf8)) }

    /// The nodes from the root down to where `key` is, or would be: the blocks
    /// that prove the key's presence and value, or its absence.
    public func proof(for key: [UInt8]) throws(RepoError) -> [MSTNode] {
        var path = [MSTNode]()
        var node: MSTNode? = root
        while let current = node {
            path.append(current)
            let i = current.lowerBound(key)
            if i < current.entries.count, current.entries[i].key == key { break }
            node = try current.child(before: i)?.resolved()
        }
        return path
    }

    /// The nodes that undoing one operation on `key` reads, with a loaded
    /// tree: those from the root down to where `key` is or would be, and
    /// below the node that holds it, the two spines that removing it would
    /// merge (the right edge of the subtree before it, the left edge of the
    /// subtree after it). Stubs are not followed.
    public func inversionNodes(for key: [UInt8], _ body: (MSTNode) -> Void) {
        var node = root
        while true {
            body(node)
            let i = node.lowerBound(key)
            if i < node.entries.count, node.entries[i].key == key {
                var left = node.child(before: i), right = node.entries[i].right
                while case .node(let next)? = left {
                    body(next)
                    left = next.child(before: next.entries.count)
                }
                while case .node(let next)? = right {
                    body(next)
                    right = next.left
                }
                return
            }
            guard case .node(let next)? = node.child(before: i) else { return }
            node = next
        }
    }

    /// Every key and value, in key order.
    public func walk(_ body: (_ key: [UInt8], _ value: CID) throws -> Void) throws {
        try Self.walk(.node(root), body)
    }

    private static func walk(_ child: MSTChild?, _ body: ([UInt8], CID) throws -> Void) throws {
        guard let child else { return }
        let node = try child.resolved()
        try walk(node.left, body)
        for entry in node.entries {
            try body(entry.key, entry.value)
            try walk(entry.right, body)
        }
    }

    /// The keys and values with `from <= key < to`, in key order; `nil` bounds are open.
    public func list(from lower: [UInt8]? = nil, to upper: [UInt8]? = nil) throws(RepoError) -> [(key: [UInt8], value: CID)] {
        var out = [(key: [UInt8], value: CID)]()
        try Self.collect(.node(root), lower, upper, into: &out)
        return out
    }

    /// The keys and values that start with `prefix`, such as `"app.bsky.feed.post/"`.
    public func list(prefix: String) throws(RepoError) -> [(key: [UInt8], value: CID)] {
        let lower = Array(prefix.utf8)
        var upper = lower
        // The smallest key after every key with this prefix.
        while let last = upper.last, last == 0xFF { upper.removeLast() }
        if upper.isEmpty { return try list(from: lower) }
        upper[upper.count - 1] += 1
        return try list(from: lower, to: upper)
    }

    /// Appends the keys in range; returns false once past `upper`.
    @discardableResult
    private static func collect(
        _ child: MSTChild?, _ lower: [UInt8]?, _ upper: [UInt8]?, into out: inout [(key: [UInt8], value: CID)]
    ) throws(RepoError) -> Bool {
        guard let child else { return true }
        let node = try child.resolved()
        let start = lower.map { node.lowerBound($0) } ?? 0
        // Only the subtree before `start` can hold keys in range on the left.
        guard try collect(node.child(before: start), lower, upper, into: &out) else { return false }
        for i in start..<node.entries.count {
            let entry = node.entries[i]
            if let upper, !KeyOrder.precedes(entry.key, upper) { return false }
            out.append((entry.key, entry.value))
            guard try collect(entry.right, lower, upper, into: &out) else { return false }
        }
        return true
    }

    /// The number of keys.
    public func count() throws -> Int {
        var n = 0
        try walk { _, _ in n += 1 }
        return n
    }

    /// Every loaded node of the tree, parents before children.
    public func nodes() -> [MSTNode] {
        var out = [MSTNode]()
        var stack: [MSTNode] = [root]
        while let node = stack.popLast() {
            out.append(node)
            for entry in node.entries.reversed() { if case .node(let right)? = entry.right { stack.append(right) } }
            if case .node(let left)? = node.left { stack.append(left) }
        }
        return out
    }
}

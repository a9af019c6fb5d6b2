import ATData

/// What changed between two trees.
public struct MSTDiff: Sendable {
    /// Keys only in the new tree, with their values.
    public var adds: [(key: [UInt8], value: CID)] = []
    /// Keys in both trees whose values differ.
    public var updates: [(key: [UInt8], old: CID, new: CID)] = []
    /// Keys only in the old tree, with their old values.
    public var deletes: [(key: [UInt8], value: CID)] = []
    /// Nodes of the new tree that the old tree does not have: the blocks to send.
    public var newNodes: [MSTNode] = []
    /// CIDs of nodes of the old tree that the new tree no longer has.
    public var removedNodes: [CID] = []
}

extension MST {
    /// The changes from `old` to this tree.
    ///
    /// Both trees are opened layer by layer from the top, and a subtree that
    /// both hold (the same CID at the same layer) is never opened, so the work
    /// follows the size of the change, not of the trees.
    ///
    /// - Throws: ``RepoError/Code/missingBlock`` when a changed subtree of a
    ///   partial tree is not loaded.
    public func diff(from old: MST) throws(RepoError) -> MSTDiff {
        try diff(from: old, entries: true)
    }

    /// The nodes this tree has that `old` does not, and the CIDs of the ones it
    /// lost, without comparing keys: what a commit needs to store.
    public func nodeChanges(from old: MST) throws(RepoError) -> (new: [MSTNode], removed: [CID]) {
        let diff = try diff(from: old, entries: false)
        return (diff.newNodes, diff.removedNodes)
    }

    private func diff(from old: MST, entries collectEntries: Bool) throws(RepoError) -> MSTDiff {
        var diff = MSTDiff()
        guard old.rootCID != rootCID else { return diff }
        var oldFrontier: [MSTChild] = old.isEmpty ? [] : [.node(old.root)]
        var newFrontier: [MSTChild] = isEmpty ? [] : [.node(root)]
        var oldEntries = [(key: [UInt8], value: CID)](), newEntries = [(key: [UInt8], value: CID)]()
        var layer = max(old.isEmpty ? 0 : old.root.layer, isEmpty ? 0 : root.layer)
        if isEmpty { diff.newNodes.append(root) }
        if old.isEmpty { diff.removedNodes.append(old.root.cid) }
        while layer >= 0, !(oldFrontier.isEmpty && newFrontier.isEmpty) {
            // Frontier nodes at this layer; the root of a lower tree waits for its layer.
            let (oldHere, oldLater) = Self.partition(oldFrontier, layer: layer)
            let (newHere, newLater) = Self.partition(newFrontier, layer: layer)
            let common = Set(oldHere.map(\.cid)).intersection(newHere.map(\.cid))
            oldFrontier = oldLater
            newFrontier = newLater
            for child in oldHere where !common.contains(child.cid) {
                let node = try child.resolved()
                diff.removedNodes.append(node.cid)
                Self.open(node, into: &oldEntries, frontier: &oldFrontier, entries: collectEntries)
            }
            for child in newHere where !common.contains(child.cid) {
                let node = try child.resolved()
                diff.newNodes.append(node)
                Self.open(node, into: &newEntries, frontier: &newFrontier, entries: collectEntries)
            }
            layer -= 1
        }
        // Merge the opened entries of both sides in key order.
        oldEntries.sort { KeyOrder.precedes($0.key, $1.key) }
        newEntries.sort { KeyOrder.precedes($0.key, $1.key) }
        var i = 0, j = 0
        while i < oldEntries.count || j < newEntries.count {
            if j == newEntries.count || (i < oldEntries.count && KeyOrder.precedes(oldEntries[i].key, newEntries[j].key)) {
                diff.deletes.append(oldEntries[i])
                i += 1
            } else if i == oldEntries.count || KeyOrder.precedes(newEntries[j].key, oldEntries[i].key) {
                diff.adds.append(newEntries[j])
                j += 1
            } else {
                if oldEntries[i].value != newEntries[j].value {
                    diff.updates.append((newEntries[j].key, oldEntries[i].value, newEntries[j].value))
                }
                i += 1
                j += 1
            }
        }
        return diff
    }

    /// Splits a frontier into the links at `layer` and the rest. A stub is
    /// always a child of a node opened at the layer above, so it is at `layer`.
    private static func partition(_ frontier: [MSTChild], layer: Int) -> ([MSTChild], [MSTChild]) {
        var here = [MSTChild](), later = [MSTChild]()
        for child in frontier {
            let childLayer: Int
            if case .node(let node) = child { childLayer = node.layer } else { childLayer = layer }
            if childLayer >= layer { here.append(child) } else { later.append(child) }
        }
        return (here, later)
    }

    private static func open(
        _ node: MSTNode, into entries: inout [(key: [UInt8], value: CID)], frontier: inout [MSTChild], entries collect: Bool
    ) {
        if let left = node.left { frontier.append(left) }
        for entry in node.entries {
            if collect { entries.append((entry.key, entry.value)) }
            if let right = entry.right { frontier.append(right) }
        }
    }
}

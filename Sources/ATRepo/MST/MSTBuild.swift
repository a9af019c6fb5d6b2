import ATData

extension MST {
    /// Builds the tree for `pairs` bottom-up in one pass per layer, hashing each
    /// key once: the same tree that inserting them one by one would give.
    ///
    /// - Throws: ``RepoError/Code/keyOrder`` unless the keys are strictly increasing.
    public init(sortedPairs pairs: [(key: [UInt8], value: CID)]) throws(RepoError) {
        for i in pairs.indices.dropFirst() where !KeyOrder.precedes(pairs[i - 1].key, pairs[i].key) {
            throw RepoError(.keyOrder, "keys must be strictly increasing (at index \(i))")
        }
        let layers = MST.layers(of: pairs.map(\.key))
        let top = layers.max() ?? 0
        self.init(root: try? Self.build(pairs, layers, pairs.indices, layer: top)?.resolved())
    }

    private static func build(
        _ pairs: [(key: [UInt8], value: CID)], _ layers: [Int], _ range: Range<Int>, layer: Int
    ) -> MSTChild? {
        guard !range.isEmpty, layer >= 0 else { return nil }
        var left: MSTChild?
        var entries = [MSTNode.Entry]()
        var segment = range.lowerBound
        var pending: (key: [UInt8], value: CID)?
        for i in range where layers[i] == layer {
            let child = build(pairs, layers, segment..<i, layer: layer - 1)
            if let p = pending { entries.append(.init(key: p.key, value: p.value, right: child)) } else { left = child }
            pending = pairs[i]
            segment = i + 1
        }
        let tail = build(pairs, layers, segment..<range.upperBound, layer: layer - 1)
        if let p = pending { entries.append(.init(key: p.key, value: p.value, right: tail)) } else { left = tail }
        return MSTNode.make(layer: layer, left: left, entries: entries).map { .node($0) }
    }
}

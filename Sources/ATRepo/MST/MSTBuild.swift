import ATData
import Dispatch

extension MST {
    /// Builds the tree for `pairs` bottom-up in one pass per layer, hashing each
    /// key once: the same tree that inserting them one by one would give.
    ///
    /// - Throws: ``RepoError/Code/keyOrder`` unless the keys are strictly increasing.
    public init(sortedPairs pairs: [(key: [UInt8], value: CID)]) throws(RepoError) {
        for i in pairs.indices.dropFirst() where !KeyOrder.precedes(pairs[i - 1].key, pairs[i].key) {
            throw RepoError(.keyOrder, "keys must be strictly increasing (at index \(i))")
        }
        let layers = MST.layers(of: pairs) { $0.key }
        let top = layers.max() ?? 0
        self.init(root: try? Self.build(pairs, layers, pairs.indices, layer: top)?.resolved())
    }

    /// Subtrees of at least this many keys are built on all cores, each of
    /// their own subtrees on one (and those as large split again).
    static let parallelBuildThreshold = 4_096

    private static func build(
        _ pairs: [(key: [UInt8], value: CID)], _ layers: [Int], _ range: Range<Int>, layer: Int
    ) -> MSTChild? {
        guard !range.isEmpty, layer >= 0 else { return nil }
        // This node's keys, and the ranges of the subtrees around them.
        var keys = [Int]()
        for i in range where layers[i] == layer { keys.append(i) }
        var segments = [Range<Int>]()
        segments.reserveCapacity(keys.count + 1)
        var start = range.lowerBound
        for i in keys {
            segments.append(start..<i)
            start = i + 1
        }
        segments.append(start..<range.upperBound)
        let children: [MSTChild?]
        if range.count >= parallelBuildThreshold, segments.count > 1 {
            let segments = segments
            children = [MSTChild?](unsafeUninitializedCapacity: segments.count) { buffer, initialized in
                nonisolated(unsafe) let out = buffer
                DispatchQueue.concurrentPerform(iterations: segments.count) { s in
                    (out.baseAddress! + s).initialize(to: build(pairs, layers, segments[s], layer: layer - 1))
                }
                initialized = segments.count
            }
        } else {
            children = segments.map { build(pairs, layers, $0, layer: layer - 1) }
        }
        var entries = [MSTNode.Entry]()
        entries.reserveCapacity(keys.count)
        for (n, i) in keys.enumerated() { entries.append(.init(key: pairs[i].key, value: pairs[i].value, right: children[n + 1])) }
        return MSTNode.make(layer: layer, left: children[0], entries: entries).map { .node($0) }
    }
}

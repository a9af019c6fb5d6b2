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

    /// The blocks of the tree for `pairs`, whose keys the caller has checked
    /// are strictly increasing, and its root's CID: the nodes that
    /// ``init(sortedPairs:)`` and then ``nodes()`` would give, in that order
    /// (parents before children, left to right), without making the tree's
    /// objects, nor freeing them after: for a caller that only writes the
    /// blocks out.
    static func nodeBlocks(sortedPairs pairs: [(key: [UInt8], value: CID)]) -> (root: CID, blocks: [(cid: CID, bytes: [UInt8])]) {
        let layers = MST.layers(of: pairs) { $0.key }
        let built = nodeBlocks(pairs, layers, pairs.indices, layer: layers.max() ?? 0)
        guard let root = built.cid else { return (MSTNode.empty.cid, [(MSTNode.empty.cid, MSTNode.empty.bytes)]) }
        return (root, built.blocks)
    }

    /// Subtrees of at least this many keys are built on all cores, each of
    /// their own subtrees on one (and those as large split again).
    static let parallelBuildThreshold = 4_096

    private static func build(
        _ pairs: [(key: [UInt8], value: CID)], _ layers: [Int], _ range: Range<Int>, layer: Int
    ) -> MSTChild? {
        guard !range.isEmpty, layer >= 0 else { return nil }
        let (keys, segments) = split(layers, range, layer: layer)
        let children = map(segments, parallel: range.count >= parallelBuildThreshold) {
            build(pairs, layers, $0, layer: layer - 1)
        }
        var entries = [MSTNode.Entry]()
        entries.reserveCapacity(keys.count)
        for (n, i) in keys.enumerated() { entries.append(.init(key: pairs[i].key, value: pairs[i].value, right: children[n + 1])) }
        return MSTNode.make(layer: layer, left: children[0], entries: entries).map { .node($0) }
    }

    /// ``build(_:_:_:layer:)`` as blocks: the node's, then its subtrees', in order.
    private static func nodeBlocks(
        _ pairs: [(key: [UInt8], value: CID)], _ layers: [Int], _ range: Range<Int>, layer: Int
    ) -> (cid: CID?, blocks: [(cid: CID, bytes: [UInt8])]) {
        guard !range.isEmpty, layer >= 0 else { return (nil, []) }
        let (keys, segments) = split(layers, range, layer: layer)
        let children = map(segments, parallel: range.count >= parallelBuildThreshold) {
            nodeBlocks(pairs, layers, $0, layer: layer - 1)
        }
        var entries = [MSTNode.Entry]()
        entries.reserveCapacity(keys.count)
        for (n, i) in keys.enumerated() {
            entries.append(.init(key: pairs[i].key, value: pairs[i].value, right: children[n + 1].cid.map { .stub($0) }))
        }
        // Pruned as `MSTNode.make` prunes.
        if entries.isEmpty, children[0].cid == nil { return (nil, []) }
        let bytes = MSTNode.encode(left: children[0].cid, entries: entries)
        let cid = CID.compute(bytes, codec: .dagCBOR)
        var blocks = [(cid: CID, bytes: [UInt8])]()
        blocks.reserveCapacity(1 + children.reduce(0) { $0 + $1.blocks.count })
        blocks.append((cid, bytes))
        for child in children { blocks += child.blocks }
        return (cid, blocks)
    }

    /// The positions in `range` of the keys at `layer`, and the ranges of
    /// the subtrees around them (one more than the keys).
    private static func split(_ layers: [Int], _ range: Range<Int>, layer: Int) -> (keys: [Int], segments: [Range<Int>]) {
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
        return (keys, segments)
    }

    /// `body` of each segment, in order: on all cores when `parallel` and
    /// there is more than one.
    private static func map<T: Sendable>(_ segments: [Range<Int>], parallel: Bool, _ body: @Sendable (Range<Int>) -> T) -> [T] {
        guard parallel, segments.count > 1 else { return segments.map(body) }
        return [T](unsafeUninitializedCapacity: segments.count) { buffer, initialized in
            nonisolated(unsafe) let out = buffer
            DispatchQueue.concurrentPerform(iterations: segments.count) { s in
                (out.baseAddress! + s).initialize(to: body(segments[s]))
            }
            initialized = segments.count
        }
    }
}

import ATData
@testable import ATRepo
import Foundation
import Testing

@Suite("MST")
struct MSTTests {
    static func value(_ i: Int) -> CID { CID.compute(Array("record \(i)".utf8)) }

    static func randomKeys(_ n: Int, using rng: inout some RandomNumberGenerator) -> [String] {
        let collections = ["app.bsky.feed.post", "app.bsky.feed.like", "app.bsky.graph.follow"]
        var keys = Set<String>()
        while keys.count < n {
            let tid = String(UInt64.random(in: 0..<(1 << 50), using: &rng), radix: 32)
            keys.insert("\(collections.randomElement(using: &rng)!)/3k\(tid)")
        }
        return Array(keys)
    }

    @Test func emptyTree() throws {
        let tree = MST()
        #expect(tree.isEmpty)
        #expect(try tree.count() == 0)
        // The empty tree is one node {e: [], l: null}.
        #expect(tree.root.bytes == [0xA2, 0x61, 0x65, 0x80, 0x61, 0x6C, 0xF6])
        #expect(try MST(sortedPairs: []).rootCID == tree.rootCID)
    }

    /// Past ``MST/parallelBuildThreshold`` keys the bottom-up build splits
    /// its subtrees over the cores: still the tree of one-by-one insertion.
    @Test func aBuildSplitOverTheCoresGivesTheInsertedTree() throws {
        var rng = SystemRandomNumberGenerator()
        let n = 3 * MST.parallelBuildThreshold
        let pairs = Self.randomKeys(n, using: &rng).sorted().enumerated().map { (Array($0.element.utf8), Self.value($0.offset)) }
        var tree = MST()
        for (key, value) in pairs.shuffled(using: &rng) { tree = try tree.inserting(key, value) }
        let built = try MST(sortedPairs: pairs)
        #expect(built.rootCID == tree.rootCID)
        #expect(Set(built.nodes().map(\.cid)) == Set(tree.nodes().map(\.cid)))
    }

    /// The blocks of a build without the tree's objects are the built
    /// tree's nodes, in the order ``MST/nodes()`` lists them: for no key, one,
    /// a few, and enough to split over the cores.
    @Test(arguments: [0, 1, 2, 60, 3 * MST.parallelBuildThreshold])
    func nodeBlocksAreTheBuiltTreesNodes(_ n: Int) throws {
        var rng = SystemRandomNumberGenerator()
        let pairs = Self.randomKeys(n, using: &rng).sorted().enumerated().map { (key: Array($0.element.utf8), value: Self.value($0.offset)) }
        let tree = try MST(sortedPairs: pairs)
        let (root, blocks) = MST.nodeBlocks(sortedPairs: pairs)
        #expect(root == tree.rootCID)
        #expect(blocks.map(\.cid) == tree.nodes().map(\.cid))
        #expect(blocks.map(\.bytes) == tree.nodes().map(\.bytes))
    }

    /// Long key lists are sorted in two halves on two cores, then merged:
    /// the same order as one stable sort, ties included.
    @Test func aSortOnTwoCoresEqualsOneStableSort() {
        var rng = SystemRandomNumberGenerator()
        let n = 2 * KeyOrder.parallelSortThreshold + 3
        let keys = (0..<n).map { _ in UInt16.random(in: 0..<500, using: &rng) }
        let precedes: @Sendable (Int, Int) -> Bool = { keys[$0] < keys[$1] || (keys[$0] == keys[$1] && $0 < $1) }
        #expect(KeyOrder.sortOnTwoCores(Array(0..<n), by: precedes) == Array(0..<n).sorted(by: precedes))
        let strings = Self.randomKeys(n, using: &rng).map { Array($0.utf8) }
        let order = KeyOrder.sortedIndices(of: strings)
        #expect(order.map { strings[$0] } == strings.sorted { $0.lexicographicallyPrecedes($1) })
    }

    @Test(arguments: [1, 2, 10, 100, 1000])
    func insertOrderDoesNotMatter(_ n: Int) throws {
        var rng = SystemRandomNumberGenerator()
        let keys = Self.randomKeys(n, using: &rng)
        let pairs = keys.sorted().enumerated().map { (Array($0.element.utf8), Self.value($0.offset)) }
        let built = try MST(sortedPairs: pairs)
        var tree = MST()
        for (key, value) in pairs.shuffled(using: &rng) { tree = try tree.inserting(key, value) }
        #expect(tree.rootCID == built.rootCID)
        // Every key reads back, in order.
        for (key, value) in pairs { #expect(try tree.get(key) == value) }
        var walked = [[UInt8]]()
        try tree.walk { key, _ in walked.append(key) }
        #expect(walked == pairs.map(\.0))
        // Deleting in another order empties it again, through the same states.
        var shrinking = tree
        var remaining = pairs
        for (key, _) in pairs.shuffled(using: &rng) {
            shrinking = try shrinking.removing(key)
            remaining.removeAll { $0.0 == key }
            if remaining.count % 17 == 0 {
                #expect(shrinking.rootCID == (try MST(sortedPairs: remaining)).rootCID)
            }
        }
        #expect(shrinking.isEmpty)
        #expect(shrinking.rootCID == MST().rootCID)
    }

    @Test func updatesReplaceValues() throws {
        let key = Array("app.bsky.feed.post/abc".utf8)
        let tree = try MST().inserting(key, Self.value(1)).inserting(key, Self.value(2))
        #expect(try tree.get(key) == Self.value(2))
        #expect(try tree.count() == 1)
        #expect(try tree.rootCID == MST().inserting(key, Self.value(2)).rootCID)
        #expect(try tree.removing(Array("absent/key".utf8)).rootCID == tree.rootCID)
    }

    @Test func listsByRangeAndPrefix() throws {
        var rng = SystemRandomNumberGenerator()
        let keys = Self.randomKeys(500, using: &rng).sorted()
        let tree = try MST(sortedPairs: keys.map { (Array($0.utf8), Self.value(0)) })
        let likes = try tree.list(prefix: "app.bsky.feed.like/").map { String(decoding: $0.key, as: UTF8.self) }
        #expect(likes == keys.filter { $0.hasPrefix("app.bsky.feed.like/") })
        let from = Array(keys[100].utf8), to = Array(keys[200].utf8)
        #expect(try tree.list(from: from, to: to).map(\.key) == keys[100..<200].map { Array($0.utf8) })
        #expect(try tree.list().count == 500)
    }

    @Test(arguments: [0, 1, 50, 2000])
    func diffFindsEveryChangeAndOnlyTheNewBlocks(_ size: Int) throws {
        var rng = SystemRandomNumberGenerator()
        let keys = Self.randomKeys(size + 60, using: &rng)
        let base = Array(keys.prefix(size))
        let old = try MST(sortedPairs: base.sorted().map { (Array($0.utf8), Self.value(0)) })
        var new = old
        var expectedAdds = Set<String>(), expectedUpdates = Set<String>(), expectedDeletes = Set<String>()
        for key in keys.suffix(30) {
            new = try new.inserting(Array(key.utf8), Self.value(1))
            expectedAdds.insert(key)
        }
        for key in base.shuffled(using: &rng).prefix(min(20, size)) {
            if Bool.random(using: &rng) {
                new = try new.inserting(Array(key.utf8), Self.value(2))
                expectedUpdates.insert(key)
            } else {
                new = try new.removing(Array(key.utf8))
                expectedDeletes.insert(key)
            }
        }
        let diff = try new.diff(from: old)
        func strings(_ keys: [[UInt8]]) -> Set<String> { Set(keys.map { String(decoding: $0, as: UTF8.self) }) }
        #expect(strings(diff.adds.map(\.key)) == expectedAdds)
        #expect(strings(diff.updates.map(\.key)) == expectedUpdates)
        #expect(strings(diff.deletes.map(\.key)) == expectedDeletes)
        let oldCIDs = Set(old.nodes().map(\.cid)), newCIDs = Set(new.nodes().map(\.cid))
        #expect(Set(diff.newNodes.map(\.cid)) == newCIDs.subtracting(oldCIDs))
        #expect(Set(diff.removedNodes) == oldCIDs.subtracting(newCIDs))
        // Applying the diff to the old tree gives the new one.
        var applied = old
        for (key, value) in diff.adds { applied = try applied.inserting(key, value) }
        for (key, _, value) in diff.updates { applied = try applied.inserting(key, value) }
        for (key, _) in diff.deletes { applied = try applied.removing(key) }
        #expect(applied.rootCID == new.rootCID)
        #expect(try new.diff(from: new).newNodes.isEmpty)
    }

    @Test func rejectsUnsortedInput() {
        let a = (Array("b".utf8), Self.value(0)), b = (Array("a".utf8), Self.value(1))
        #expect(throws: RepoError.self) { try MST(sortedPairs: [a, b]) }
        #expect(throws: RepoError.self) { try MST(sortedPairs: [a, a]) }
    }

    @Test func loadsAndVerifiesFromBlocks() throws {
        var rng = SystemRandomNumberGenerator()
        let keys = Self.randomKeys(300, using: &rng).sorted()
        let tree = try MST(sortedPairs: keys.enumerated().map { (Array($0.element.utf8), Self.value($0.offset)) })
        let store = MemoryBlockStore()
        for node in tree.nodes() { store.put(node.cid, node.bytes) }
        let loaded = try MST.load(root: tree.rootCID, from: store)
        #expect(loaded.rootCID == tree.rootCID)
        #expect(try loaded.count() == 300)
        #expect(try loaded.get(Array(keys[42].utf8)) == Self.value(42))
    }
}

import ATData
import ATRepo
import Foundation
import Testing
import TestSupport

/// MST roots cross-checked against atmst (PyPI), for several sizes and orders.
@Suite("MST with atmst", .serialized)
struct MSTPeerTests {
    @Test(arguments: [1, 10, 200, 3000, 12000])
    func rootsAgreeWithAtmst(_ n: Int) throws {
        var rng = SystemRandomNumberGenerator()
        var keys = Set<String>()
        let collections = ["app.bsky.feed.post", "app.bsky.feed.like", "app.bsky.graph.follow", "app.bsky.actor.profile"]
        while keys.count < n {
            keys.insert("\(collections.randomElement(using: &rng)!)/\(String(UInt64.random(in: 0..<(1 << 60), using: &rng), radix: 32))")
        }
        let pairs = keys.sorted().enumerated().map { (key: $0.element, value: CID.compute(Array("record \($0.offset)".utf8))) }
        let built = try MST(sortedPairs: pairs.map { (Array($0.key.utf8), $0.value) })
        // atmst inserts in a random order; we insert in another one.
        let theirs = pairs.shuffled(using: &rng).map { "\($0.key) \($0.value)" }.joined(separator: "\n") + "\n"
        let root = try Tools.peers(["mst-root"], input: theirs).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(root == built.rootCID.description)
        var ours = MST()
        for pair in pairs.shuffled(using: &rng) { ours = ours.inserting(Array(pair.key.utf8), pair.value) }
        #expect(ours.rootCID == built.rootCID)
    }
}

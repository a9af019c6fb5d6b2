import ATData
import ATRepo
import Foundation
import Testing
import TestSupport

/// The `mst/*` and `firehose/commit-proof-fixtures.json` interop fixtures.
@Suite("MST interop fixtures")
struct MSTFixtureTests {
    struct Height: Decodable, Sendable { let key: String; let height: Int }
    struct Prefix: Decodable, Sendable { let left: String; let right: String; let len: Int }
    struct Proof: Decodable, Sendable {
        let comment: String
        let leafValue: String
        let keys: [String]
        let adds: [String]
        let dels: [String]
        let rootBeforeCommit: String
        let rootAfterCommit: String
        let blocksInProof: [String]
    }

    static let heights = (try? Fixtures.rows([Height].self, "mst/key_heights.json")) ?? []
    static let prefixes = (try? Fixtures.rows([Prefix].self, "mst/common_prefix.json")) ?? []
    static let proofs = (try? Fixtures.rows([Proof].self, "firehose/commit-proof-fixtures.json")) ?? []

    @Test func fixturesLoaded() {
        #expect(Self.heights.count == 9)
        #expect(Self.prefixes.count == 13)
        #expect(Self.proofs.count >= 6)
    }

    @Test(arguments: 0..<9)
    func keyHeight(_ index: Int) {
        let row = Self.heights[index]
        #expect(MST.layer(of: row.key) == row.height, "\(row.key)")
    }

    @Test(arguments: 0..<13)
    func commonPrefix(_ index: Int) {
        let row = Self.prefixes[index]
        #expect(MSTNode.commonPrefixLength(Array(row.left.utf8), Array(row.right.utf8)) == row.len)
    }

    static func tree(_ keys: [String], value: CID) throws -> MST {
        try MST(sortedPairs: keys.sorted().map { (Array($0.utf8), value) })
    }

    @Test(arguments: 0..<6)
    func commitProofRoots(_ index: Int) throws {
        guard index < Self.proofs.count else { return }
        let row = Self.proofs[index]
        let leaf = try CID(row.leafValue)
        let before = try Self.tree(row.keys, value: leaf)
        #expect(before.rootCID.description == row.rootBeforeCommit, "\(row.comment)")
        var after = before
        for key in row.adds { after = after.inserting(Array(key.utf8), leaf) }
        for key in row.dels { after = after.removing(Array(key.utf8)) }
        #expect(after.rootCID.description == row.rootAfterCommit, "\(row.comment)")
        let final = Set(row.keys).union(row.adds).subtracting(row.dels)
        #expect(try Self.tree(Array(final), value: leaf).rootCID == after.rootCID)
        // And back again: the inverse operations restore the old root.
        var undone = after
        for key in row.adds { undone = undone.removing(Array(key.utf8)) }
        for key in row.dels { undone = undone.inserting(Array(key.utf8), leaf) }
        #expect(undone.rootCID == before.rootCID, "\(row.comment)")
    }

    @Test func exampleKeysBuildTheSameTreeInAnyOrder() throws {
        let keys = Fixtures.lines("mst/example_keys.txt")
        #expect(keys.count > 100)
        let value = CID.compute(Array("value".utf8))
        let built = try Self.tree(keys, value: value)
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<5 {
            var tree = MST()
            for key in keys.shuffled(using: &rng) { tree = tree.inserting(Array(key.utf8), value) }
            #expect(tree.rootCID == built.rootCID)
            #expect(tree.count == keys.count)
        }
    }
}

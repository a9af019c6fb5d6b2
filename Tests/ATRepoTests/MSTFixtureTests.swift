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
        for key in row.adds { after = try after.inserting(Array(key.utf8), leaf) }
        for key in row.dels { after = try after.removing(Array(key.utf8)) }
        #expect(after.rootCID.description == row.rootAfterCommit, "\(row.comment)")
        let final = Set(row.keys).union(row.adds).subtracting(row.dels)
        #expect(try Self.tree(Array(final), value: leaf).rootCID == after.rootCID)
        // And back again: the inverse operations restore the old root.
        var undone = after
        for key in row.adds { undone = try undone.removing(Array(key.utf8)) }
        for key in row.dels { undone = try undone.inserting(Array(key.utf8), leaf) }
        #expect(undone.rootCID == before.rootCID, "\(row.comment)")
    }

    /// The blocks of one commit are enough to undo it: load only the fixture's
    /// proof blocks, invert the operations, and reach the previous root.
    @Test(arguments: 0..<6)
    func commitProofBlocksSufficeToInvert(_ index: Int) throws {
        guard index < Self.proofs.count else { return }
        let row = Self.proofs[index]
        let leaf = try CID(row.leafValue)
        let final = Set(row.keys).union(row.adds).subtracting(row.dels)
        let after = try Self.tree(Array(final), value: leaf)
        let wanted = Set(row.blocksInProof)
        let store = MemoryBlockStore()
        for node in after.nodes() where wanted.contains(node.cid.description) { store.put(node.cid, node.bytes) }
        #expect(store.count == wanted.count, "\(row.comment): the fixture's blocks are nodes of the tree")
        var partial = try MST.loadPartial(root: after.rootCID, from: store)
        for key in row.adds { partial = try partial.removing(Array(key.utf8)) }
        for key in row.dels { partial = try partial.inserting(Array(key.utf8), leaf) }
        #expect(partial.rootCID.description == row.rootBeforeCommit, "\(row.comment)")
        // Without the blocks, the same work reports what is missing.
        let bare = try MST.loadPartial(root: after.rootCID, from: MemoryBlockStore([after.rootCID: after.root.bytes]))
        if !row.adds.isEmpty, after.nodes().count > 1 {
            do {
                var tree = bare
                for key in row.adds { tree = try tree.removing(Array(key.utf8)) }
                for key in row.dels { tree = try tree.inserting(Array(key.utf8), leaf) }
                #expect(tree.rootCID.description == row.rootBeforeCommit)
            } catch {
                #expect(error.code == .missingBlock)
            }
        }
    }

    @Test func proofsFollowThePathToTheKey() throws {
        let keys = Fixtures.lines("mst/example_keys.txt")
        let value = CID.compute(Array("value".utf8))
        let tree = try Self.tree(keys, value: value)
        for key in keys.prefix(20) + ["A0/000000", "zz/absent"] {
            let path = try tree.proof(for: Array(key.utf8))
            #expect(path.first?.cid == tree.rootCID)
            // The proof alone answers the lookup.
            let store = MemoryBlockStore()
            for node in path { store.put(node.cid, node.bytes) }
            let partial = try MST.loadPartial(root: tree.rootCID, from: store)
            #expect(try partial.get(Array(key.utf8)) == (keys.contains(key) ? value : nil))
        }
    }

    @Test func exampleKeysBuildTheSameTreeInAnyOrder() throws {
        let keys = Fixtures.lines("mst/example_keys.txt")
        #expect(keys.count > 100)
        let value = CID.compute(Array("value".utf8))
        let built = try Self.tree(keys, value: value)
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<5 {
            var tree = MST()
            for key in keys.shuffled(using: &rng) { tree = try tree.inserting(Array(key.utf8), value) }
            #expect(tree.rootCID == built.rootCID)
            #expect(try tree.count() == keys.count)
        }
    }
}

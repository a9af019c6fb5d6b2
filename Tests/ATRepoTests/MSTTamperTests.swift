import ATData
import ATRepo
import Foundation
import Testing

/// Hand-made bad trees: each is rejected with its own error code.
@Suite("MST tampering")
struct MSTTamperTests {
    static let value = CID.compute(Array("record".utf8))

    static func entry(_ key: String, prefix: Int = 0, suffix: String? = nil, right: CID? = nil) -> DataValue {
        ["k": .bytes(Array((suffix ?? key).utf8)), "p": .int(Int64(prefix)), "t": right.map { .link($0) } ?? .null, "v": .link(value)]
    }

    static func node(_ entries: [DataValue], left: CID? = nil) -> (CID, [UInt8]) {
        DAGCBOR.encodeWithCID(["e": .array(entries), "l": left.map { .link($0) } ?? .null])
    }

    static func expect(_ code: RepoError.Code, root: CID, blocks: [(CID, [UInt8])], sourceLocation: SourceLocation = #_sourceLocation) {
        let store = MemoryBlockStore()
        for (cid, bytes) in blocks { store.put(cid, bytes) }
        do {
            _ = try MST.load(root: root, from: store)
            Issue.record("expected \(code)", sourceLocation: sourceLocation)
        } catch let error as RepoError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("untyped error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func preconditions() {
        // The keys used below: "asdf" and "2653ae71" are layer 0, "blue" is layer 1.
        #expect(MST.layer(of: "asdf") == 0)
        #expect(MST.layer(of: "2653ae71") == 0)
        #expect(MST.layer(of: "blue") == 1)
        #expect(MST.layer(of: "c0") == 1)
    }

    @Test func wellFormedTreeLoads() throws {
        let (root, bytes) = Self.node([Self.entry("2653ae71"), Self.entry("asdf", prefix: 0)])
        let store = MemoryBlockStore([root: bytes])
        #expect(try MST.load(root: root, from: store).count() == 2)
    }

    @Test func wrongKeyOrder() {
        let (root, bytes) = Self.node([Self.entry("asdf"), Self.entry("2653ae71")])
        Self.expect(.keyOrder, root: root, blocks: [(root, bytes)])
    }

    @Test func keyAtTheWrongLayer() {
        let (root, bytes) = Self.node([Self.entry("asdf"), Self.entry("blue")])
        Self.expect(.wrongLayer, root: root, blocks: [(root, bytes)])
        // A layer-0 key in a subtree of a layer-1 node is fine; a layer-1 key there is not.
        let (child, childBytes) = Self.node([Self.entry("c0")])
        let (top, topBytes) = Self.node([Self.entry("blue", right: child)])
        Self.expect(.wrongLayer, root: top, blocks: [(top, topBytes), (child, childBytes)])
    }

    @Test func nonCanonicalPrefix() {
        // "2653ae71" then "2653ae72" share 7 bytes; claiming 0 is not canonical.
        let keys = ["2653ae71", "2653ae72"].sorted()
        if MST.layer(of: keys[1]) == 0 {
            let (root, bytes) = Self.node([Self.entry(keys[0]), Self.entry(keys[1], prefix: 0)])
            Self.expect(.nonCanonicalPrefix, root: root, blocks: [(root, bytes)])
        }
        let (root, bytes) = Self.node([Self.entry("asdf", prefix: 2)])
        Self.expect(.nonCanonicalPrefix, root: root, blocks: [(root, bytes)])
    }

    @Test func missingBlock() {
        let absent = CID.compute(Array("nothing".utf8))
        let (root, bytes) = Self.node([Self.entry("blue", right: absent)])
        Self.expect(.missingBlock, root: root, blocks: [(root, bytes)])
    }

    @Test func flippedBitInANode() {
        let (root, bytes) = Self.node([Self.entry("asdf")])
        var flipped = bytes
        flipped[flipped.count - 10] ^= 0x01
        Self.expect(.nodeHashMismatch, root: root, blocks: [(root, flipped)])
    }

    @Test func emptyNodes() {
        let (child, childBytes) = Self.node([Self.entry("asdf")])
        let (root, bytes) = Self.node([], left: child)
        Self.expect(.emptyNode, root: root, blocks: [(root, bytes), (child, childBytes)])
        // An empty node below the top that points nowhere.
        let (empty, emptyBytes) = Self.node([])
        let (top, topBytes) = Self.node([Self.entry("blue", right: empty)])
        Self.expect(.emptyNode, root: top, blocks: [(top, topBytes), (empty, emptyBytes)])
    }

    @Test func notANode() {
        let (root, bytes) = DAGCBOR.encodeWithCID(["e": "nope", "l": .null])
        Self.expect(.malformedBlock, root: root, blocks: [(root, bytes)])
        let (extra, extraBytes) = DAGCBOR.encodeWithCID(["e": [], "l": .null, "x": 1])
        Self.expect(.malformedBlock, root: extra, blocks: [(extra, extraBytes)])
    }
}

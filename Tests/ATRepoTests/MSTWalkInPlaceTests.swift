import ATCrypto
import ATData
@testable import ATRepo
import ATSyntax
import Foundation
import Testing

/// `car verify --repo` walks the tree in place in the file
/// (`MST.visitInPlace`). It must see the same entries, in the same order, as
/// the walk over copied blocks (`MST.visit`), and refuse a bad tree with the
/// same error.
@Suite("MST walk in place")
struct MSTWalkInPlaceTests {
    typealias Outcome = (leaves: [([UInt8], CID)], error: String?)

    static func walks(root: CID, blocks: [(CID, [UInt8])]) throws -> (copied: Outcome, inPlace: Outcome) {
        let store = try CARBlockStore(car: CARWriter.encode(roots: [root], blocks: blocks))
        let subtree = MST.Subtree(cid: root, layer: nil, lower: nil, upper: nil)
        var copied: Outcome = ([], nil), inPlace: Outcome = ([], nil)
        do {
            try MST.visit(subtree, store: store, hashChecked: true, node: { _, _ in }) { copied.leaves.append(($0, $1)) }
        } catch {
            copied.error = "\(error)"
        }
        do {
            try MST.visitInPlace(subtree, store: store) { inPlace.leaves.append((Array($0), $1)) }
        } catch {
            inPlace.error = "\(error)"
        }
        return (copied, inPlace)
    }

    static func expectSame(root: CID, blocks: [(CID, [UInt8])], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let (copied, inPlace) = try walks(root: root, blocks: blocks)
        #expect(inPlace.error == copied.error, sourceLocation: sourceLocation)
        #expect(inPlace.leaves.map(\.0) == copied.leaves.map(\.0), sourceLocation: sourceLocation)
        #expect(inPlace.leaves.map(\.1) == copied.leaves.map(\.1), sourceLocation: sourceLocation)
    }

    @Test(arguments: [0, 1, 2, 17, 300, 2_000])
    func realTreesGiveTheSameEntries(count: Int) throws {
        var generator = SystemRandomNumberGenerator()
        var mst = MST()
        var expected = [[UInt8]: CID]()
        for i in 0..<count {
            let collection = ["app.bsky.feed.post", "app.bsky.feed.like", "app.bsky.graph.follow"][Int.random(in: 0..<3, using: &generator)]
            let key = Array("\(collection)/\(TID(microseconds: 1_700_000_000_000_000 + UInt64.random(in: 0..<(1 << 40), using: &generator), clockID: 0))".utf8)
            let value = CID.compute(Array("record \(i)".utf8))
            mst = try mst.inserting(key, value)
            expected[key] = value
        }
        let blocks = mst.nodes().map { ($0.cid, $0.bytes) }
        let (copied, inPlace) = try Self.walks(root: mst.rootCID, blocks: blocks)
        #expect(copied.error == nil)
        #expect(inPlace.error == nil)
        #expect(inPlace.leaves.count == expected.count)
        #expect(inPlace.leaves.map(\.0) == copied.leaves.map(\.0))
        #expect(inPlace.leaves.map(\.1) == copied.leaves.map(\.1))
        #expect(inPlace.leaves.allSatisfy { expected[$0.0] == $0.1 })
    }

    static let value = CID.compute(Array("record".utf8))

    static func entry(_ key: String, prefix: Int = 0, right: CID? = nil) -> DataValue {
        ["k": .bytes(Array(key.utf8)), "p": .int(Int64(prefix)), "t": right.map { .link($0) } ?? .null, "v": .link(value)]
    }

    static func node(_ entries: [DataValue], left: CID? = nil) -> (CID, [UInt8]) {
        DAGCBOR.encodeWithCID(["e": .array(entries), "l": left.map { .link($0) } ?? .null])
    }

    /// Each fault of the tamper suites, walked both ways.
    @Test func badTreesGiveTheSameError() throws {
        // "asdf" and "2653ae71" are layer 0; "blue" and "c0" are layer 1.
        let leaf = Self.node([Self.entry("c0")])
        let low = Self.node([Self.entry("asdf")])
        let cases: [(String, CID, [(CID, [UInt8])])] = [
            { let n = Self.node([Self.entry("asdf"), Self.entry("2653ae71")]); return ("order", n.0, [n]) }(),
            { let n = Self.node([Self.entry("asdf"), Self.entry("blue")]); return ("layer", n.0, [n]) }(),
            { let t = Self.node([Self.entry("blue", right: leaf.0)]); return ("layer below", t.0, [t, leaf]) }(),
            { let n = Self.node([Self.entry("2653ae71"), Self.entry("asdf", prefix: 1)]); return ("prefix", n.0, [n]) }(),
            { let n = Self.node([Self.entry("2653ae71"), Self.entry("2653ae72", prefix: 0)]); return ("short prefix", n.0, [n]) }(),
            { let n = Self.node([Self.entry("")]); return ("empty key", n.0, [n]) }(),
            { let n = Self.node([]); return ("empty root", n.0, [n]) }(),
            { let n = Self.node([], left: low.0); return ("root only down", n.0, [n, low]) }(),
            { let t = Self.node([Self.entry("blue", right: low.0)]); return ("missing child", t.0, [t]) }(),
            { let t = Self.node([Self.entry("blue", right: CID.compute([1], codec: .raw))]); return ("raw link", t.0, [t]) }(),
            { let t = Self.node([Self.entry("blue", right: low.0)]); return ("good", t.0, [t, low]) }(),
            { let e = Self.node([], left: low.0); let t = Self.node([Self.entry("blue", right: e.0)]); return ("empty inner", t.0, [t, e, low]) }(),
            { let t = Self.node([Self.entry("c0", right: low.0)]); let x = Self.node([Self.entry("blue", right: t.0)]); return ("range", x.0, [x, t, low]) }(),
            { let b = DAGCBOR.encodeWithCID(["e": .array([]), "l": .null, "x": 1]); return ("malformed", b.cid, [(b.cid, b.bytes)]) }(),
        ]
        // Each key repeats the one before and adds a byte: refused at the
        // first key past the bound, before the keys of the node grow further.
        let growing = Self.node((0..<1_100).map { i in
            ["k": .bytes([0x61]), "p": .int(Int64(i)), "t": .null, "v": .link(Self.value)]
        })
        let (copiedLong, inPlaceLong) = try Self.walks(root: growing.0, blocks: [growing])
        #expect(inPlaceLong.error == copiedLong.error)
        #expect(copiedLong.error?.hasPrefix("invalidKey") == true, "\(copiedLong.error ?? "accepted")")
        #expect(copiedLong.error?.contains("entry \(MST.maxKeyLength)") == true)

        var failures = 0
        for (name, root, blocks) in cases {
            let (copied, inPlace) = try Self.walks(root: root, blocks: blocks)
            #expect(inPlace.error == copied.error, "\(name)")
            #expect(inPlace.leaves.map(\.0) == copied.leaves.map(\.0), "\(name)")
            if copied.error != nil { failures += 1 }
        }
        // All but the good tree and the empty root are refused.
        #expect(failures == cases.count - 2)
    }
}

import ATCrypto
import ATData
@testable import ATRepo
import ATSyntax
import Testing

/// `MST.path(to:root:in:)`: the nodes from the root to a key, read one at a
/// time from a store, agree with the proof of the tree loaded whole.
@Suite("MST path from a store")
struct MSTPathTests {
    func tree(_ count: Int, ordered: Bool) throws -> (MST, MemoryBlockStore, [[UInt8]]) {
        var rng = SystemRandomNumberGenerator()
        var mst = MST()
        var keys = [[UInt8]]()
        for i in 0..<count {
            let rkey = ordered ? String(format: "%08d", i) : String((0..<10).map { _ in "abcdefghijklmnopqrstuvwxyz234567".randomElement(using: &rng)! })
            let key = Array("app.bsky.feed.post/\(rkey)".utf8)
            mst = try mst.inserting(key, DAGCBOR.encodeWithCID(["n": .int(Int64(i))]).cid)
            keys.append(key)
        }
        let store = MemoryBlockStore()
        for node in mst.nodes() { store.put(node.cid, node.bytes) }
        return (mst, store, keys)
    }

    @Test(arguments: [0, 1, 5, 40, 400], [false, true])
    func agreesWithTheLoadedTree(size: Int, ordered: Bool) throws {
        let (mst, store, keys) = try tree(size, ordered: ordered)
        let absent = [Array("app.bsky.feed.post/0".utf8), Array("app.bsky.feed.post/zzzzzzzzzzzz".utf8), Array("a".utf8), Array("app.bsky.feed.post/m".utf8)]
        for key in keys + absent {
            let (nodes, value) = try MST.path(to: key, root: mst.rootCID, in: store)
            #expect(nodes.map(\.cid) == (try mst.proof(for: key)).map(\.cid))
            #expect(value == (try mst.get(key)))
            for node in nodes { #expect(CID.compute(node.bytes, codec: .dagCBOR) == node.cid) }
        }
    }

    /// A node on the way whose bytes are not its CID's is refused; one that
    /// is missing is named.
    @Test func aTamperedOrMissingNodeIsRefused() throws {
        let (mst, store, keys) = try tree(200, ordered: false)
        let key = keys[17]
        let path = try mst.proof(for: key)
        #expect(path.count >= 2)
        let victim = path[1]
        let tampered = MemoryBlockStore()
        for node in mst.nodes() { tampered.put(node.cid, node.cid == victim.cid ? path[0].bytes : node.bytes) }
        #expect { _ = try MST.path(to: key, root: mst.rootCID, in: tampered) } throws: { ($0 as? RepoError)?.code == .nodeHashMismatch }
        let missing = MemoryBlockStore()
        for node in mst.nodes() where node.cid != victim.cid { missing.put(node.cid, node.bytes) }
        #expect { _ = try MST.path(to: key, root: mst.rootCID, in: missing) } throws: { ($0 as? RepoError)?.code == .missingBlock }
    }

    /// A record proof read along the path from the store has the same blocks,
    /// in the same order, as one taken from the tree in memory.
    @Test func recordProofsFromTheStoreAndFromMemoryAgree() throws {
        let store = MemoryBlockStore()
        let key = try K256PrivateKey(), clock = TIDClock()
        let post = try NSID("app.bsky.feed.post")
        var repo = try Repository.create(did: try DID("did:plc:recordproofrecordproof00"), key: key, rev: clock.next(), store: store)
        let paths = try (0..<300).map { RepoPath(collection: post, recordKey: try RecordKey("k\($0)")) }
        repo = try repo.applying(paths.map { .create($0, ["text": .string($0.description)]) }, key: key, rev: clock.next(), store: store).0
        let absent = RepoPath(collection: post, recordKey: try RecordKey("absent"))
        for path in [paths[0], paths[150], paths[299], absent] {
            let inMemory = try repo.recordProof(for: path), fromStore = try Repository.recordProof(for: path, commit: repo.commitCID, in: store)
            #expect(fromStore.map(\.cid) == inMemory.map(\.cid))
            #expect(fromStore.map(\.bytes) == inMemory.map(\.bytes))
            #expect(fromStore.count == (try repo.mst.proof(for: path.key)).count + (path == absent ? 1 : 2))
        }
    }
}

import ATCrypto
import ATData
import ATRepo
import Foundation
import Testing
import TestSupport

/// MST roots cross-checked against atmst (PyPI), for several sizes and orders.
@Suite("MST with atmst", .serialized)
struct MSTPeerTests {
    @Test(arguments: [1, 10, 200, 3000, 12000])
    func rootsAgreeWithAtmst(_ n: Int) async throws {
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
        let root = try await Tools.peers(["mst-root"], input: theirs).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(root == built.rootCID.description)
        var ours = MST()
        for pair in pairs.shuffled(using: &rng) { ours = try ours.inserting(Array(pair.key.utf8), pair.value) }
        #expect(ours.rootCID == built.rootCID)
    }
}

/// `bsky car build` gives the MST root that atmst computes for the same records.
@Suite("bsky car build with atmst", .serialized)
struct BuildPeerTests {
    @Test(arguments: [5, 700, 10_000])
    func builtRootsAgreeWithAtmst(_ n: Int) async throws {
        let dir = try Tools.temporaryDirectory()
        let records = dir.appendingPathComponent("records.jsonl")
        var lines = [String]()
        for i in 0..<n {
            let collection = ["app.bsky.feed.post", "app.bsky.feed.like", "app.bsky.graph.follow"][i % 3]
            let rkey = String(UInt64(i) &* 0x9E37_79B9_7F4A_7C15 >> 4, radix: 32)
            lines.append(#"{"collection":"\#(collection)","rkey":"\#(rkey)","record":{"$type":"\#(collection)","n":\#(i),"text":"record \#(i) ✨"}}"#)
        }
        try Data((lines.shuffled().joined(separator: "\n") + "\n").utf8).write(to: records)
        let car = dir.appendingPathComponent("repo.car")
        let key = try Keys.generate(.p256)
        let build = try await Tools.runBsky(["car", "build", "--records", records.path, "--did", "did:plc:atmst", "--curve", "p256",
                                       "--key-file", try write(key.multibase, to: dir.appendingPathComponent("key")), "--out", car.path])
        #expect(build.status == 0, "\(build.stderr)")
        let report = try DataValue(json: Data(build.stdout.utf8))
        let theirs = try await Tools.peers(["mst-root-records", records.path]).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(report["data"]?.stringValue == theirs)
        #expect(report["records"] == .int(Int64(n)))
        let repo = try Repository.open(car: try [UInt8](Data(contentsOf: car)), key: key.publicKey)
        #expect(repo.commit.data.description == theirs)
    }

    private func write(_ text: String, to url: URL) throws -> String {
        try Data(text.utf8).write(to: url)
        return url.path
    }
}

/// Repositories written by arroba (a Python PDS library) open and verify here.
@Suite("Repositories from arroba", .serialized)
struct RepositoryPeerTests {
    @Test func arrobaRepositoryVerifies() async throws {
        let dir = try Tools.temporaryDirectory()
        _ = try await Tools.peers(["make-cars", dir.path])
        let car = try [UInt8](Data(contentsOf: dir.appendingPathComponent("arroba-repo.car")))
        let didKey = try String(contentsOf: dir.appendingPathComponent("arroba-key.txt"), encoding: .utf8)
        let key = try Keys.publicKey(didKey: didKey)
        let repo = try Repository.open(car: car, key: key)
        #expect(repo.commit.version == 3)
        #expect(repo.did.description == "did:plc:interop000000000000000")
        let records = try repo.recordCIDs()
        #expect(try records.count == 300)
        #expect(records.allSatisfy { $0.path.collection.description == "app.bsky.feed.post" })
        let first = try #require(try repo.record(records[0].path))
        #expect(first["$type"] == "app.bsky.feed.post")
        // Rebuilding the tree from its contents gives the same root.
        let rebuilt = try MST(sortedPairs: records.map { ($0.path.key, $0.cid) })
        #expect(rebuilt.rootCID == repo.commit.data)
        // The wrong key is refused.
        let other = try Keys.generate(.k256)
        #expect(throws: CryptoError.self) { try Repository.open(car: car, key: other.publicKey) }
    }
}

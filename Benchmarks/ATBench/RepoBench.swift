import ATCrypto
import ATData
import ATRepo
import ATSyntax
import OpenSSLOracle
import Foundation

/// Workloads of the repository layer: MST build, one-op commits, and full
/// verification of a repository CAR. The records file is written for the
/// atmst anchor in scripts/bench.py.
enum RepoBench {
    static func records(_ n: Int) -> [(path: RepoPath, value: DataValue)] {
        let collections = ["app.bsky.feed.post", "app.bsky.feed.like", "app.bsky.graph.follow"].map { try! NSID($0) }
        return (0..<n).map { i in
            let rkey = try! RecordKey(TID(microseconds: 1_700_000_000_000_000 + UInt64(i) * 1_000, clockID: UInt16(i % 1024)).description)
            let value: DataValue = ["$type": .string(collections[i % 3].description), "text": .string("record \(i)"), "createdAt": "2024-01-01T00:00:00.000Z"]
            return (RepoPath(collection: collections[i % 3], recordKey: rkey), value)
        }
    }

    @MainActor
    static func run(records n: Int, commits: Int, directory: String, measure: (String, Int, Int, () throws -> Void) throws -> Void) throws {
        let recs = records(n)
        // The pairs as atmst gets them: key and record CID.
        var pairs = [(key: [UInt8], value: CID)]()
        var lines = [String]()
        for (path, value) in recs {
            let cid = CID.compute(DAGCBOR.encode(value))
            pairs.append((path.key, cid))
            lines.append("\(path) \(cid)")
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: directory + "/mst-pairs.txt", atomically: true, encoding: .utf8)
        let sorted = pairs.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        var root = CID.compute([0])
        try measure("mst.build", n, 0) {
            root = try MST(sortedPairs: sorted).rootCID
        }
        try "\(root)\n".write(toFile: directory + "/mst-root.txt", atomically: true, encoding: .utf8)

        // Signing and verifying alone, for scale.
        for curve in Curve.allCases {
            let signer = try Keys.generate(curve)
            let message = [UInt8](repeating: 7, count: 150)
            let signature = try signer.sign(message)
            try measure("crypto.sign.\(curve)", 1000, 0) { for _ in 0..<1000 { _ = try signer.sign(message) } }
            try measure("crypto.verify.\(curve)", 1000, 0) {
                for _ in 0..<1000 { try signer.publicKey.verify(signature: signature, for: message) }
            }
            if let k256 = signer.publicKey as? K256PublicKey {
                try k256Variants(k256, secret: signer.rawBytes, signature: signature, message: message, measure: measure)
            }
        }

        // One record per commit, each signed, into a repository of n records.
        let key = try Keys.generate(.k256)
        let clock = TIDClock()
        let store = MemoryBlockStore()
        let base = try Repository.build(did: try DID("did:plc:bench"), key: key, rev: clock.next(), records: recs, store: store)
        let extra = Array(records(n + commits).suffix(commits))
        let p256 = try Keys.generate(.p256)
        for (name, signer) in [("repo.commit.k256", key), ("repo.commit.p256", p256)] as [(String, any PrivateKey)] {
            try measure(name, commits, 0) {
                var repo = base
                for (path, value) in extra {
                    repo = try repo.applying([.create(path, value)], key: signer, rev: clock.next(), store: store).0
                }
            }
        }

        // What a relay does with each firehose commit: verify it from its
        // slice alone (CIDs, signature, inversion to prevData) and work out
        // the blocks to store and drop.
        for (name, signer) in [("relay.verify.k256", key), ("relay.verify.p256", p256)] as [(String, any PrivateKey)] {
            var repo = base
            var events = [(car: [UInt8], commit: CID, rev: TID?, ops: [RecordOp], prevData: CID)]()
            for (path, value) in extra {
                let prevData = repo.mst.rootCID
                let (next, result) = try repo.applying([.create(path, value)], key: signer, rev: clock.next(), store: store)
                let slice = try CommitProof.blocks(root: next.mst.rootCID, ops: result.ops, newBlocks: result.newBlocks, from: store)
                events.append((CARWriter<[UInt8]>.encode(roots: [result.commitCID], blocks: slice.map { ($0.cid, $0.bytes) }),
                               result.commitCID, next.commit.rev, result.ops, prevData))
                repo = next
            }
            let did = base.did, publicKey = signer.publicKey
            try measure(name, commits, events.reduce(0) { $0 + $1.car.count }) {
                for event in events {
                    _ = try CommitProof.verifiedChange(
                        car: event.car, commit: event.commit, repo: did, rev: event.rev, ops: event.ops, prevData: event.prevData, key: publicKey)
                }
            }
        }

        // Full verification of an n-record repository CAR.
        let built = try Repository.build(did: try DID("did:plc:bench"), key: key, rev: clock.next(), records: recs)
        let car = try built.exportCAR()
        try Data(car).write(to: URL(fileURLWithPath: directory + "/repo-signed.car"))
        try key.publicKey.didKey.write(toFile: directory + "/repo-signed.key", atomically: true, encoding: .utf8)
        try measure("repo.index", n, car.count) {
            _ = try CARBlockStore(car: car)
        }
        let indexed = try CARBlockStore(car: car)
        try measure("repo.mst.load", n, car.count) {
            _ = try MST.load(root: built.commit.data, from: indexed)
        }
        try measure("repo.verify", n, car.count) {
            _ = try Repository.open(car: car, key: key.publicKey)
        }
    }
}

extension RepoBench {
    /// K-256 verification four ways, per 1,000 checks: libsecp256k1 (the
    /// library's `verify`) and the native verifier, each with the key
    /// prepared once ("warm", as a relay holding an account's key) and parsed
    /// for every check ("cold", as a relay seeing a key for the first time);
    /// OpenSSL's libcrypto is the anchor. Signing is timed against OpenSSL's.
    static func k256Variants(
        _ key: K256PublicKey, secret: [UInt8], signature: [UInt8], message: [UInt8],
        measure: (String, Int, Int, () throws -> Void) throws -> Void
    ) throws {
        let native = try key.nativeVerifier
        let bytes = key.compressedBytes
        try measure("crypto.verify.k256.native", 1000, 0) { for _ in 0..<1000 { try native.verify(signature: signature, for: message) } }
        try measure("crypto.verify.k256.cold", 1000, 0) {
            for _ in 0..<1000 { try K256PublicKey(bytes: bytes).verify(signature: signature, for: message) }
        }
        try measure("crypto.verify.k256.native.cold", 1000, 0) {
            for _ in 0..<1000 { try K256PublicKey(bytes: bytes).nativeVerifier.verify(signature: signature, for: message) }
        }
        try measure("crypto.verify.k256.openssl", 1000, 0) {
            for _ in 0..<1000 where !OpenSSLK256.verify(publicKey: bytes, signature: signature, message: message) {
                throw CryptoError(.badSignature, "OpenSSL refused")
            }
        }
        try measure("crypto.sign.k256.openssl", 1000, 0) {
            for _ in 0..<1000 where OpenSSLK256.sign(secret: secret, message: message) == nil {
                throw CryptoError(.internalFailure, "OpenSSL could not sign")
            }
        }
    }
}

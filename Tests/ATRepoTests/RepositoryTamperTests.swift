import ATCrypto
import ATData
import ATRepo
import ATSyntax
import Foundation
import Testing
import TestSupport

/// A signed repository, changed in one way at a time: each change is caught
/// with its own error code.
@Suite("Repository tampering")
struct RepositoryTamperTests {
    static let did = try! DID("did:plc:tamper00000000000000000000")

    struct Fixture {
        let key: any PrivateKey
        let repo: Repository
        let car: [UInt8]
        let blocks: [CARBlock]
    }

    static func fixture() throws -> Fixture {
        let key = try Keys.generate(.k256)
        let clock = TIDClock()
        let store = MemoryBlockStore()
        let empty = try Repository.create(did: did, key: key, rev: clock.next(), store: store)
        let writes = (0..<200).map { i in
            RecordWrite.create(RepoPath(collection: try! NSID("app.bsky.feed.post"), recordKey: try! RecordKey("r\(i)")),
                               ["$type": "app.bsky.feed.post", "text": .string("post \(i)")])
        }
        let (repo, _) = try empty.applying(writes, key: key, rev: clock.next(), store: store)
        let car = try repo.exportCAR()
        return Fixture(key: key, repo: repo, car: car, blocks: try CARReader(car).blocks())
    }

    /// Rewrites the CAR with one block's bytes replaced (or dropped), keeping its CID.
    static func car(_ f: Fixture, replacing cid: CID, with bytes: [UInt8]?, roots: [CID]? = nil, extra: [(CID, [UInt8])] = []) -> [UInt8] {
        var blocks = [(CID, [UInt8])]()
        for block in f.blocks {
            if block.cid == cid {
                if let bytes { blocks.append((cid, bytes)) }
            } else {
                blocks.append((block.cid, Array(block.data)))
            }
        }
        return CARWriter.encode(roots: roots ?? [f.repo.commitCID], blocks: blocks + extra)
    }

    /// Opening `car` must fail with `expected`, the code of error type `E`,
    /// in memory (`open`), one block at a time (`walkVerifying`, as an import
    /// does), and in `verify(car:)` (`bsky car verify --repo`), unless that
    /// one's first pass over every block must catch it first, as `scan`.
    static func expectFailure<E: Error, Code: Equatable>(
        _ expected: Code, as type: E.Type, code: (E) -> Code, _ car: [UInt8], key: any PublicKey, scan: DataError.Code? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            _ = try Repository.verify(car: car, key: key)
            Issue.record("verify: expected \(scan.map { "\($0)" } ?? "\(expected)")", sourceLocation: sourceLocation)
        } catch let error as DataError where scan != nil {
            #expect(error.code == scan, "verify: \(error)", sourceLocation: sourceLocation)
        } catch let error as E where scan == nil {
            #expect(code(error) == expected, "verify: \(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("verify: expected \(scan.map { "\($0)" } ?? "\(expected)"), got \(error)", sourceLocation: sourceLocation)
        }
        let ways: [(String, () throws -> Void)] = [
            ("open", { _ = try Repository.open(car: car, key: key) }),
            ("walkVerifying", {
                let store = try CARBlockStore(car: car)
                _ = try Repository.walkVerifying(
                    commit: store.header.roots[0], did: did, store: store, key: key, node: { _, _ in }, record: { _, _, _ in })
            }),
        ]
        for (name, verify) in ways {
            do {
                try verify()
                Issue.record("\(name): expected \(expected)", sourceLocation: sourceLocation)
            } catch let error as E {
                #expect(code(error) == expected, "\(name): \(error)", sourceLocation: sourceLocation)
            } catch {
                Issue.record("\(name): expected \(expected), got \(error)", sourceLocation: sourceLocation)
            }
        }
    }

    static func expectRepoError(
        _ code: RepoError.Code, _ car: [UInt8], key: any PublicKey, scan: DataError.Code? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        expectFailure(code, as: RepoError.self, code: \.code, car, key: key, scan: scan, sourceLocation: sourceLocation)
    }

    static func expectCryptoError(_ code: CryptoError.Code, _ car: [UInt8], key: any PublicKey, sourceLocation: SourceLocation = #_sourceLocation) {
        expectFailure(code, as: CryptoError.self, code: \.code, car, key: key, sourceLocation: sourceLocation)
    }

    @Test func untouchedRepositoryVerifies() throws {
        let f = try Self.fixture()
        #expect(try Repository.open(car: f.car, key: f.key.publicKey).recordCIDs().count == 200)
        let summary = try Repository.verify(car: f.car, key: f.key.publicKey)
        #expect(summary.records == 200 && summary.blocks == f.blocks.count)
        #expect(summary.commit == f.repo.commit && summary.commitCID == f.repo.commitCID)
    }

    /// A commit block named by a `raw` CID hashes right but is not a commit.
    @Test func verifyRefusesARawCommitCID() throws {
        let f = try Self.fixture()
        let bytes = try f.repo.store.require(f.repo.commitCID)
        let raw = CID.compute(bytes, codec: .raw)
        let car = Self.car(f, replacing: f.repo.commitCID, with: nil, roots: [raw], extra: [(raw, bytes)])
        let error = #expect(throws: RepoError.self) { try Repository.verify(car: car, key: f.key.publicKey) }
        #expect(error?.code == .nonBlessedCID)
        #expect(throws: RepoError.self) { try Repository.open(car: car, key: f.key.publicKey) }
    }

    /// `verify(car:)` holds every block to atproto's rules, even one the tree
    /// does not use: a non-canonical block is refused by the first pass.
    @Test func verifyRefusesANonCanonicalBlockAnywhere() throws {
        let f = try Self.fixture()
        let float: [UInt8] = [0xA1, 0x61, 0x66, 0xFB, 0x3F, 0xF8, 0, 0, 0, 0, 0, 0]
        let car = Self.car(f, replacing: CID.compute([0]), with: nil, extra: [(CID.compute(float), float)])
        #expect(throws: Never.self) { try Repository.open(car: car, key: f.key.publicKey) }
        let error = #expect(throws: DataError.self) { try Repository.verify(car: car, key: f.key.publicKey) }
        #expect(error?.code == .floatNotAllowed && error?.blockIndex == f.blocks.count)
    }

    /// The walk gives every node and record once (the records in key order),
    /// and the commit it checked.
    @Test func walkVisitsEveryBlockOnce() throws {
        let f = try Self.fixture()
        var blocks = Set<CID>(), paths = [RepoPath]()
        let commit = try Repository.walkVerifying(
            commit: f.repo.commitCID, did: Self.did, store: CARBlockStore(car: f.car), key: f.key.publicKey,
            node: { cid, bytes in
                #expect(CID.compute(bytes, codec: cid.codec) == cid)
                #expect(blocks.insert(cid).inserted)
            },
            record: { key, cid, bytes in
                #expect(CID.compute(bytes, codec: cid.codec) == cid)
                #expect(blocks.insert(cid).inserted)
                paths.append(try RepoPath(key))
            })
        #expect(commit == f.repo.commit)
        #expect(paths == (try f.repo.recordCIDs().map(\.path)))
        #expect(paths == paths.sorted())
        // Every block of the CAR but the commit.
        #expect(blocks == Set(f.blocks.map(\.cid)).subtracting([f.repo.commitCID]))
    }

    @Test func walkRefusesAnotherAccountsCommit() throws {
        let f = try Self.fixture()
        let other = try DID("did:plc:other0000000000000000000")
        #expect { _ = try Repository.walkVerifying(
            commit: f.repo.commitCID, did: other, store: CARBlockStore(car: f.car), key: f.key.publicKey, node: { _, _ in }, record: { _, _, _ in })
        } throws: { ($0 as? RepoError)?.code == .didMismatch }
    }

    @Test func flippedBitInARecord() throws {
        let f = try Self.fixture()
        let (_, record) = try #require(try f.repo.recordCIDs().first)
        var bytes = try f.repo.store.require(record)
        bytes[bytes.count - 1] ^= 0x01
        Self.expectRepoError(.recordHashMismatch, Self.car(f, replacing: record, with: bytes), key: f.key.publicKey, scan: .cidMismatch)
    }

    @Test func flippedBitInANode() throws {
        let f = try Self.fixture()
        let node = try #require(f.repo.mst.nodes().last)
        var bytes = node.bytes
        bytes[bytes.count - 3] ^= 0x01
        Self.expectRepoError(.nodeHashMismatch, Self.car(f, replacing: node.cid, with: bytes), key: f.key.publicKey, scan: .cidMismatch)
    }

    @Test func missingBlock() throws {
        let f = try Self.fixture()
        let (_, record) = try #require(try f.repo.recordCIDs().last)
        Self.expectRepoError(.missingBlock, Self.car(f, replacing: record, with: nil), key: f.key.publicKey)
    }

    /// A repository whose tree is hash-consistent but malformed, re-signed, so
    /// that only the tree checks can catch it.
    static func resigned(_ f: Fixture, root: (CID, [UInt8])) throws -> [UInt8] {
        let commit = try Commit.sign(did: did, data: root.0, rev: TIDClock().next(), key: f.key)
        let bytes = commit.encoded()
        let cid = CID.compute(bytes, codec: .dagCBOR)
        return CARWriter.encode(roots: [cid], blocks: [(cid, bytes), root] + f.blocks.map { ($0.cid, Array($0.data)) })
    }

    /// A node with these keys in this order, prefix-compressed as the spec requires.
    static func node(_ keys: [String], value: CID) -> (CID, [UInt8]) {
        var previous = [UInt8]()
        let entries: [DataValue] = keys.map { text in
            let key = Array(text.utf8)
            let shared = MSTNode.commonPrefixLength(previous, key)
            previous = key
            return ["k": .bytes(Array(key[shared...])), "p": .int(Int64(shared)), "t": .null, "v": .link(value)]
        }
        return DAGCBOR.encodeWithCID(["e": .array(entries), "l": .null])
    }

    static func layerZeroKeys(_ n: Int) -> [String] {
        Array((0..<10_000).lazy.map { "app.bsky.feed.post/k\($0)" }.filter { MST.layer(of: $0) == 0 }.prefix(n))
    }

    @Test func wrongKeyOrder() throws {
        let f = try Self.fixture()
        let value = try #require(try f.repo.recordCIDs().first).cid
        // Two layer-0 keys in the wrong order.
        let keys = Array(Self.layerZeroKeys(2).sorted().reversed())
        Self.expectRepoError(.keyOrder, try Self.resigned(f, root: Self.node(keys, value: value)), key: f.key.publicKey)
    }

    @Test func keyAtTheWrongLayer() throws {
        let f = try Self.fixture()
        let value = try #require(try f.repo.recordCIDs().first).cid
        // A layer-0 key and a key of a higher layer side by side.
        let low = Self.layerZeroKeys(1)[0]
        let high = (0..<10_000).lazy.map { "app.bsky.feed.post/h\($0)" }.first { MST.layer(of: $0) > 0 }!
        Self.expectRepoError(.wrongLayer, try Self.resigned(f, root: Self.node([low, high].sorted(), value: value)), key: f.key.publicKey)
    }

    @Test func badSignature() throws {
        let f = try Self.fixture()
        var commit = f.repo.commit
        commit.sig[7] ^= 0x01
        let bytes = commit.encoded()
        let cid = CID.compute(bytes, codec: .dagCBOR)
        let car = Self.car(f, replacing: f.repo.commitCID, with: nil, roots: [cid], extra: [(cid, bytes)])
        Self.expectCryptoError(.badSignature, car, key: f.key.publicKey)
    }

    @Test func highSSignature() throws {
        let f = try Self.fixture()
        var commit = f.repo.commit
        commit.sig = HighS.twin(of: commit.sig, order: HighS.k256Order)
        let bytes = commit.encoded()
        let cid = CID.compute(bytes, codec: .dagCBOR)
        let car = Self.car(f, replacing: f.repo.commitCID, with: nil, roots: [cid], extra: [(cid, bytes)])
        Self.expectCryptoError(.highS, car, key: f.key.publicKey)
    }
}

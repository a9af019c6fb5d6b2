import ATCrypto
import ATData
import ATRepo
import ATSyntax
import Foundation
import Testing

@Suite("Commit")
struct CommitTests {
    static let did = try! DID("did:plc:commit00000000000000000")
    static let data = CID.compute(Array("mst root".utf8))

    @Test(arguments: Curve.allCases)
    func signsVerifiesAndRoundTrips(_ curve: Curve) throws {
        let key = try Keys.generate(curve)
        let rev = TIDClock().next()
        let commit = try Commit.sign(did: Self.did, data: Self.data, rev: rev, key: key)
        #expect(commit.version == 3)
        try commit.verify(with: key.publicKey)
        let decoded = try Commit(decoding: commit.encoded())
        #expect(decoded == commit)
        #expect(decoded.cid == commit.cid)
        // The block is canonical DAG-CBOR with prev present as null.
        let value = try DAGCBOR.decode(commit.encoded())
        #expect(value.mapValue?.keys == ["did", "rev", "sig", "data", "prev", "version"])
        #expect(value["prev"] == .null)
        #expect(DAGCBOR.encode(value) == commit.encoded())
    }

    @Test func tamperingBreaksTheSignature() throws {
        let key = try Keys.generate(.k256)
        let commit = try Commit.sign(did: Self.did, data: Self.data, rev: TIDClock().next(), key: key)
        var moved = commit
        moved.data = CID.compute(Array("another root".utf8))
        #expect(throws: CryptoError.self) { try moved.verify(with: key.publicKey) }
        var flipped = commit
        flipped.sig[10] ^= 1
        #expect(throws: CryptoError.self) { try flipped.verify(with: key.publicKey) }
        let other = try Keys.generate(.k256)
        #expect(throws: CryptoError.self) { try commit.verify(with: other.publicKey) }
    }

    @Test func readsVersion2() throws {
        let v2: DataValue = ["did": .string(Self.did.description), "version": 2, "data": .link(Self.data), "prev": .null, "sig": .bytes([1, 2, 3])]
        let commit = try Commit(decoding: DAGCBOR.encode(v2))
        #expect(commit.version == 2)
        #expect(commit.rev == nil)
        #expect(commit.encoded() == DAGCBOR.encode(v2))
        var bare = v2.mapValue!
        bare["prev"] = nil
        #expect(try Commit(decoding: DAGCBOR.encode(.map(bare))).encoded() == DAGCBOR.encode(.map(bare)))
    }

    @Test func rejectsMalformedCommits() {
        let good: [String: DataValue] = [
            "did": .string(Self.did.description), "version": 3, "data": .link(Self.data),
            "rev": "3jzfcijpj2z2a", "prev": .null, "sig": .bytes([1]),
        ]
        for (field, bad) in [("did", DataValue.string("nope")), ("version", 4), ("data", "x"), ("rev", "nope"), ("sig", "x"), ("prev", 5)] {
            var map = good
            map[field] = bad
            #expect(throws: RepoError.self, "\(field)") { try Commit(decoding: DAGCBOR.encode(.map(DataMap(map)))) }
        }
        var missingPrev = good
        missingPrev["prev"] = nil
        #expect(throws: RepoError.self) { try Commit(decoding: DAGCBOR.encode(.map(DataMap(missingPrev)))) }
        var raw = good
        raw["data"] = .link(CID.compute([1], codec: .raw))
        #expect(throws: RepoError.self) { try Commit(decoding: DAGCBOR.encode(.map(DataMap(raw)))) }
    }
}

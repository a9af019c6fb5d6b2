import ATCrypto
import ATData
import ATRepo
import ATSyntax
import Testing

@Suite("Commit proofs")
struct CommitProofTests {
    @Test func theRootOfADiffVerifiesWithItsKeyOnly() throws {
        let did = try DID("did:plc:proofproofproofproofproo")
        let key = try Keys.generate(.k256)
        let store = MemoryBlockStore()
        let clock = TIDClock()
        let first = try Repository.create(did: did, key: key, rev: clock.next(), store: store)
        let since = try #require(first.commit.rev)
        let post = try NSID("app.bsky.feed.post")
        let path = RepoPath(collection: post, recordKey: try RecordKey("3jzfcijpj2z2a"))
        let (next, _) = try first.applying([.create(path, ["text": "x"])], key: key, rev: clock.next(), store: store)
        let diff = try next.exportCAR(since: since, store: store)
        let commit = try CommitProof.verifyRoot(car: diff, repo: did, key: key.publicKey)
        #expect(commit.rev == next.commit.rev)
        #expect(throws: CryptoError.self) { try CommitProof.verifyRoot(car: diff, repo: did, key: try Keys.generate(.k256).publicKey) }
        #expect(throws: RepoError.self) { try CommitProof.verifyRoot(car: diff, repo: try DID("did:plc:someoneelse"), key: key.publicKey) }
    }
}

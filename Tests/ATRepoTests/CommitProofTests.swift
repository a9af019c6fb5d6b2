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

    /// A mirror that follows commits with `verifiedChange` alone (storing its
    /// new blocks, dropping its removed ones unless a path still holds them)
    /// ends up with exactly the blocks of the real repository, commit after
    /// commit, through creates, updates, deletes and records shared by paths.
    @Test func aMirrorFollowsCommitsFromTheirSlicesAlone() throws {
        let did = try DID("did:plc:mirrormirrormirrormirror")
        let key = try Keys.generate(.p256)
        let store = MemoryBlockStore()
        let clock = TIDClock()
        let post = try NSID("app.bsky.feed.post")
        var repo = try Repository.create(did: did, key: key, rev: clock.next(), store: store)
        var mirror = Set(try repo.exportBlocks(store: store))
        var rng = SystemRandomNumberGenerator()
        var live = [RepoPath]()
        for round in 0..<40 {
            var writes = [RecordWrite](), touched = Set<RepoPath>()
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                if !live.isEmpty, Bool.random(using: &rng), let path = live.randomElement(using: &rng), touched.insert(path).inserted {
                    if Bool.random(using: &rng) {
                        writes.append(.delete(path))
                        live.removeAll { $0 == path }
                    } else {
                        writes.append(.update(path, ["text": .string("same \(Int.random(in: 0..<3, using: &rng))")]))
                    }
                } else {
                    let path = RepoPath(collection: post, recordKey: try RecordKey(clock.next().description))
                    touched.insert(path)
                    writes.append(.create(path, ["text": .string("same \(Int.random(in: 0..<3, using: &rng))")]))
                    live.append(path)
                }
            }
            let prevData = repo.mst.rootCID, prevCommit = repo.commitCID
            let (next, result) = try repo.applying(writes, key: key, rev: clock.next(), store: store)
            let slice = try CommitProof.blocks(root: next.mst.rootCID, ops: result.ops, newBlocks: result.newBlocks, from: store)
            let car = CARWriter<[UInt8]>.encode(roots: [result.commitCID], blocks: slice.map { ($0.cid, $0.bytes) })
            let change = try CommitProof.verifiedChange(
                car: car, commit: result.commitCID, repo: did, rev: next.commit.rev, ops: result.ops, prevData: prevData, key: key.publicKey)
            #expect(change.prevData == prevData && change.data == next.mst.rootCID)
            let held = Set(try next.recordCIDs().map(\.cid))
            let written = Set(change.newBlocks.map(\.cid))
            for cid in change.removed + [prevCommit] where !held.contains(cid) && !written.contains(cid) { mirror.remove(cid) }
            mirror.formUnion(written)
            #expect(mirror == Set(try next.exportBlocks(store: store)), "round \(round)")
            repo = next
        }
    }
}

extension Repository {
    /// The CIDs of every block of the repository: commit, nodes and records.
    func exportBlocks(store: some BlockStore) throws -> [CID] {
        [commitCID] + mst.nodes().map(\.cid) + (try recordCIDs().map(\.cid))
    }
}

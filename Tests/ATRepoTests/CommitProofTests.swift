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

/// A block store that counts its reads, over another.
final class CountingStore: BlockStore, @unchecked Sendable {
    let base: MemoryBlockStore
    var reads = 0
    init(_ base: MemoryBlockStore) { self.base = base }
    func get(_ cid: CID) throws -> [UInt8]? {
        reads += 1
        return base.get(cid)
    }
    func put(_ cid: CID, _ bytes: [UInt8]) throws { base.put(cid, bytes) }
}

extension CommitProofTests {
    /// A writer's slice, found by walking the new tree in memory, lets a
    /// consumer undo every single-op commit back to the previous root, reads
    /// no block from the store, and holds every block that loading the slice
    /// again and again would have fetched: for trees of 0 to 600 keys, with
    /// random keys (every layer) and ordered TIDs (one long right edge), and
    /// creates, updates and deletes anywhere in them. Multi-op commits go
    /// through the check and come out complete too.
    @Test(arguments: [false, true])
    func aSliceFromTheTreeInMemoryUndoesEveryCommit(orderedKeys: Bool) throws {
        let did = try DID("did:plc:sliceslicesliceslicesli")
        let key = try Keys.generate(.k256)
        let post = try NSID("app.bsky.feed.post")
        var rng = SystemRandomNumberGenerator()
        let clock = TIDClock()
        var checked = 0
        for size in [0, 1, 3, 20, 150, 600] {
            let store = MemoryBlockStore()
            func newPath() throws -> RepoPath {
                let rkey = orderedKeys ? clock.next().description : String((0..<10).map { _ in "abcdefghijklmnopqrstuvwxyz234567".randomElement(using: &rng)! })
                return RepoPath(collection: post, recordKey: try RecordKey(rkey))
            }
            var live = try (0..<size).map { _ in try newPath() }
            var repo = try Repository.create(did: did, key: key, rev: clock.next(), store: store)
            if !live.isEmpty {
                repo = try repo.applying(live.map { .create($0, ["text": "x"]) }, key: key, rev: clock.next(), store: store).0
            }
            for round in 0..<24 {
                var writes = [RecordWrite]()
                let count = round % 6 == 5 ? Int.random(in: 2...5, using: &rng) : 1
                var touched = Set<RepoPath>()
                while writes.count < count {
                    let choice = live.isEmpty ? 0 : Int.random(in: 0..<3, using: &rng)
                    if choice == 0 {
                        let path = try newPath()
                        guard touched.insert(path).inserted else { continue }
                        writes.append(.create(path, ["text": .string("new \(round)")]))
                        live.append(path)
                    } else if let path = live.randomElement(using: &rng), touched.insert(path).inserted {
                        if choice == 1 {
                            writes.append(.update(path, ["text": .string("changed \(round)")]))
                        } else {
                            writes.append(.delete(path))
                            live.removeAll { $0 == path }
                        }
                    } else if touched.count >= live.count {
                        break
                    }
                }
                guard !writes.isEmpty else { continue }
                let prevData = repo.mst.rootCID
                let (next, result) = try repo.applying(writes, key: key, rev: clock.next(), store: store)
                let counting = CountingStore(store)
                let fast = try CommitProof.blocks(tree: next.mst, ops: result.ops, newBlocks: result.newBlocks, from: counting)
                if result.ops.count == 1 { #expect(counting.reads == 0) }
                let exact = try CommitProof.blocks(root: next.mst.rootCID, ops: result.ops, newBlocks: result.newBlocks, from: store)
                #expect(Set(fast.map(\.cid)).isSuperset(of: exact.map(\.cid)), "size \(size), round \(round), \(result.ops.count) ops")
                let slice = MemoryBlockStore(Dictionary(fast.map { ($0.cid, $0.bytes) }, uniquingKeysWith: { a, _ in a }))
                #expect(try MST.loadPartial(root: next.mst.rootCID, from: slice).inverting(result.ops).rootCID == prevData)
                repo = next
                checked += 1
            }
        }
        #expect(checked > 100)
    }
}

extension Repository {
    /// The CIDs of every block of the repository: commit, nodes and records.
    func exportBlocks(store: some BlockStore) throws -> [CID] {
        [commitCID] + mst.nodes().map(\.cid) + (try recordCIDs().map(\.cid))
    }
}

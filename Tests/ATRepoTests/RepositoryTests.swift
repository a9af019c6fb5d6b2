import ATCrypto
import ATData
import ATRepo
import ATSyntax
import Foundation
import Testing

@Suite("Repository")
struct RepositoryTests {
    static let did = try! DID("did:plc:repo000000000000000000000")

    static func post(_ i: Int) -> DataValue {
        ["$type": "app.bsky.feed.post", "text": .string("post \(i)"), "createdAt": "2024-01-01T00:00:00.000Z"]
    }

    static func path(_ collection: String, _ rkey: String) -> RepoPath {
        RepoPath(collection: try! NSID(collection), recordKey: try! RecordKey(rkey))
    }

    @Test(arguments: Curve.allCases)
    func writesExportAndReopen(_ curve: Curve) throws {
        let key = try Keys.generate(curve)
        let clock = TIDClock()
        let store = MemoryBlockStore()
        var repo = try Repository.create(did: Self.did, key: key, rev: clock.next(), store: store)
        let writes = (0..<100).map { RecordWrite.create(Self.path("app.bsky.feed.post", "p\($0)"), Self.post($0)) }
        let (next, result) = try repo.applying(writes, key: key, rev: clock.next(), store: store)
        repo = next
        #expect(result.ops.count == 100)
        #expect(result.ops.allSatisfy { $0.action == .create && $0.prev == nil })
        let reopened = try Repository.open(car: try repo.exportCAR(), key: key.publicKey)
        #expect(reopened.commitCID == repo.commitCID)
        #expect(try reopened.recordCIDs().count == 100)
        #expect(try reopened.record(Self.path("app.bsky.feed.post", "p7")) == Self.post(7))

        // Update one, delete one: the ops say what changed and from what.
        let (after, second) = try repo.applying(
            [.update(Self.path("app.bsky.feed.post", "p1"), Self.post(1001)), .delete(Self.path("app.bsky.feed.post", "p2"))],
            key: key, rev: clock.next(), store: store)
        #expect(second.ops.map(\.action) == [.update, .delete])
        #expect(second.ops.allSatisfy { $0.prev != nil })
        #expect(second.prevData == repo.commit.data)
        #expect(try after.record(Self.path("app.bsky.feed.post", "p2")) == nil)
        #expect(try after.record(Self.path("app.bsky.feed.post", "p1")) == Self.post(1001))

        // Inverting the ops on the new tree gives prevData.
        var inverted = after.mst
        for op in second.ops.reversed() {
            if let prev = op.prev { inverted = try inverted.inserting(op.path.key, prev) } else { inverted = try inverted.removing(op.path.key) }
        }
        #expect(inverted.rootCID == second.prevData)
    }

    @Test func sinceExportCarriesOnlyTheNewBlocks() throws {
        let key = try Keys.generate(.k256)
        let clock = TIDClock()
        let store = MemoryBlockStore()
        let first = try Repository.create(did: Self.did, key: key, rev: clock.next(), store: store)
        let (one, _) = try first.applying((0..<50).map { .create(Self.path("app.bsky.feed.like", "l\($0)"), Self.post($0)) },
                                          key: key, rev: clock.next(), store: store)
        let mirror = try one.exportCAR()
        let (two, result) = try one.applying([.create(Self.path("app.bsky.feed.like", "new"), Self.post(999)),
                                              .delete(Self.path("app.bsky.feed.like", "l3"))],
                                             key: key, rev: clock.next(), store: store)
        let diff = try two.exportCAR(since: try #require(one.commit.rev), store: store)
        let diffBlocks = try CARReader(diff).blockMap()
        #expect(try CARReader(diff).header.roots == [two.commitCID])
        #expect(Set(diffBlocks.keys) == Set(result.newBlocks.map(\.cid)))
        #expect(diffBlocks.count < 10)
        // The old mirror plus the diff is the whole new repository.
        var combined = try CARReader(mirror).blockMap()
        for (cid, bytes) in diffBlocks { combined[cid] = bytes }
        let merged = MemoryBlockStore(combined.mapValues(Array.init))
        let reopened = try Repository.open(commit: two.commitCID, store: merged, key: key.publicKey)
        #expect(try reopened.recordCIDs().count == 50)
    }

    @Test func opensFromAStreamAndDecodesTypedRecords() async throws {
        struct Post: Decodable, Equatable { let text: String; let createdAt: String }
        let key = try Keys.generate(.p256)
        let repo = try Repository.build(did: Self.did, key: key, rev: TIDClock().next(),
                                        records: (0..<40).map { (Self.path("app.bsky.feed.post", "p\($0)"), Self.post($0)) })
        let car = try repo.exportCAR()
        let chunks = stride(from: 0, to: car.count, by: 100).map { car[$0..<min($0 + 100, car.count)] }
        let opened = try await Repository.open(stream: AsyncChunkSequence(chunks: chunks), key: key.publicKey)
        #expect(opened.commitCID == repo.commitCID)
        #expect(try opened.record(Self.path("app.bsky.feed.post", "p3"), as: Post.self) == Post(text: "post 3", createdAt: "2024-01-01T00:00:00.000Z"))
        #expect(try opened.record(Self.path("app.bsky.feed.post", "none"), as: Post.self) == nil)
    }

    @Test func writesAreChecked() throws {
        let key = try Keys.generate(.p256)
        let clock = TIDClock()
        let store = MemoryBlockStore()
        let rev = clock.next()
        let repo = try Repository.create(did: Self.did, key: key, rev: rev, store: store)
        let p = Self.path("app.bsky.feed.post", "x")
        #expect(throws: RepoError.self) { try repo.applying([.update(p, Self.post(0))], key: key, rev: clock.next(), store: store) }
        #expect(throws: RepoError.self) { try repo.applying([.delete(p)], key: key, rev: clock.next(), store: store) }
        #expect(throws: RepoError.self) { try repo.applying([.create(p, Self.post(0)), .create(p, Self.post(1))], key: key, rev: clock.next(), store: store) }
        #expect(throws: RepoError.self) { try repo.applying([.create(p, Self.post(0))], key: key, rev: rev, store: store) }
    }
}

/// Chunks as an async sequence, like an HTTP body.
struct AsyncChunkSequence: AsyncSequence, Sendable {
    let chunks: [ArraySlice<UInt8>]
    struct Iterator: AsyncIteratorProtocol {
        var rest: ArraySlice<ArraySlice<UInt8>>
        mutating func next() async -> ArraySlice<UInt8>? { rest.popFirst() }
    }
    func makeAsyncIterator() -> Iterator { Iterator(rest: chunks[...]) }
}

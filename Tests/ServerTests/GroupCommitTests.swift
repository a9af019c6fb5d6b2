import ATCrypto
import ATData
import ATRepo
import ATSyntax
import Foundation
import HummingbirdTesting
@testable import Server
import Synchronization
import Testing

/// Group commit: commits written together in one transaction, each checked
/// against the root the commits before it left, and each request answered
/// once its commit is durable.
@Suite("Group commit")
struct GroupCommitTests: InProcessPDS {
    func store() throws -> SQLiteStore {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("group-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return try SQLiteStore(path: dir.appendingPathComponent("db.sqlite").path)
    }

    func commit(_ did: DID, _ name: String, rev: UInt64, previous: CID?) -> StoredCommit {
        let block = DAGCBOR.encodeWithCID(["commit": .string(name)])
        return StoredCommit(
            did: did, commit: block.cid, rev: TID(microseconds: 1_700_000_000_000_000 + rev, clockID: 0), newBlocks: [block], removed: [],
            records: [], blobs: [], event: { seq in Array("\(name)@\(seq)".utf8) }, previous: previous)
    }

    /// Posts "post `i`" as `account`, expecting 200; returns the answer.
    func createPost(_ client: some TestClientProtocol, _ account: (did: String, auth: String), _ i: Int) async throws -> DataValue? {
        let (status, body) = try await post(
            client, "com.atproto.repo.createRecord",
            ["repo": .string(account.did), "collection": "app.bsky.feed.post",
             "record": ["$type": "app.bsky.feed.post", "text": .string("post \(i)"), "createdAt": "2026-01-01T00:00:00.000Z"]],
            auth: account.auth)
        #expect(status == 200, "write \(i): \(String(describing: body))")
        return body
    }

    @Test func aStaleCommitIsRefusedAloneAndTheRestAreWritten() async throws {
        let db = try store()
        let alice = try DID("did:plc:groupcommitalice00000000"), bob = try DID("did:plc:groupcommitbob0000000000")
        let a1 = commit(alice, "a1", rev: 1, previous: nil)
        let a2 = commit(alice, "a2", rev: 2, previous: a1.commit)
        let stale = commit(alice, "stale", rev: 3, previous: a1.commit)  // built on a1, but a2 came first
        let a3 = commit(alice, "a3", rev: 4, previous: a2.commit)
        let b1 = commit(bob, "b1", rev: 1, previous: nil)
        let results = try db.apply(group: [a1, b1, a2, stale, a3])
        let outcomes = results.map { result -> String in
            switch result {
            case .success(let event): return event.map { String(decoding: $0.frame, as: UTF8.self) } ?? "no event"
            case .failure(let error): return "\(error.code)"
            }
        }
        // Sequence numbers follow the written commits, with no gap for the refused one.
        #expect(outcomes == ["a1@1", "b1@2", "a2@3", "conflict", "a3@4"])
        #expect(try db.root(of: alice)?.commit == a3.commit)
        #expect(try db.root(of: bob)?.commit == b1.commit)
        #expect(try db.blocks(of: alice).get(stale.commit) == nil)
        // A later group sees the stored root: a3 is what the next commit must follow.
        let late = try db.apply(group: [commit(alice, "late", rev: 5, previous: a2.commit), commit(alice, "a4", rev: 6, previous: a3.commit)])
        #expect(late.map { (try? $0.get()) != nil } == [false, true])
        #expect(try await db.eventBounds()?.latest == 5)
    }

    /// A writer whose head is not the stored root (another writer of the
    /// same repository went first) has its commit refused, not written over
    /// the other's, with `Stale` (which `PDS.write` answers by trying again);
    /// it then reloads what is stored and writes on top of it.
    @Test func aWriterBehindTheStoreIsRefusedThenCatchesUp() async throws {
        let db = try store()
        let did = try DID("did:plc:groupcommitwriter00000000"), key = try K256PrivateKey()
        let queue = CommitQueue(store: db)
        let first = try RepoWriter.create(did: did, key: key, store: db, commits: queue)
        let second = try RepoWriter(did: did, key: key, store: db, commits: queue)
        func post(_ rkey: String) throws -> WriteOp {
            WriteOp(action: .create, collection: try NSID("app.bsky.feed.post"), rkey: try RecordKey(rkey), record: ["text": .string(rkey)])
        }
        let ahead = try await first.apply([try post("one")], swapCommit: nil)
        let stale = await #expect(throws: RepoWriter.Stale.self) { _ = try await second.apply([try post("two")], swapCommit: nil) }
        #expect(stale?.refusal.code == .conflict)
        #expect(try db.root(of: did)?.commit == ahead.commit)
        let after = try await second.apply([try post("three")], swapCommit: nil)
        #expect(try db.root(of: did)?.commit == after.commit)
        let repo = try Repository.open(commit: after.commit, store: db.blocks(of: did), key: key.publicKey)
        #expect(try repo.recordCIDs().map(\.path.recordKey.description) == ["one", "three"])
    }

    /// Past its capacity the cache retires the least recently used idle
    /// writer; a write that reaches a retired writer is refused with
    /// `Retired`, so that it is sent to a fresh one.
    @Test func theWriterCacheRetiresTheLeastRecentlyUsed() async throws {
        let db = try store()
        let key = try K256PrivateKey(), queue = CommitQueue(store: db)
        let cache = WriterCache(capacity: 2)
        var writers = [RepoWriter]()
        for i in 0..<3 {
            let did = try DID("did:plc:writercache\(i)00000000000000")
            writers.append(try RepoWriter.create(did: did, key: key, store: db, commits: queue))
        }
        cache.insert(writers[0])
        cache.insert(writers[1])
        #expect(cache.writer(for: writers[0].did) === writers[0])  // 0 is now the most recent
        cache.insert(writers[2])
        #expect(cache.count == 2)
        #expect(writers[1].isRetired && !writers[0].isRetired && !writers[2].isRetired)
        #expect(cache.writer(for: writers[1].did) == nil)
        let op = WriteOp(action: .create, collection: try NSID("app.bsky.feed.post"), rkey: try RecordKey("late"), record: ["text": "x"])
        await #expect(throws: RepoWriter.Retired.self) { _ = try await writers[1].apply([op], swapCommit: nil) }
        // Its replacement writes where it left off.
        let fresh = cache.insert(try RepoWriter(did: writers[1].did, key: key, store: db, commits: queue))
        #expect(try await fresh.apply([op], swapCommit: nil).results.count == 1)
    }

    /// With room for one writer, concurrent writes to five accounts keep
    /// retiring and reloading writers; every write succeeds, once.
    @Test func writesSurviveACacheOfOne() async throws {
        let (app, _) = try await app { $0.writerCacheSize = 1 }
        try await app.test(.router) { client in
            var accounts = [(did: String, auth: String)]()
            for i in 0..<5 { accounts.append(try await newAccount(client, "cache\(i).test")) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<40 {
                    let account = accounts[i % 5]
                    group.addTask { _ = try await createPost(client, account, i) }
                }
                try await group.waitForAll()
            }
            for account in accounts {
                let car = try await client.execute(uri: "/xrpc/com.atproto.sync.getRepo?did=\(account.did)", method: .get) { Array(buffer: $0.body) }
                #expect(try Repository.open(car: car).recordCIDs().count == 8)
            }
        }
    }

    /// `sync.getRecord` of an account whose writer the cache retired reads
    /// the path to the record from the store, not the whole tree into a new
    /// writer: the proof holds the commit, the nodes down to the key and the
    /// record, and a missing record is proved absent the same way.
    @Test func getRecordWithoutAWriterReadsOnlyThePath() async throws {
        let (app, _) = try await app { $0.writerCacheSize = 1 }
        try await app.test(.router) { client in
            let alice = try await newAccount(client, "pathalice.test"), bob = try await newAccount(client, "pathbob.test")
            var written = [(rkey: String, cid: CID)]()
            for i in 0..<60 {
                let body = try #require(try await createPost(client, alice, i))
                let uri = try ATURI(try #require(body["uri"]?.stringValue))
                written.append((uri.recordKey!.description, try CID(try #require(body["cid"]?.stringValue))))
            }
            _ = try await createPost(client, bob, 0)  // alice's writer is retired
            let latest = try await client.execute(uri: "/xrpc/com.atproto.sync.getLatestCommit?did=\(alice.did)", method: .get) {
                try DataValue(json: Data(buffer: $0.body))
            }
            for (rkey, cid) in [written[7], written[59], ("nosuchrecord", nil as CID?)] as [(String, CID?)] {
                let car = try await client.execute(
                    uri: "/xrpc/com.atproto.sync.getRecord?did=\(alice.did)&collection=app.bsky.feed.post&rkey=\(rkey)", method: .get
                ) { Array(buffer: $0.body) }
                let store = try CARBlockStore(car: car, options: CAROptions(verifyBlocks: true))
                let root = try #require(store.header.roots.first)
                #expect(root.description == latest["cid"]?.stringValue)
                let mst = try MST.loadPartial(root: try Commit(decoding: try store.require(root)).data, from: store)
                let key = Array("app.bsky.feed.post/\(rkey)".utf8)
                #expect(try mst.get(key) == cid)
                #expect(try mst.proof(for: key).count + (cid == nil ? 1 : 2) == store.sections)
                #expect(store.sections < 30)
            }
        }
    }

    /// Many concurrent writes to one account and to a second: every one is
    /// answered with its own commit, the commits chain one after another in
    /// the order of their revisions, and the repository holds every record
    /// and verifies.
    @Test func concurrentWritesEachGetTheirOwnDurableCommit() async throws {
        let (app, _) = try await app()
        try await app.test(.router) { client in
            let alice = try await newAccount(client, "alice.test"), bob = try await newAccount(client, "bob.test")
            let writes = (0..<48).map { i in i % 3 == 2 ? (bob, i) : (alice, i) }
            let answers = try await withThrowingTaskGroup(of: (String, Int, DataValue?).self) { group in
                for (account, i) in writes {
                    group.addTask { (account.did, i, try await createPost(client, account, i)) }
                }
                return try await group.reduce(into: [(String, Int, DataValue?)]()) { $0.append($1) }
            }
            for account in [alice, bob] {
                let mine = answers.filter { $0.0 == account.did }
                let revs = mine.compactMap { $0.2?["commit"]?["rev"]?.stringValue }
                let commits = Set(mine.compactMap { $0.2?["commit"]?["cid"]?.stringValue })
                #expect(revs.count == mine.count && Set(revs).count == mine.count && commits.count == mine.count)
                // The latest commit is the answer with the highest rev.
                let (status, latest) = try await get(client, "/xrpc/com.atproto.sync.getLatestCommit?did=\(account.did)")
                #expect(status == 200 && latest?["rev"]?.stringValue == revs.max())
                // The stored repository holds every record and verifies (hashes, tree, signature's shape).
                let car = try await client.execute(uri: "/xrpc/com.atproto.sync.getRepo?did=\(account.did)", method: .get) { Array(buffer: $0.body) }
                let repo = try Repository.open(car: car)
                #expect(try repo.recordCIDs().count == mine.count)
                #expect(repo.commit.rev?.description == revs.max())
            }
        }
    }
}

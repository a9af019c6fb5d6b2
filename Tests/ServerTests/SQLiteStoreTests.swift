import ATData
import ATRepo
import ATSyntax
import Foundation
import GRDB
@testable import Server
import Testing

@Suite("SQLite storage")
struct SQLiteStoreTests {
    let did = try! DID("did:plc:storagetest0000000000000")

    func store() throws -> SQLiteStore {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return try SQLiteStore(path: dir.appendingPathComponent("db.sqlite").path)
    }

    func block(_ text: String) -> (cid: CID, bytes: [UInt8]) {
        DAGCBOR.encodeWithCID(["t": .string(text)])
    }

    @Test func theSchemaIsVersioned() throws {
        let db = try store()
        #expect(try db.appliedMigrations() == ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12"])
        #expect(try db.appliedMigrations().last == SQLiteStore.schemaVersion)
    }

    /// The writer syncs as asked: FULL syncs the log at every commit.
    /// (GRDB sets NORMAL when it turns WAL on, after `prepareDatabase`.)
    @Test(arguments: [("FULL", 2), ("NORMAL", 1)])
    func theWriterSyncsAsAsked(mode: String, level: Int) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let db = try SQLiteStore(path: dir.appendingPathComponent("db.sqlite").path, synchronous: mode)
        #expect(try db.write { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == level)
    }

    @Test func commitsReplaceBlocksButKeepSharedRecords() async throws {
        let db = try store()
        let (a, b, commit1, commit2) = (block("a"), block("b"), block("c1"), block("c2"))
        let rev1 = try TID("3jzfcijpj2z2a"), rev2 = try TID("3jzfcijpj2z2b")
        // Two paths hold the same record (one block).
        try db.apply(StoredCommit(
            did: did, commit: commit1.cid, rev: rev1, newBlocks: [a, commit1], removed: [],
            records: [("x.y.z", "one", a.cid), ("x.y.z", "two", a.cid)], blobs: []))
        #expect(try db.root(of: did) == RepoRoot(did: did, commit: commit1.cid, rev: rev1))
        // Deleting one path lists the record as removed; the other path still needs the block.
        try db.apply(StoredCommit(
            did: did, commit: commit2.cid, rev: rev2, newBlocks: [b, commit2], removed: [a.cid, commit1.cid],
            records: [("x.y.z", "one", nil), ("x.y.z", "three", b.cid)], blobs: []))
        let blocks = db.blocks(of: did)
        #expect(try blocks.get(a.cid) == a.bytes)
        #expect(try blocks.get(commit1.cid) == nil)
        #expect(try db.records(of: did, collection: "x.y.z", limit: 10, cursor: nil, reverse: false).map(\.rkey) == ["three", "two"])
        #expect(try db.records(of: did, collection: "x.y.z", limit: 10, cursor: "three", reverse: false).map(\.rkey) == ["two"])
        #expect(try db.records(of: did, collection: "x.y.z", limit: 1, cursor: nil, reverse: true).map(\.rkey) == ["two"])

        // A snapshot sees exactly the blocks written after a revision.
        let snapshot = try #require(try db.snapshot(of: did))
        var framed = [UInt8]()
        try await snapshot.forEachSectionChunk(since: rev1, batchSize: 1, maxBytes: 1 << 20) { framed += $0 }
        let since = try CARReader(CARWriter<[UInt8]>.encode(roots: [], blocks: []) + framed).blocks().map(\.cid)
        #expect(Set(since) == [b.cid, commit2.cid])
        var all = [UInt8]()
        try await snapshot.forEachSectionChunk(since: nil, batchSize: 2, maxBytes: 1 << 20) { all += $0 }
        #expect(Set(try CARReader(CARWriter<[UInt8]>.encode(roots: [], blocks: []) + all).blocks().map(\.cid)) == [a.cid, b.cid, commit2.cid])
        // H5: a batch also ends at its byte limit; every block still comes, once.
        var chunks = [[UInt8]]()
        try await snapshot.forEachSectionChunk(since: nil, batchSize: 100, maxBytes: 1) { chunks.append($0) }
        #expect(chunks.count == 3)
        let cids = try CARReader(CARWriter<[UInt8]>.encode(roots: [], blocks: []) + chunks.flatMap { $0 }).blocks().map(\.cid)
        #expect(cids.count == 3 && Set(cids) == [a.cid, b.cid, commit2.cid])
    }

    /// v10 moves blocks from a table keyed by (DID, CID) to one appended in
    /// order under a number per repository: a database written before it
    /// keeps every block, each repository's own, and takes commits after it.
    @Test func blocksMoveToTheAppendedTable() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("db.sqlite").path
        let other = try DID("did:plc:storagetestother0000000000")
        let (a, b, c, commit1) = (block("a"), block("b"), block("c"), block("c1"))
        let rev1 = try TID("3jzfcijpj2z2a"), rev2 = try TID("3jzfcijpj2z2b")
        do {
            let queue = try DatabaseQueue(path: path)
            try SQLiteStore.migrator.migrate(queue, upTo: "v9")
            try await queue.write { db in
                for (owner, block) in [(did, a), (did, commit1), (other, b), (other, a)] {
                    try db.execute(
                        sql: "INSERT INTO block (did, cid, rev, bytes) VALUES (?, ?, ?, ?)",
                        arguments: [owner.description, Data(block.cid.bytes), rev1.description, Data(block.bytes)])
                }
                try db.execute(
                    sql: "INSERT INTO repo_root (did, commit_cid, rev) VALUES (?, ?, ?)",
                    arguments: [did.description, Data(commit1.cid.bytes), rev1.description])
            }
        }
        let db = try SQLiteStore(path: path)
        #expect(try db.appliedMigrations().suffix(3) == ["v10", "v11", "v12"])
        #expect(try db.blocks(of: did).get(a.cid) == a.bytes)
        #expect(try db.blocks(of: did).get(b.cid) == nil)
        #expect(try db.blocks(of: other).get(b.cid) == b.bytes)
        #expect(try db.counts(of: did).blocks == 2 && db.counts(of: other).blocks == 2)
        let commit2 = block("c2")
        try db.apply(StoredCommit(
            did: did, commit: commit2.cid, rev: rev2, newBlocks: [c, commit2], removed: [commit1.cid], records: [], blobs: [],
            previous: commit1.cid))
        let snapshot = try #require(try db.snapshot(of: did))
        var all = [UInt8]()
        try await snapshot.forEachSectionChunk(since: nil, batchSize: 1, maxBytes: 1 << 20) { all += $0 }
        #expect(Set(try CARReader(CARWriter<[UInt8]>.encode(roots: [], blocks: []) + all).blocks().map(\.cid)) == [a.cid, c.cid, commit2.cid])
        // Deleting one repository leaves the other's blocks, though they share one.
        try db.deleteRepo(of: did)
        #expect(try db.blocks(of: did).get(a.cid) == nil)
        #expect(try db.blocks(of: other).get(a.cid) == a.bytes)
    }

    /// The blocks a snapshot gives after `since`, in the order it gives them.
    func diff(_ db: SQLiteStore, since: TID?, batchSize: Int = 1) async throws -> [CID] {
        let snapshot = try #require(try db.snapshot(of: did))
        defer { snapshot.close() }
        var framed = [UInt8]()
        try await snapshot.forEachSectionChunk(since: since, batchSize: batchSize, maxBytes: 1 << 20) { framed += $0 }
        return try CARReader(CARWriter<[UInt8]>.encode(roots: [], blocks: []) + framed).blocks().map(\.cid)
    }

    /// A `since` diff has exactly the blocks last written after `since`,
    /// including one written again by a later commit, whatever the batch.
    @Test func sinceDiffsFindTheirStartByRevision() async throws {
        let db = try store()
        let revs = try ["3jzfcijpj2z2a", "3jzfcijpj2z2b", "3jzfcijpj2z2c", "3jzfcijpj2z2d", "3jzfcijpj2z2e", "3jzfcijpj2z2f"].map(TID.init)
        var lastWritten = [CID: Int](), previous: CID?
        for (i, rev) in revs.enumerated() {
            var blocks = (0..<(i % 3 + 1)).map { block("r\(i)-\($0)") }
            // The fifth commit writes the first commit's record again (another path, same record).
            if i == 4 { blocks.append(block("r0-0")) }
            let commit = block("commit\(i)")
            try db.apply(StoredCommit(
                did: did, commit: commit.cid, rev: rev, newBlocks: blocks + [commit], removed: previous.map { [$0] } ?? [],
                records: blocks.enumerated().map { ("x.y.z", "k\(i)-\($0.offset)", $0.element.cid) }, blobs: []))
            for block in blocks { lastWritten[block.cid] = i }
            if let previous { lastWritten[previous] = nil }
            lastWritten[commit.cid] = i
            previous = commit.cid
        }
        let cases: [(TID?, Int)] = [(nil, -1), (try TID("2222222222222"), -1)] + revs.enumerated().map { ($0.element, $0.offset) }
        for (since, after) in cases {
            let expected = Set(lastWritten.filter { $0.value > after }.keys)
            for batch in [1, 2, 100] {
                let got = try await diff(db, since: since, batchSize: batch)
                #expect(got.count == expected.count && Set(got) == expected, "since \(since?.description ?? "nil"), batch \(batch)")
            }
        }
        // The rewritten record comes after the fourth commit's blocks, with the fifth's.
        #expect(try await diff(db, since: revs[3]).contains(block("r0-0").cid))
    }

    /// A commit that does not come after the repository's last revision is
    /// refused, and writes nothing: its blocks would be numbered out of order.
    @Test func aCommitMustComeAfterTheLastRevision() async throws {
        let db = try store()
        let (a, b, c, commit1, commit2, commit3) = (block("a"), block("b"), block("c"), block("c1"), block("c2"), block("c3"))
        let rev1 = try TID("3jzfcijpj2z2a"), rev2 = try TID("3jzfcijpj2z2b")
        try db.apply(StoredCommit(did: did, commit: commit2.cid, rev: rev2, newBlocks: [a, commit2], removed: [], records: [], blobs: []))
        for (rev, commit, written) in [(rev1, commit1, b), (rev2, commit3, c)] {
            #expect {
                try db.apply(StoredCommit(did: did, commit: commit.cid, rev: rev, newBlocks: [written, commit], removed: [], records: [], blobs: []))
            } throws: { ($0 as? StorageError)?.code == .conflict }
            #expect(try db.blocks(of: did).get(written.cid) == nil)
        }
        #expect(try db.root(of: did) == RepoRoot(did: did, commit: commit2.cid, rev: rev2))
        // Within one transaction too: the second of two commits at one revision is refused.
        let rev3 = try TID("3jzfcijpj2z2c")
        let (d, commit4, commit5) = (block("d"), block("c4"), block("c5"))
        #expect(throws: StorageError.self) {
            try db.apply(
                [commit4, commit5].map { commit in
                    MirroredCommit(
                        stored: StoredCommit(did: did, commit: commit.cid, rev: rev3, newBlocks: [d, commit], removed: [], records: [], blobs: []),
                        data: d.cid)
                },
                host: "h.example.com", cursor: nil)
        }
        #expect(try db.blocks(of: did).get(d.cid) == nil)
    }

    /// v11 renumbers each repository's blocks in revision order: v10
    /// updated a rewritten block's revision in place, out of order.
    @Test func blocksAreRenumberedInRevisionOrder() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("db.sqlite").path
        let (a, b, c, commit) = (block("a"), block("b"), block("c"), block("c3"))
        let rev1 = try TID("3jzfcijpj2z2a"), rev2 = try TID("3jzfcijpj2z2b"), rev3 = try TID("3jzfcijpj2z2c")
        do {
            let queue = try DatabaseQueue(path: path)
            try SQLiteStore.migrator.migrate(queue, upTo: "v10")
            try await queue.write { db in
                try db.execute(sql: "INSERT INTO repo (did) VALUES (?)", arguments: [did.description])
                // `a`, first written at rev1, was written again at rev3 and kept its number.
                for (id, block, rev) in [(1, a, rev3), (2, b, rev1), (3, c, rev2), (4, commit, rev3)] {
                    try db.execute(
                        sql: "INSERT INTO block (repo, id, cid, rev, bytes) VALUES (1, ?, ?, ?, ?)",
                        arguments: [id, Data(block.cid.bytes), rev.description, Data(block.bytes)])
                }
                try db.execute(
                    sql: "INSERT INTO repo_root (did, commit_cid, rev) VALUES (?, ?, ?)",
                    arguments: [did.description, Data(commit.cid.bytes), rev3.description])
            }
        }
        let db = try SQLiteStore(path: path)
        #expect(try db.appliedMigrations().last == SQLiteStore.schemaVersion)
        #expect(try await diff(db, since: nil) == [b.cid, c.cid, a.cid, commit.cid])
        #expect(Set(try await diff(db, since: rev1)) == [c.cid, a.cid, commit.cid])
        #expect(Set(try await diff(db, since: rev2)) == [a.cid, commit.cid])
        #expect(try await diff(db, since: rev3).isEmpty)
        #expect(try db.blocks(of: did).get(a.cid) == a.bytes)
    }

    @Test func blobsAreListedOncePerCIDInOrder() throws {
        let db = try store()
        let blobs = (0..<5).map { CID.compute([UInt8($0)], codec: .raw) }
        let commit = block("c")
        try db.apply(StoredCommit(
            did: did, commit: commit.cid, rev: try TID("3jzfcijpj2z2a"), newBlocks: [commit], removed: [], records: [],
            blobs: [("x.y.z", "a", Array(blobs[0..<3])), ("x.y.z", "b", Array(blobs[2..<5]))]))
        let sorted = blobs.map(\.description).sorted()
        #expect(try db.blobs(of: did, since: nil, cursor: nil, limit: 10) == sorted)
        #expect(try db.blobs(of: did, since: nil, cursor: sorted[1], limit: 2) == Array(sorted[2..<4]))
        #expect(try db.blobs(of: did, since: try TID("3jzfcijpj2z2a"), cursor: nil, limit: 10).isEmpty)
    }
}

import ATCrypto
import ATData
import ATRepo
import ATSyntax
import Bluesky
import Foundation
import HTTPTypes
import Testing

/// The project's PDS, `bsky serve` as a process on loopback, driven through
/// the `Bluesky` SDK.
@Suite("PDS end to end", .serialized)
struct PDSEndToEndTests {
    static let server = Result { try ServeProcess(arguments: ["--write-limit", "off", "--get-repo-limit", "off"]) }

    let serve: ServeProcess
    let base: Bluesky
    let post = try! NSID("app.bsky.feed.post")

    init() throws {
        serve = try Self.server.get()
        base = Bluesky(serverURL: serve.url, retryConfig: .none, timeout: .seconds(60))
    }

    /// A new account and its logged-in client.
    func account(_ name: String = "u\(UInt32.random(in: 0..<UInt32.max))") async throws -> (did: DID, client: Bluesky, session: Session) {
        let created = try await base.server.createAccount(handle: try Handle("\(name).test"), email: "\(name)@example.com", password: "pw-\(name)")
        let session = try await Session.login(base, identifier: "\(name).test", password: "pw-\(name)")
        #expect(await session.info.did == created.did)
        return (created.did, session.client, session)
    }

    func record(_ text: String) -> DataValue {
        ["$type": "app.bsky.feed.post", "text": .string(text), "createdAt": "2024-01-01T00:00:00.000Z"]
    }

    @Test func accountsAndSessions() async throws {
        let (did, client, session) = try await account()
        let me = try await client.server.getSession()
        #expect(me.did == did)
        let description = try await base.server.describeServer()
        #expect(description.availableUserDomains == [".test"])
        // The DID document comes from the embedded PLC directory, with the PDS and the #atproto key.
        let document = try await DIDResolver(plcURL: serve.url).resolve(did)
        #expect(document.pdsEndpoint?.absoluteString == serve.url.absoluteString)
        #expect(document.handle == me.handle)
        _ = try document.signingKey()
        // Refresh rotates the refresh token: the old one is then refused.
        let old = await session.info.refreshJwt
        try await session.refresh()
        let reused = await #expect(throws: BlueskyError.self) { try await base.server.refreshSession(refreshToken: old) }
        #expect(reused?.kind == .xrpc(.expiredToken))
        let wrong = await #expect(throws: BlueskyError.self) {
            try await Session.login(base, identifier: me.handle, password: "nope")
        }
        #expect(wrong?.kind == .authenticationRequired)
        let taken = await #expect(throws: BlueskyError.self) {
            try await base.server.createAccount(handle: try Handle(me.handle), password: "x")
        }
        #expect(taken?.kind == .xrpc("HandleNotAvailable"))
    }

    @Test func putRecordCreateUpdateSwapsAndNoOps() async throws {
        let (did, client, _) = try await account()
        let rkey = try RecordKey("3jzfcijpj2z2a")
        let created = try await client.repo.putRecord(repo: .did(did), collection: post, rkey: rkey, record: record("one"), swapRecord: .absent)
        #expect(created.cid == DAGCBOR.encodeWithCID(record("one")).cid)
        #expect(created.validationStatus == .valid)
        let commit1 = try #require(created.commit)

        let updated = try await client.repo.putRecord(
            repo: .did(did), collection: post, rkey: rkey, record: record("two"), swapRecord: .cid(created.cid), swapCommit: commit1.cid)
        let commit2 = try #require(updated.commit)
        #expect(commit2.rev > commit1.rev)

        for (swapRecord, swapCommit) in [(RecordSwap.absent, nil), (.cid(created.cid), nil), (.cid(updated.cid), commit1.cid)] as [(RecordSwap, CID?)] {
            let error = await #expect(throws: BlueskyError.self) {
                try await client.repo.putRecord(repo: .did(did), collection: post, rkey: rkey, record: record("lost"), swapRecord: swapRecord, swapCommit: swapCommit)
            }
            #expect(error?.kind == .xrpc(.invalidSwap))
        }
        // An identical write is a no-op: same CID, no new commit.
        let same = try await client.repo.putRecord(repo: .did(did), collection: post, rkey: rkey, record: record("two"))
        #expect(same.cid == updated.cid)
        #expect(same.commit == commit2)
        #expect(try await client.sync.getLatestCommit(did: did) == commit2)
        #expect(try await client.repo.getRecord(repo: .did(did), collection: post, rkey: rkey).value == record("two"))
    }

    @Test func getRepoVerifiesWithTheKeyFromTheDIDDocument() async throws {
        let (did, client, _) = try await account()
        for i in 0..<30 {
            _ = try await client.repo.createRecord(repo: .did(did), collection: post, record: record("post \(i)"))
        }
        let repo = try await client.sync.repository(did: did, resolver: DIDResolver(plcURL: serve.url))
        #expect(try repo.recordCIDs().count == 30)
        let car = try await client.sync.getRepo(did: did)
        #expect(try CARReader(car).blocks().count == 1 + repo.mst.nodes().count + 30)
    }

    @Test func sinceDiffsHoldExactlyTheNewBlocks() async throws {
        let (did, client, _) = try await account()
        for i in 0..<40 { _ = try await client.repo.createRecord(repo: .did(did), collection: post, record: record("before \(i)")) }
        let before = try await client.sync.getLatestCommit(did: did)
        let oldBlocks = Set(try CARReader(try await client.sync.getRepo(did: did)).blocks().map(\.cid))
        for i in 0..<5 { _ = try await client.repo.createRecord(repo: .did(did), collection: post, record: record("after \(i)")) }
        _ = try await client.repo.deleteRecord(
            repo: .did(did), collection: post,
            rkey: try #require(try await client.repo.listRecords(repo: .did(did), collection: post, limit: 1, cursor: nil).records.first?.uri.recordKey))
        let full = try CARReader(try await client.sync.getRepo(did: did))
        let newBlocks = Set(try full.blocks().map(\.cid)).subtracting(oldBlocks)
        let diff = try CARReader(try await client.sync.getRepo(did: did, since: before.rev))
        #expect(diff.header.roots == full.header.roots)
        #expect(Set(try diff.blocks().map(\.cid)) == newBlocks)
        #expect(!newBlocks.isEmpty)
    }

    @Test func blobsUploadListAndGet() async throws {
        let (did, client, _) = try await account()
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47] + Array("image".utf8)
        let ref = try await client.repo.uploadBlob(png, mimeType: "image/png")
        let fetched = try await client.sync.getBlob(did: did, cid: ref.ref)
        #expect(fetched.bytes == png)
        #expect(fetched.mimeType == "image/png")
        // A blob larger than a chunk streams back whole.
        var generator = SystemRandomNumberGenerator()
        let large = (0..<300_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let largeRef = try await client.repo.uploadBlob(large, mimeType: "application/octet-stream")
        #expect(largeRef.size == large.count)
        #expect(try await client.sync.getBlob(did: did, cid: largeRef.ref).bytes == large)
        // Only blobs a record references are listed.
        #expect(try await client.sync.listBlobs(did: did, cursor: nil).cids.isEmpty)

        // 1,050 blobs, referenced by records of 50 each: three pages of up to 500.
        let refs = try await withThrowingTaskGroup(of: [BlobRef].self) { group in
            for start in stride(from: 0, to: 1050, by: 150) {
                group.addTask {
                    var out = [BlobRef]()
                    for i in start..<start + 150 { out.append(try await client.repo.uploadBlob(Array("blob \(i)".utf8), mimeType: "text/plain")) }
                    return out
                }
            }
            return try await group.reduce(into: [BlobRef]()) { $0 += $1 }
        }
        #expect(Set(refs.map(\.ref)).count == 1050)
        let gallery = try NSID("com.example.gallery")
        for chunk in stride(from: 0, to: refs.count, by: 50) {
            let items = refs[chunk..<min(chunk + 50, refs.count)].map(\.dataValue)
            _ = try await client.repo.createRecord(repo: .did(did), collection: gallery, record: ["$type": "com.example.gallery", "images": .array(Array(items))])
        }
        var pages = [[CID]]()
        for try await page in client.sync.listBlobs(did: did) { pages.append(page.cids) }
        #expect(pages.map(\.count) == [500, 500, 50])
        let listed = pages.flatMap { $0 }
        #expect(Set(listed) == Set(refs.map(\.ref)))
        #expect(listed.map(\.description) == listed.map(\.description).sorted())
        let small = try await client.sync.listBlobs(did: did, limit: 1000, cursor: nil)
        #expect(small.cids.count == 1000)
    }
}

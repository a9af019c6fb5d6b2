import ATCrypto
import ATData
import ATRepo
import ATSyntax
import Bluesky
import Foundation
import Testing

/// The client SDK against a real third-party PDS: arroba from PyPI, served on
/// loopback by scripts/interop/arroba_server.py.
@Suite("Client SDK against arroba", .serialized)
struct ArrobaClientTests {
    static let server = Result { try PeerServer(script: "arroba_server.py") }

    let peer: PeerServer
    let did: DID
    let key: any PublicKey
    let bluesky: Bluesky
    let post = try! NSID("app.bsky.feed.post")

    init() throws {
        peer = try Self.server.get()
        did = try DID(peer["did"])
        key = try Keys.publicKey(didKey: peer["didKey"])
        bluesky = Bluesky(serverURL: URL(string: peer["url"])!, bearer: .token(peer["token"]), retryConfig: .none, timeout: .seconds(30))
    }

    func record(_ text: String) -> DataValue {
        ["$type": "app.bsky.feed.post", "text": .string(text), "createdAt": "2024-01-01T00:00:00.000Z"]
    }

    @Test func putRecordCreatesThenUpdates() async throws {
        let rkey = try RecordKey(TIDClock().next().description)
        let first = record("first")
        let created = try await bluesky.repo.putRecord(repo: .did(did), collection: post, rkey: rkey, record: first, swapRecord: .absent)
        #expect(created.uri.description == "at://\(did)/app.bsky.feed.post/\(rkey)")
        #expect(created.cid == DAGCBOR.encodeWithCID(first).cid)

        let second = record("second")
        let updated = try await bluesky.repo.putRecord(repo: .did(did), collection: post, rkey: rkey, record: second, swapRecord: .cid(created.cid))
        #expect(updated.cid == DAGCBOR.encodeWithCID(second).cid)
        let fetched = try await bluesky.repo.getRecord(repo: .did(did), collection: post, rkey: rkey)
        #expect(fetched.value == second)

        // The server's own view, over sync: the verified repository has the update.
        let repo = try await bluesky.sync.repository(did: did, key: key)
        #expect(try repo.record(RepoPath(collection: post, recordKey: rkey)) == second)
    }

    @Test func swapsThatDoNotMatchAreInvalidSwap() async throws {
        let rkey = try RecordKey(TIDClock().next().description)
        let created = try await bluesky.repo.putRecord(repo: .did(did), collection: post, rkey: rkey, record: record("swap"))
        let stale = CID.compute(Array("stale".utf8), codec: .dagCBOR)
        for (swapRecord, swapCommit) in [(RecordSwap.absent, nil), (.cid(stale), nil), (.cid(created.cid), stale)] as [(RecordSwap, CID?)] {
            let error = await #expect(throws: BlueskyError.self) {
                try await bluesky.repo.putRecord(
                    repo: .did(did), collection: post, rkey: rkey, record: record("lost"), swapRecord: swapRecord, swapCommit: swapCommit)
            }
            #expect(error?.kind == .xrpc(.invalidSwap))
            #expect(error?.status == 400)
        }
        #expect(try await bluesky.repo.getRecord(repo: .did(did), collection: post, rkey: rkey).value == record("swap"))
    }

    @Test func getRepoFullAndSinceVerify() async throws {
        let before = try await bluesky.sync.getLatestCommit(did: did)
        let rkey = try RecordKey(TIDClock().next().description)
        let written = try await bluesky.repo.putRecord(repo: .did(did), collection: post, rkey: rkey, record: record("since"))

        // Full: bytes that verify, and the same through the streaming form.
        let car = try await bluesky.sync.getRepo(did: did)
        let full = try Repository.open(car: car, key: key)
        #expect(try full.record(RepoPath(collection: post, recordKey: rkey)) == record("since"))
        var reader = try await bluesky.sync.streamRepo(did: did)
        _ = try await reader.header()
        var streamed = 0
        while try await reader.next() != nil { streamed += 1 }
        #expect(streamed == (try CARReader(car).blocks().count))

        // Since: every block checks against its CID, the root commit is signed
        // by the repo key, and the new record is among the blocks.
        let diff = try await bluesky.sync.getRepo(did: did, since: before.rev)
        let reader2 = try CARReader(diff)
        let blocks = try reader2.blocks()
        let root = try #require(reader2.header.roots.first)
        let commitBytes = try #require(blocks.first { $0.cid == root }).data
        let commit = try Commit(decoding: Array(commitBytes))
        try commit.verify(with: key)
        #expect(commit.did == did)
        #expect(blocks.contains { $0.cid == written.cid })
        // (arroba prunes by its own sequence numbers, so how much it leaves out
        // is its business; the project's PDS tests the exact diff.)
        #expect(root == (try await bluesky.sync.getLatestCommit(did: did)).cid)
    }

    @Test func listBlobsWalksEveryPage() async throws {
        var uploaded = Set<CID>()
        for i in 0..<5 {
            let ref = try await bluesky.repo.uploadBlob(Array("blob \(i) \(UUID())".utf8), mimeType: "text/plain")
            #expect(ref.mimeType == "text/plain")
            uploaded.insert(ref.ref)
        }
        var pages = [[CID]]()
        for try await page in bluesky.sync.listBlobs(did: did, limit: 2) { pages.append(page.cids) }
        #expect(Set(pages.flatMap { $0 }).isSuperset(of: uploaded))
        #expect(pages.allSatisfy { $0.count <= 2 })
        #expect(pages.count >= 3)
    }

    @Test func anUnknownDIDIsRepoNotFound() async throws {
        let nobody = try DID("did:plc:nobodyhere0000000000000")
        let error = await #expect(throws: BlueskyError.self) { try await bluesky.sync.getRepo(did: nobody) }
        #expect(error?.kind == .xrpc(.repoNotFound))
        #expect(error?.message.contains("not found") == true)
        let listing = await #expect(throws: BlueskyError.self) {
            for try await _ in bluesky.sync.listBlobs(did: nobody) {}
        }
        #expect(listing?.kind == .xrpc(.repoNotFound))
    }
}

extension ArrobaClientTests {
    @Test func sessionsLogInAndCarryTheBearer() async throws {
        let anonymous = Bluesky(serverURL: URL(string: peer["url"])!, retryConfig: .none)
        let session = try await Session.login(anonymous, identifier: peer["handle"], password: peer["password"])
        #expect(await session.info.did == did)
        let rkey = try RecordKey(TIDClock().next().description)
        let out = try await session.client.repo.putRecord(repo: .did(did), collection: post, rkey: rkey, record: record("via session"))
        #expect(out.cid == DAGCBOR.encodeWithCID(record("via session")).cid)

        let wrong = await #expect(throws: BlueskyError.self) {
            try await Session.login(anonymous, identifier: peer["handle"], password: "wrong")
        }
        #expect(wrong?.kind == .xrpc(.authenticationRequired))
        let unauthenticated = await #expect(throws: BlueskyError.self) {
            try await anonymous.repo.putRecord(repo: .did(did), collection: post, rkey: rkey, record: record("no bearer"))
        }
        #expect(unauthenticated?.status == 400)
    }
}

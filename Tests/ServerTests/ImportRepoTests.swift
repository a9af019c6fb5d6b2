import ATCrypto
import ATData
import ATRepo
import ATSyntax
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
@testable import Server
import Testing

/// `repo.importRepo` and `repo.listMissingBlobs` in process: a repository
/// signed with the account's key is taken whole; one with a bad signature,
/// another account's, or one missing a block is refused, and nothing of it
/// stays — not in the repository, not in the staging table.
@Suite("Accounts: importRepo")
struct ImportRepoTests: InProcessPDS {
    let post = try! NSID("app.bsky.feed.post")

    func bytes(_ client: some TestClientProtocol, _ path: String) async throws -> (Int, [UInt8]) {
        try await client.execute(uri: path, method: .get) { ($0.status.code, Array($0.body.readableBytesView)) }
    }

    func importCAR(_ client: some TestClientProtocol, _ car: [UInt8], auth: String) async throws -> (Int, DataValue?) {
        try await client.execute(
            uri: "/xrpc/com.atproto.repo.importRepo", method: .post,
            headers: [.contentType: "application/vnd.ipld.car", .authorization: auth], body: ByteBuffer(bytes: car)
        ) { response in (response.status.code, try? DataValue(json: Data(buffer: response.body))) }
    }

    func status(_ client: some TestClientProtocol, auth: String) async throws -> DataValue {
        try await client.execute(uri: "/xrpc/com.atproto.server.checkAccountStatus", method: .get, headers: [.authorization: auth]) {
            try DataValue(json: Data(buffer: $0.body))
        }
    }

    /// A repository of `did` with `count` posts, the first `blobs` of them
    /// with an image, signed with `key`; and the blobs' CIDs.
    func repository(did: DID, key: some PrivateKey, count: Int, blobs: Int = 0) throws -> ([UInt8], [CID]) {
        let clock = TIDClock(), store = MemoryBlockStore()
        let empty = try Repository.create(did: did, key: key, rev: clock.next(), store: store)
        var cids = [CID]()
        let writes = try (0..<count).map { i -> RecordWrite in
            var record: DataValue = ["$type": "app.bsky.feed.post", "text": .string("imported \(i)"), "createdAt": "2026-11-30T00:00:00Z"]
            if i < blobs {
                let cid = CID.compute(Array("blob \(i)".utf8), codec: .raw)
                cids.append(cid)
                record = ["$type": "app.bsky.feed.post", "text": .string("imported \(i)"), "createdAt": "2026-11-30T00:00:00Z",
                          "embed": ["$type": "app.bsky.embed.images", "images": [["alt": "", "image": [
                              "$type": "blob", "ref": .link(cid), "mimeType": "text/plain", "size": .int(Int64(6 + String(i).count))]]]]]
            }
            return RecordWrite.create(RepoPath(collection: post, recordKey: try RecordKey("i\(i)")), record)
        }
        return (try empty.applying(writes, key: key, rev: clock.next(), store: store).0.exportCAR(), cids)
    }

    /// A deactivated account and its signing key, read from the server's secrets.
    func account(_ client: some TestClientProtocol, data: URL, handle: String) async throws -> (DID, String, any PrivateKey) {
        let (text, auth) = try await newAccount(client, handle)
        let did = try DID(text)
        #expect(try await post(client, "com.atproto.server.deactivateAccount", [:], auth: auth).0 == 200)
        return (did, auth, try FileKeyStore(directory: data.appendingPathComponent("secrets")).signingKey(for: did))
    }

    func staged(_ data: URL) throws -> Int {
        try SQLiteStore(path: data.appendingPathComponent("pds.sqlite").path).stagedImports()
    }

    @Test func aSignedRepositoryIsImportedWholeAndResigned() async throws {
        let (app, data) = try await app()
        try await app.test(.router) { client in
            let (did, auth, key) = try await account(client, data: data, handle: "mover.test")
            let before = try await status(client, auth: auth)
            let (car, blobCIDs) = try repository(did: did, key: key, count: 300, blobs: 3)
            let (code, body) = try await importCAR(client, car, auth: auth)
            #expect(code == 200, "\(String(describing: body))")
            let after = try await status(client, auth: auth)
            #expect(after["indexedRecords"] == 300 && after["expectedBlobs"] == 3 && after["importedBlobs"] == 0)
            #expect(after["activated"] == false)
            #expect(after["repoRev"]?.stringValue ?? "" > before["repoRev"]?.stringValue ?? "~")
            #expect(try staged(data) == 0)

            // The stored repository is the same tree under a new commit signed with the key here.
            #expect(try await post(client, "com.atproto.server.activateAccount", [:], auth: auth).0 == 200)
            let (exported, stored) = try await bytes(client, "/xrpc/com.atproto.sync.getRepo?did=\(did)")
            #expect(exported == 200)
            let repository = try Repository.open(car: stored, key: key.publicKey)
            let original = try Repository.open(car: car, key: key.publicKey)
            #expect(repository.commit.data == original.commit.data && repository.commitCID != original.commitCID)
            #expect(try repository.recordCIDs().count == 300)

            // The blobs the records reference are missing until uploaded, then claimed.
            let (_, missing) = try await get(client, "/xrpc/com.atproto.repo.listMissingBlobs?limit=2", auth: auth)
            #expect(missing?["blobs"]?.arrayValue?.count == 2)
            let cursor = try #require(missing?["cursor"]?.stringValue)
            let (_, rest) = try await get(client, "/xrpc/com.atproto.repo.listMissingBlobs?limit=2&cursor=\(cursor)", auth: auth)
            let listed = (missing?["blobs"]?.arrayValue ?? []) + (rest?["blobs"]?.arrayValue ?? [])
            #expect(Set(listed.compactMap { $0["cid"]?.stringValue }) == Set(blobCIDs.map(\.description)))
            #expect(listed.allSatisfy { $0["recordUri"]?.stringValue?.hasPrefix("at://\(did)/app.bsky.feed.post/i") == true })
            let upload = try await client.execute(
                uri: "/xrpc/com.atproto.repo.uploadBlob", method: .post, headers: [.contentType: "text/plain", .authorization: auth],
                body: ByteBuffer(string: "blob 0")) { $0.status.code }
            #expect(upload == 200)
            let (_, left) = try await get(client, "/xrpc/com.atproto.repo.listMissingBlobs", auth: auth)
            #expect(left?["blobs"]?.arrayValue?.count == 2)
            #expect(try await status(client, auth: auth)["importedBlobs"] == 1)
        }
    }

    @Test func badRepositoriesAreRefusedAndLeaveNothing() async throws {
        let (app, data) = try await app()
        try await app.test(.router) { client in
            let (did, auth, key) = try await account(client, data: data, handle: "careful.test")
            let (good, _) = try repository(did: did, key: key, count: 50)
            #expect(try await importCAR(client, good, auth: auth).0 == 200)
            let before = try await status(client, auth: auth)

            let (forged, _) = try repository(did: did, key: try Keys.generate(.k256), count: 60)
            let (other, _) = try repository(did: try DID("did:plc:someoneelse0000000000000"), key: key, count: 60)
            let (full, _) = try repository(did: did, key: key, count: 60)
            let blocks = try CARReader(full).blocks()
            let record = try #require(try Repository.open(car: full).recordCIDs().last?.cid)
            let holed = CARWriter.encode(
                roots: try CARReader(full).header.roots, blocks: blocks.filter { $0.cid != record }.map { ($0.cid, Array($0.data)) })
            let tampered = CARWriter.encode(
                roots: try CARReader(full).header.roots,
                blocks: blocks.map { ($0.cid, $0.cid == record ? Array("not the record".utf8) : Array($0.data)) })
            let cases: [(String, [UInt8], String)] = [
                ("another key", forged, "signed"), ("another DID", other, "did:plc:someoneelse"), ("a missing block", holed, "missing"),
                ("a record that does not hash to its CID", tampered, "does not hash"),
                ("a cut CAR", Array(full.prefix(full.count / 2)), "CAR"), ("not a CAR", Array("hello".utf8), "CAR"),
            ]
            for (name, car, words) in cases {
                let (code, body) = try await importCAR(client, car, auth: auth)
                #expect(code == 400, "\(name)")
                #expect(body?["error"] == "InvalidRequest" && body?["message"]?.stringValue?.contains(words) == true, "\(name): \(String(describing: body))")
                let now = try await status(client, auth: auth)
                #expect(now["repoCommit"] == before["repoCommit"] && now["indexedRecords"] == 50 && now["repoBlocks"] == before["repoBlocks"], "\(name)")
                #expect(try staged(data) == 0, "\(name)")
            }
        }
    }

    @Test func onlyADeactivatedAccountTakesAnImport() async throws {
        let (app, data) = try await app()
        try await app.test(.router) { client in
            let (did, auth, key) = try await account(client, data: data, handle: "active.test")
            #expect(try await post(client, "com.atproto.server.activateAccount", [:], auth: auth).0 == 200)
            let (car, _) = try repository(did: did, key: key, count: 5)
            let (code, body) = try await importCAR(client, car, auth: auth)
            #expect(code == 400 && body?["message"]?.stringValue?.contains("deactivate") == true)
            #expect(try await importCAR(client, car, auth: "Bearer nonsense").0 != 200)
        }
    }
}

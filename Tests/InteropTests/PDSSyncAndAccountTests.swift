import ATCrypto
import ATData
import ATRepo
import ATSyntax
import Bluesky
import Foundation
import Testing

/// The rest of the PDS surface: proofs, blocks, listings, sessions' end, and
/// gated sign-up.
@Suite("PDS sync siblings and sign-up gates", .serialized)
struct PDSSyncAndAccountTests {
    let post = try! NSID("app.bsky.feed.post")

    func record(_ text: String) -> DataValue {
        ["$type": "app.bsky.feed.post", "text": .string(text), "createdAt": "2024-01-01T00:00:00.000Z"]
    }

    @Test func proofsBlocksAndListings() async throws {
        let serve = try PDSEndToEndTests.server.get()
        let base = Bluesky(serverURL: serve.url, retryConfig: .none)
        let name = "sync\(UInt32.random(in: 0..<UInt32.max))"
        let info = try await base.server.createAccount(handle: try Handle("\(name).test"), password: "pw")
        var client = base
        client.bearer = .token(info.accessJwt)
        var written = [RecordKey: CID]()
        for i in 0..<60 {
            let out = try await client.repo.createRecord(repo: .did(info.did), collection: post, record: record("p\(i)"))
            written[out.uri.recordKey!] = out.cid
        }
        let key = try await DIDResolver(plcURL: serve.url).resolve(info.did).signingKey()

        // getRecord: a CAR proving the record (or its absence) under the signed commit.
        for (rkey, cid) in written.prefix(5) {
            let car = try await client.sync.getRecord(did: info.did, collection: post, rkey: rkey)
            let store = try CARBlockStore(car: car)
            let root = try #require(store.header.roots.first)
            let commit = try Commit(decoding: try store.require(root))
            try commit.verify(with: key)
            let tree = try MST.loadPartial(root: commit.data, from: store)
            #expect(try tree.get(RepoPath(collection: post, recordKey: rkey).key) == cid)
            #expect(try store.get(cid) != nil)
        }
        let absent = try await client.sync.getRecord(did: info.did, collection: post, rkey: try RecordKey("nothing-here"))
        let absentStore = try CARBlockStore(car: absent)
        let absentCommit = try Commit(decoding: try absentStore.require(absentStore.header.roots[0]))
        #expect(try MST.loadPartial(root: absentCommit.data, from: absentStore).get(RepoPath(collection: post, recordKey: try RecordKey("nothing-here")).key) == nil)

        // getBlocks returns exactly what was asked; a missing CID is an error.
        let some = Array(written.values.prefix(3))
        let blocks = try CARReader(try await client.sync.getBlocks(did: info.did, cids: some)).blocks()
        #expect(Set(blocks.map(\.cid)) == Set(some))
        let missing = await #expect(throws: BlueskyError.self) {
            try await client.sync.getBlocks(did: info.did, cids: [CID.compute([1, 2, 3])])
        }
        #expect(missing?.kind == .xrpc("BlockNotFound"))

        let status = try await client.sync.getRepoStatus(did: info.did)
        let latest = try await client.sync.getLatestCommit(did: info.did)
        #expect(status.active && status.rev == latest.rev)
        let repos = try await client.sync.listRepos(limit: 2).collect().flatMap(\.repos)
        #expect(repos.contains { $0.did == info.did })
        #expect(repos.map(\.did) == repos.map(\.did).sorted())
        let pages = try await client.repo.listRecords(repo: .did(info.did), collection: post, limit: 25).collect()
        #expect(pages.map(\.records.count) == [25, 25, 10])
        #expect(Set(pages.flatMap(\.records).map(\.cid)) == Set(written.values.map(Optional.some)))
        let described = try await client.repo.describeRepo(repo: .handle(try Handle("\(name).test")))
        #expect(described.did == info.did && described.collections == ["app.bsky.feed.post"])
        #expect(try await client.sync.getRepo(did: info.did).count > 0)
    }

    @Test func deleteSessionRevokesTheRefreshToken() async throws {
        let serve = try PDSEndToEndTests.server.get()
        let base = Bluesky(serverURL: serve.url, retryConfig: .none)
        let info = try await base.server.createAccount(handle: try Handle("bye\(UInt32.random(in: 0..<UInt32.max)).test"), password: "pw")
        try await base.server.deleteSession(refreshToken: info.refreshJwt)
        let error = await #expect(throws: BlueskyError.self) { try await base.server.refreshSession(refreshToken: info.refreshJwt) }
        #expect(error?.kind == .xrpc(.expiredToken))
        // The account's signing key is on disk, readable by the owner only.
        let keyFile = serve.data.appendingPathComponent("secrets/keys/\(info.did.description.replacingOccurrences(of: ":", with: "_")).key")
        let attributes = try FileManager.default.attributesOfItem(atPath: keyFile.path)
        #expect(attributes[.posixPermissions] as? Int == 0o600)
    }

    @Test func inviteCodesAndTheAdminPasswordGateSignUp() async throws {
        let gated = try ServeProcess(arguments: ["--invite-required", "--admin-password", "sesame"])
        defer { gated.stop() }
        let base = Bluesky(serverURL: gated.url, retryConfig: .none)
        #expect(try await base.server.describeServer().inviteCodeRequired == true)
        let refused = await #expect(throws: BlueskyError.self) {
            try await base.server.createAccount(handle: try Handle("nocode.test"), password: "pw")
        }
        #expect(refused?.kind == .xrpc("InvalidInviteCode"))
        var admin = base
        admin.bearer = nil
        let basic = "Basic " + Data("admin:sesame".utf8).base64EncodedString()
        let headers = CallOptions(headers: [.authorization: basic])
        let code = try await admin.call(procedure: "com.atproto.server.createInviteCode", input: ["useCount": 1], options: headers)["code"]?.stringValue
        let invite = try #require(code)
        _ = try await base.server.createAccount(handle: try Handle("invited.test"), password: "pw", inviteCode: invite)
        let used = await #expect(throws: BlueskyError.self) {
            try await base.server.createAccount(handle: try Handle("second.test"), password: "pw", inviteCode: invite)
        }
        #expect(used?.kind == .xrpc("InvalidInviteCode"))
        _ = try await base.server.createAccount(handle: try Handle("byadmin.test"), password: "pw", options: headers)
        let wrongAdmin = await #expect(throws: BlueskyError.self) {
            try await admin.call(procedure: "com.atproto.server.createInviteCode", input: ["useCount": 1], options: CallOptions(headers: [.authorization: "Basic " + Data("admin:nope".utf8).base64EncodedString()]))
        }
        #expect(wrongAdmin?.status == 401)
    }
}

import ATData
import ATProtoAPI
import ATSyntax
import Bluesky
import Foundation
import HTTPTypes
import Logging
@testable import Server
import Testing

/// Every XRPC endpoint the PDS and the relay serve, called through the
/// generated SDK method: the server encodes its output with the generated type
/// and the SDK decodes it with the same one, which must then also pass the
/// lexicon's full validation.
@Suite("Generated API: every served endpoint, one definition", .serialized)
struct GeneratedEndpointsTests {
    static let server = Result {
        try ServeProcess(arguments: ["--write-limit", "off", "--get-repo-limit", "off", "--admin-password", "pw-admin", "--relay-allow-private"], role: "all")
    }

    /// The NSIDs each server registers, read from in-process instances.
    func registered() async throws -> (pds: Set<String>, relay: Set<String>) {
        let dir = try Tools.temporaryDirectory()
        let logger = Logger(label: "registered")
        let pds = try await PDS.open(
            config: ServerConfig(dataDirectory: dir.appendingPathComponent("pds"), port: 0, bcryptCost: 4),
            publicURL: URL(string: "http://127.0.0.1:1")!, logger: logger)
        var methods = XRPCMethods()
        pds.registerMethods(&methods)
        let relay = try await Relay.open(
            config: RelayConfig(dataDirectory: dir.appendingPathComponent("relay"), plcURL: URL(string: "http://127.0.0.1:1")!),
            publicURL: URL(string: "http://127.0.0.1:2")!, logger: logger)
        var relayMethods = XRPCMethods()
        relay.registerMethods(&relayMethods)
        return (Set(methods.methods.keys), Set(relayMethods.methods.keys))
    }

    /// The output decoded again with every lexicon constraint checked.
    func strict<T: LexValue>(_ value: T) throws -> T {
        try T(json: value.json(), validating: true)
    }

    @Test func everyEndpointThroughTheGeneratedSDK() async throws {
        let serve = try Self.server.get()
        let relayURL = try #require(serve.relayURL)
        let (pdsMethods, relayMethods) = try await registered()
        var called = Set<String>(), relayCalled = Set<String>()
        let base = Bluesky(serverURL: serve.url, retryConfig: .none, timeout: .seconds(60))
        let api = base.com.atproto

        // com.atproto.server and identity.
        _ = try strict(try await api.server.describeServer()); called.insert(Com.Atproto.Server.DescribeServer.nsid)
        let name = "g\(UInt32.random(in: 0..<UInt32.max))"
        let handle = try Handle("\(name).test")
        let created = try strict(try await api.server.createAccount(email: "\(name)@example.com", handle: handle, password: "pw-\(name)"))
        called.insert(Com.Atproto.Server.CreateAccount.nsid)
        let did = created.did
        let session = try strict(try await api.server.createSession(identifier: handle.description, password: "pw-\(name)"))
        called.insert(Com.Atproto.Server.CreateSession.nsid)
        let authed = Bluesky(serverURL: serve.url, bearer: .token(session.accessJwt), retryConfig: .none, timeout: .seconds(60))
        #expect(try strict(try await authed.com.atproto.server.getSession()).did == did)
        called.insert(Com.Atproto.Server.GetSession.nsid)
        // A service-auth token, checked by the SDK's verifier against the key in the PLC document.
        let timeline = try NSID("app.bsky.feed.getTimeline")
        let minted = try strict(try await authed.com.atproto.server.getServiceAuth(aud: "did:web:appview.test", lxm: timeline))
        called.insert(Com.Atproto.Server.GetServiceAuth.nsid)
        let verifier = ServiceAuthVerifier(audience: "did:web:appview.test", resolver: DIDResolver(plcURL: serve.url))
        #expect(try await verifier.verify(minted.token, method: timeline).issuer == did.description)
        await #expect(throws: ServiceAuthError.self) { _ = try await verifier.verify(minted.token, method: timeline) }  // used once
        // Preferences, which the PDS keeps itself: a known member and an unknown one come back as put.
        let actor = authed.app.bsky.actor
        #expect(try strict(try await actor.getPreferences()).preferences.isEmpty)
        called.insert(App.Bsky.Actor.GetPreferences.nsid)
        try await actor.putPreferences(preferences: [
            .adultContentPref(.init(enabled: true)), .unknown(["$type": "app.bsky.actor.defs#notYetKnownPref", "level": 3]),
        ])
        called.insert(App.Bsky.Actor.PutPreferences.nsid)
        let preferences = try strict(try await actor.getPreferences()).preferences
        #expect(preferences.map(\.typeName) == ["app.bsky.actor.defs#adultContentPref", "app.bsky.actor.defs#notYetKnownPref"])
        if case .adultContentPref(let adult) = preferences.first { #expect(adult.enabled) } else { Issue.record("\(preferences)") }
        await #expect(throws: BlueskyError.self) { try await actor.putPreferences(preferences: [.unknown(["$type": "com.example.pref"])]) }
        let refresher = Bluesky(serverURL: serve.url, bearer: .token(session.refreshJwt), retryConfig: .none, timeout: .seconds(60))
        let refreshed = try strict(try await refresher.com.atproto.server.refreshSession())
        called.insert(Com.Atproto.Server.RefreshSession.nsid)
        let ender = Bluesky(serverURL: serve.url, bearer: .token(refreshed.refreshJwt), retryConfig: .none, timeout: .seconds(60))
        try await ender.com.atproto.server.deleteSession(); called.insert(Com.Atproto.Server.DeleteSession.nsid)
        var admin = HTTPFields()
        admin[.authorization] = "Basic " + Data("admin:pw-admin".utf8).base64EncodedString()
        let invite = try strict(try await api.server.createInviteCode(useCount: 1, options: CallOptions(headers: admin)))
        #expect(!invite.code.isEmpty)
        called.insert(Com.Atproto.Server.CreateInviteCode.nsid)
        // Account status: the owner's switch and the operator's takedown, each undone at once.
        #expect(try strict(try await authed.com.atproto.server.checkAccountStatus()).activated)
        called.insert(Com.Atproto.Server.CheckAccountStatus.nsid)
        try await authed.com.atproto.server.deactivateAccount()
        called.insert(Com.Atproto.Server.DeactivateAccount.nsid)
        try await authed.com.atproto.server.activateAccount()
        called.insert(Com.Atproto.Server.ActivateAccount.nsid)
        let subject = Com.Atproto.Admin.UpdateSubjectStatus.Input.Subject.defsRepoRef(.init(did: did))
        _ = try strict(try await api.admin.updateSubjectStatus(subject: subject, takedown: .init(applied: false), options: CallOptions(headers: admin)))
        called.insert(Com.Atproto.Admin.UpdateSubjectStatus.nsid)
        #expect(try strict(try await api.admin.getSubjectStatus(did: did, options: CallOptions(headers: admin))).takedown?.applied == false)
        called.insert(Com.Atproto.Admin.GetSubjectStatus.nsid)
        // Operator views and deletion, on an account made for it; the owner's deletion needs the emailed token.
        #expect(try strict(try await api.admin.getAccountInfo(did: did, options: CallOptions(headers: admin))).handle == handle)
        called.insert(Com.Atproto.Admin.GetAccountInfo.nsid)
        #expect(try strict(try await api.admin.getAccountInfos(dids: [did], options: CallOptions(headers: admin))).infos.count == 1)
        called.insert(Com.Atproto.Admin.GetAccountInfos.nsid)
        let doomed = try await api.server.createAccount(email: "d\(name)@example.com", handle: try Handle("d\(name).test"), password: "pw-doomed")
        try await api.admin.updateAccountPassword(did: doomed.did, password: "pw-doomed-2", options: CallOptions(headers: admin))
        called.insert(Com.Atproto.Admin.UpdateAccountPassword.nsid)
        try await Bluesky(serverURL: serve.url, bearer: .token(doomed.accessJwt), retryConfig: .none).com.atproto.server.requestAccountDelete()
        called.insert(Com.Atproto.Server.RequestAccountDelete.nsid)
        await #expect { try await api.server.deleteAccount(did: doomed.did, password: "pw-doomed-2", token: "AAAAA-AAAAA") } throws: {
            ($0 as? BlueskyError)?.name == "InvalidToken"
        }
        called.insert(Com.Atproto.Server.DeleteAccount.nsid)
        try await api.admin.deleteAccount(did: doomed.did, options: CallOptions(headers: admin))
        called.insert(Com.Atproto.Admin.DeleteAccount.nsid)
        // App passwords.
        let appPassword = try strict(try await authed.com.atproto.server.createAppPassword(name: "generated"))
        #expect(appPassword.name == "generated" && appPassword.password.count == 19)
        called.insert(Com.Atproto.Server.CreateAppPassword.nsid)
        #expect(try strict(try await authed.com.atproto.server.listAppPasswords()).passwords.map(\.name) == ["generated"])
        called.insert(Com.Atproto.Server.ListAppPasswords.nsid)
        try await authed.com.atproto.server.revokeAppPassword(name: "generated")
        called.insert(Com.Atproto.Server.RevokeAppPassword.nsid)
        // Email: each request mails a token (to the log here); the wrong token is refused by name.
        let server = authed.com.atproto.server
        try await server.requestEmailConfirmation()
        called.insert(Com.Atproto.Server.RequestEmailConfirmation.nsid)
        await #expect { try await server.confirmEmail(email: "\(name)@example.com", token: "AAAAA-AAAAA") } throws: {
            ($0 as? BlueskyError)?.name == "InvalidToken"
        }
        called.insert(Com.Atproto.Server.ConfirmEmail.nsid)
        try await api.server.requestPasswordReset(email: "\(name)@example.com")
        called.insert(Com.Atproto.Server.RequestPasswordReset.nsid)
        await #expect { try await api.server.resetPassword(token: "AAAAA-AAAAA", password: "new-password") } throws: {
            ($0 as? BlueskyError)?.name == "ExpiredToken"
        }
        called.insert(Com.Atproto.Server.ResetPassword.nsid)
        #expect(try strict(try await server.requestEmailUpdate()).tokenRequired == false)
        called.insert(Com.Atproto.Server.RequestEmailUpdate.nsid)
        try await server.updateEmail(email: "\(name)-new@example.com")
        called.insert(Com.Atproto.Server.UpdateEmail.nsid)
        #expect(try strict(try await server.getSession()).email == "\(name)-new@example.com")
        #expect(try strict(try await api.identity.resolveHandle(handle: handle)).did == did)
        called.insert(Com.Atproto.Identity.ResolveHandle.nsid)
        #expect(try strict(try await api.identity.resolveDid(did: did)).didDoc["id"]?.stringValue == did.description)
        called.insert(Com.Atproto.Identity.ResolveDid.nsid)
        #expect(try strict(try await api.identity.resolveIdentity(identifier: .did(did))).handle == handle)
        called.insert(Com.Atproto.Identity.ResolveIdentity.nsid)
        let renamed = try Handle("r\(name).test")
        try await authed.com.atproto.identity.updateHandle(handle: renamed)
        called.insert(Com.Atproto.Identity.UpdateHandle.nsid)
        #expect(try strict(try await api.identity.resolveIdentity(identifier: .handle(renamed))).did == did)

        // com.atproto.repo.
        let repo = authed.com.atproto.repo
        let collection = try NSID(App.Bsky.Feed.Post.nsid)
        let post = App.Bsky.Feed.Post(text: "generated", langs: [try Language("en")], createdAt: try Datetime("2024-05-01T12:00:00.000Z"))
        let first = try strict(try await repo.createRecord(repo: .did(did), collection: collection, record: post.dataValue))
        #expect(first.validationStatus == "valid")
        called.insert(Com.Atproto.Repo.CreateRecord.nsid)
        let rkey = try #require(first.uri.recordKey)
        let put = try strict(try await repo.putRecord(
            repo: .did(did), collection: collection, rkey: try RecordKey("3kgenerated22"), record: post.dataValue, swapRecord: .null))
        called.insert(Com.Atproto.Repo.PutRecord.nsid)
        let got = try strict(try await repo.getRecord(repo: .did(did), collection: collection, rkey: rkey))
        #expect(try App.Bsky.Feed.Post(got.value).cbor() == post.cbor())
        called.insert(Com.Atproto.Repo.GetRecord.nsid)
        #expect(try strict(try await repo.listRecords(repo: .did(did), collection: collection)).records.count == 2)
        called.insert(Com.Atproto.Repo.ListRecords.nsid)
        #expect(try strict(try await repo.describeRepo(repo: .did(did))).collections == [collection])
        called.insert(Com.Atproto.Repo.DescribeRepo.nsid)
        let blob = try strict(try await repo.uploadBlob(body: Array("PNG-not-really".utf8), contentType: "image/png"))
        called.insert(Com.Atproto.Repo.UploadBlob.nsid)
        let like = App.Bsky.Feed.Like(subject: .init(uri: first.uri, cid: first.cid), createdAt: try Datetime("2024-05-01T12:00:01.000Z"))
        let profile = App.Bsky.Actor.Profile(displayName: "Gen", avatar: blob.blob)
        let applied = try strict(try await repo.applyWrites(repo: .did(did), writes: [
            .create(.init(collection: try NSID(App.Bsky.Feed.Like.nsid), value: like.dataValue)),
            .create(.init(collection: try NSID(App.Bsky.Actor.Profile.nsid), rkey: try RecordKey("self"), value: profile.dataValue)),
            .delete(.init(collection: collection, rkey: try RecordKey("3kgenerated22"))),
        ]))
        #expect(applied.results?.count == 3)
        called.insert(Com.Atproto.Repo.ApplyWrites.nsid)
        _ = try strict(try await repo.deleteRecord(repo: .did(did), collection: collection, rkey: rkey, swapRecord: first.cid))
        called.insert(Com.Atproto.Repo.DeleteRecord.nsid)
        _ = put

        // com.atproto.sync on the PDS.
        let sync = base.com.atproto.sync
        let latest = try strict(try await sync.getLatestCommit(did: did)); called.insert(Com.Atproto.Sync.GetLatestCommit.nsid)
        #expect(try strict(try await sync.getRepoStatus(did: did)).rev == latest.rev); called.insert(Com.Atproto.Sync.GetRepoStatus.nsid)
        #expect(try strict(try await sync.listRepos(limit: 1000)).repos.contains { $0.did == did }); called.insert(Com.Atproto.Sync.ListRepos.nsid)
        #expect(try strict(try await sync.listBlobs(did: did)).cids == [blob.blob.ref]); called.insert(Com.Atproto.Sync.ListBlobs.nsid)
        #expect(try await sync.getBlob(did: did, cid: blob.blob.ref) == Array("PNG-not-really".utf8)); called.insert(Com.Atproto.Sync.GetBlob.nsid)
        let car = try await sync.getRepo(did: did); called.insert(Com.Atproto.Sync.GetRepo.nsid)
        #expect(try CARReader(car).header.roots == [latest.cid])
        let proof = try await sync.getRecord(did: did, collection: try NSID(App.Bsky.Actor.Profile.nsid), rkey: try RecordKey("self"))
        #expect(try CARReader(proof).header.roots == [latest.cid]); called.insert(Com.Atproto.Sync.GetRecord.nsid)
        let blocks = try await sync.getBlocks(did: did, cids: [latest.cid]); called.insert(Com.Atproto.Sync.GetBlocks.nsid)
        #expect(try CARReader(blocks).blocks().map(\.cid) == [latest.cid])

        // Moving accounts: what a new host recommends, the PLC token and
        // signature (refused without the mailed token), the checks on a
        // submitted operation, and imports (only into a deactivated account).
        #expect(try strict(try await repo.listMissingBlobs()).blobs.isEmpty); called.insert(Com.Atproto.Repo.ListMissingBlobs.nsid)
        let identity = authed.com.atproto.identity
        let recommended = try strict(try await identity.getRecommendedDidCredentials())
        #expect(recommended.alsoKnownAs == ["at://\(renamed)"] && recommended.rotationKeys?.count == 1)
        called.insert(Com.Atproto.Identity.GetRecommendedDidCredentials.nsid)
        try await identity.requestPlcOperationSignature(); called.insert(Com.Atproto.Identity.RequestPlcOperationSignature.nsid)
        await #expect { _ = try await identity.signPlcOperation(token: "AAAAA-AAAAA") } throws: { ($0 as? BlueskyError)?.name == "ExpiredToken" }
        called.insert(Com.Atproto.Identity.SignPlcOperation.nsid)
        await #expect { try await identity.submitPlcOperation(operation: ["type": "plc_operation"]) } throws: {
            ($0 as? BlueskyError)?.name == "InvalidRequest"
        }
        called.insert(Com.Atproto.Identity.SubmitPlcOperation.nsid)
        await #expect { try await repo.importRepo(body: car) } throws: {
            ($0 as? BlueskyError)?.message.contains("deactivate") == true
        }
        called.insert(Com.Atproto.Repo.ImportRepo.nsid)

        #expect(called == pdsMethods, "not called: \(pdsMethods.subtracting(called).sorted())")

        // The firehose, as the generated message type: the account's commits are in it.
        let stream = base.com.atproto.sync.subscribeRepos(cursor: 0)
        let reader = Task { () throws -> (commits: Int, identity: Bool) in
            var commits = 0, identity = false
            for try await message in stream {
                switch message {
                case .commit(let commit) where commit.repo == did:
                    commits += 1
                    if commit.rev == latest.rev { return (commits, identity) }
                case .identity(let event) where event.did == did: identity = true
                default: break
                }
            }
            return (commits, identity)
        }
        let watchdog = Task {
            try await Task.sleep(for: .seconds(60))
            reader.cancel()
        }
        let seen = try await reader.value
        watchdog.cancel()
        #expect(seen.commits >= 4 && seen.identity, "\(seen)")

        // The relay: asked to crawl, it mirrors the account; then its endpoints.
        let relay = Bluesky(serverURL: relayURL, retryConfig: .none, timeout: .seconds(60)).com.atproto.sync
        let host = "\(serve.url.host ?? "127.0.0.1"):\(serve.url.port ?? 80)"
        try await relay.requestCrawl(hostname: host); relayCalled.insert(Com.Atproto.Sync.RequestCrawl.nsid)
        try await relay.notifyOfUpdate(hostname: host); relayCalled.insert(Com.Atproto.Sync.NotifyOfUpdate.nsid)
        let mirrored = await eventually(within: 60) { (try? await relay.getLatestCommit(did: did))?.cid == latest.cid }
        #expect(mirrored)
        _ = try strict(try await relay.getLatestCommit(did: did)); relayCalled.insert(Com.Atproto.Sync.GetLatestCommit.nsid)
        #expect(try strict(try await relay.getRepoStatus(did: did)).active); relayCalled.insert(Com.Atproto.Sync.GetRepoStatus.nsid)
        #expect(try strict(try await relay.listRepos()).repos.contains { $0.did == did }); relayCalled.insert(Com.Atproto.Sync.ListRepos.nsid)
        #expect(try CARReader(try await relay.getRepo(did: did)).header.roots == [latest.cid]); relayCalled.insert(Com.Atproto.Sync.GetRepo.nsid)
        let hosts = try strict(try await relay.listHosts()); relayCalled.insert(Com.Atproto.Sync.ListHosts.nsid)
        let listed = try #require(hosts.hosts.first)
        #expect(try strict(try await relay.getHostStatus(hostname: listed.hostname)).hostname == listed.hostname)
        relayCalled.insert(Com.Atproto.Sync.GetHostStatus.nsid)
        #expect(relayCalled == relayMethods, "not called: \(relayMethods.subtracting(relayCalled).sorted())")
    }
}

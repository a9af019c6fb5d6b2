import ATData
import ATProtoAPI
import ATSyntax
import Bluesky
import Foundation
import HTTPTypes
import Testing
import TestSupport

/// Deactivation, activation, takedown and its reversal against `bsky serve
/// --role all`: each gives its `#account` event, the right `getRepoStatus`,
/// the read errors the sync lexicons name and refused writes, on the PDS and
/// on the relay that follows it.
@Suite("Accounts: status", .serialized)
struct AccountStatusTests {
    static func name(_ error: any Error) -> String? { (error as? BlueskyError)?.name }

    /// The first `#account` event of `did` after `cursor` on the firehose at `url`.
    func accountEvent(_ url: URL, did: DID, after cursor: Int64) async throws -> (seq: Int64, active: Bool, status: String?) {
        try await within30s("an #account event of \(did)") {
            for try await event in Bluesky(serverURL: url).sync.subscribeRepos(cursor: cursor) {
                if case .account(let seq, let who, let active, let status, _) = event, who == did { return (seq, active, status) }
            }
            throw ToolError("the firehose ended without an #account event of \(did)")
        }
    }

    @Test func deactivationActivationAndTakedown() async throws {
        let serve = try ServeProcess(arguments: ["--admin-password", "pw-admin"], role: "all")
        defer { serve.kill() }
        let relay = Bluesky(serverURL: try #require(serve.relayURL), retryConfig: .none)
        let created = try await Bluesky(serverURL: serve.url).server.createAccount(handle: try Handle("st\(UInt16.random(in: 0...9999)).test"), password: "pw")
        let did = created.did
        let client = Bluesky(serverURL: serve.url, bearer: .token(created.accessJwt), retryConfig: .none)
        let anonymous = Bluesky(serverURL: serve.url, retryConfig: .none)
        let post = try NSID("app.bsky.feed.post")
        let record: DataValue = ["$type": "app.bsky.feed.post", "text": "before", "createdAt": "2026-11-30T00:00:00Z"]
        let written = try await client.repo.createRecord(repo: .did(did), collection: post, record: record)
        let rkey = try RecordKey(String(written.uri.description.split(separator: "/").last!))
        // Sequence numbers are each firehose's own: the PDS's and the relay's.
        let first = try await accountEvent(serve.url, did: did, after: 0)
        let relayFirst = try await accountEvent(relay.serverURL, did: did, after: 0)
        #expect(first.active && relayFirst.active)
        let status = try await client.com.atproto.server.checkAccountStatus()
        #expect(status.activated && status.validDid && status.indexedRecords == 1 && status.repoBlocks >= 3)

        // Deactivated by its owner.
        try await client.com.atproto.server.deactivateAccount()
        let deactivated = try await accountEvent(serve.url, did: did, after: first.seq)
        #expect(!deactivated.active && deactivated.status == "deactivated")
        let repoStatus = try await anonymous.sync.getRepoStatus(did: did)
        #expect(!repoStatus.active && repoStatus.status == "deactivated" && repoStatus.rev == nil)
        await #expect { _ = try await anonymous.sync.getRepo(did: did) } throws: { Self.name($0) == "RepoDeactivated" }
        await #expect { _ = try await anonymous.sync.getLatestCommit(did: did) } throws: { Self.name($0) == "RepoDeactivated" }
        await #expect { _ = try await anonymous.com.atproto.sync.listBlobs(did: did) } throws: { Self.name($0) == "RepoDeactivated" }
        await #expect { _ = try await anonymous.com.atproto.sync.getRecord(did: did, collection: post, rkey: rkey) } throws: {
            Self.name($0) == "RepoDeactivated"
        }
        await #expect { _ = try await client.repo.createRecord(repo: .did(did), collection: post, record: record) } throws: {
            Self.name($0) == "AccountDeactivated"
        }
        // It may still log in, to activate itself.
        let session = try await anonymous.server.createSession(identifier: did.description, password: "pw")
        #expect(session.active == false && session.status == "deactivated")
        #expect(try await client.com.atproto.server.checkAccountStatus().activated == false)
        // The relay stops serving it.
        let relayDeactivated = try await accountEvent(relay.serverURL, did: did, after: relayFirst.seq)
        #expect(!relayDeactivated.active && relayDeactivated.status == "deactivated")
        await #expect { _ = try await relay.sync.getRepo(did: did) } throws: { Self.name($0) == "RepoDeactivated" }
        #expect(try await relay.sync.getRepoStatus(did: did).status == "deactivated")

        // Activated again.
        try await client.com.atproto.server.activateAccount()
        let activated = try await accountEvent(serve.url, did: did, after: deactivated.seq)
        #expect(activated.active && activated.status == nil)
        #expect(try await anonymous.sync.getRepoStatus(did: did).active)
        _ = try await client.repo.createRecord(repo: .did(did), collection: post, record: record)
        #expect(try await accountEvent(relay.serverURL, did: did, after: relayDeactivated.seq).active)
        // Activation also sends #sync, which a relay may answer by fetching the
        // repository again; it serves the account once it has the new commit.
        let latest = try await anonymous.sync.getLatestCommit(did: did).rev.description
        try await within30s("the relay mirroring \(did) at \(latest)") {
            for try await event in relay.sync.subscribeRepos(cursor: relayDeactivated.seq) {
                switch event {
                case .commit(let commit) where commit.repo == did && commit.rev.description == latest: return
                case .sync(_, let who, let rev, _) where who == did && rev == latest: return
                default: continue
                }
            }
        }
        let relayActive = try await relay.sync.getRepoStatus(did: did)
        #expect(relayActive.active, "\(relayActive)")

        // Taken down by the operator, then restored.
        var admin = HTTPFields()
        admin[.authorization] = "Basic " + Data("admin:pw-admin".utf8).base64EncodedString()
        let operatorOptions = CallOptions(headers: admin)
        let subject = Com.Atproto.Admin.UpdateSubjectStatus.Input.Subject.defsRepoRef(.init(did: did))
        _ = try await anonymous.com.atproto.admin.updateSubjectStatus(
            subject: subject, takedown: .init(applied: true, ref: "mod-1"), options: operatorOptions)
        let takendown = try await accountEvent(serve.url, did: did, after: activated.seq)
        #expect(!takendown.active && takendown.status == "takendown")
        await #expect { _ = try await anonymous.sync.getRepo(did: did) } throws: { Self.name($0) == "RepoTakendown" }
        await #expect { _ = try await anonymous.server.createSession(identifier: did.description, password: "pw") } throws: {
            Self.name($0) == "AccountTakedown"
        }
        let subjectStatus = try await anonymous.com.atproto.admin.getSubjectStatus(did: did, options: operatorOptions)
        #expect(subjectStatus.takedown?.applied == true && subjectStatus.takedown?.ref == "mod-1")
        // Without the admin password: refused.
        await #expect(throws: BlueskyError.self) { _ = try await anonymous.com.atproto.admin.getSubjectStatus(did: did) }
        // A takedown wins over the owner's wishes.
        await #expect { try await client.com.atproto.server.activateAccount() } throws: { Self.name($0) == "AccountTakedown" }
        _ = try await anonymous.com.atproto.admin.updateSubjectStatus(subject: subject, takedown: .init(applied: false), options: operatorOptions)
        let restored = try await accountEvent(serve.url, did: did, after: takendown.seq)
        #expect(restored.active)
        let listed = try await anonymous.com.atproto.sync.listRepos()
        #expect(listed.repos.first { $0.did == did }?.active == true)
        _ = try await anonymous.sync.getRepo(did: did)
        let relayRestored = try await accountEvent(relay.serverURL, did: did, after: relayDeactivated.seq)
        #expect(relayRestored.active)

        // Deleted by the operator: #account says so on both firehoses, and neither serves it.
        try await anonymous.com.atproto.admin.deleteAccount(did: did, options: operatorOptions)
        let deleted = try await accountEvent(serve.url, did: did, after: restored.seq)
        #expect(!deleted.active && deleted.status == "deleted")
        await #expect { _ = try await anonymous.sync.getRepo(did: did) } throws: { Self.name($0) == "RepoNotFound" }
        var relaySeen = relayRestored
        while relaySeen.status != "deleted" { relaySeen = try await accountEvent(relay.serverURL, did: did, after: relaySeen.seq) }
        #expect(!relaySeen.active)
        await #expect { _ = try await relay.sync.getRepo(did: did) } throws: { Self.name($0) == "RepoNotFound" }
        await #expect { _ = try await client.repo.createRecord(repo: .did(did), collection: post, record: record) } throws: { _ in true }
    }

    /// `bsky account status`, `deactivate`, `activate` and `delete` on the session `bsky login` stored.
    @Test func theCLIShowsAndChangesTheStatus() async throws {
        let serve = try ServeProcess()
        defer { serve.kill() }
        let name = "cli\(UInt16.random(in: 0...9999))"
        _ = try await Bluesky(serverURL: serve.url).server.createAccount(handle: try Handle("\(name).test"), email: "\(name)@example.test", password: "pw-cli")
        let config = try Tools.temporaryDirectory()
        let environment = ["BSKY_CONFIG_DIR": config.path, "BLUESKY_SERVER": serve.url.absoluteString]
        let run = { (arguments: [String]) in try await Tools.runBsky(arguments, environment: environment) }
        #expect(try await Tools.runBsky(["login", "--identifier", "\(name).test", "--password", "pw-cli"], environment: environment).status == 0)
        func status() async throws -> [String: Any] {
            let result = try await run(["account", "status", "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        }
        let first = try await status()
        #expect(first["activated"] as? Bool == true && first["validDid"] as? Bool == true && first["indexedRecords"] as? Int == 0)
        #expect(try await run(["account", "deactivate"]).stdout == "deactivated\n")
        #expect(try await status()["activated"] as? Bool == false)
        #expect(try await run(["account", "activate"]).stdout == "activated\n")
        #expect(try await status()["activated"] as? Bool == true)
        #expect(try await run(["account", "delete"]).stdout.contains("a deletion token was sent"))
        let refused = try await run(["account", "delete", "--token", "AAAAA-AAAAA", "--password", "pw-cli"])
        #expect(refused.status == 1 && refused.stderr.hasPrefix("error: InvalidToken"), "\(refused.stderr)")
    }
}

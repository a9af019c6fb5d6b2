import ATCrypto
import ATData
import ATRepo
import ATSyntax
import Bluesky
import Foundation
import Testing
import TestSupport

/// The PDS's `subscribeRepos`: read by the SDK (every commit verified down to
/// `prevData`), by the CLI, and by the Python SDK's firehose client.
@Suite("PDS firehose", .serialized)
struct PDSFirehoseTests {
    /// A fresh server per test, so that sequence numbers start at 1.
    func fresh() throws -> ServeProcess { try ServeProcess(arguments: ["--write-limit", "off"]) }
    let post = try! NSID("app.bsky.feed.post")

    func record(_ text: String) -> DataValue {
        ["$type": "app.bsky.feed.post", "text": .string(text), "createdAt": "2024-01-01T00:00:00.000Z"]
    }

    /// The first `count` events from `cursor`, within 30 seconds; `onEvent`
    /// runs after each one (to write once the stream is caught up, say).
    func events(
        _ client: Bluesky, from cursor: Int64?, count: Int, onEvent: @escaping @Sendable (Int) async throws -> Void = { _ in }
    ) async throws -> [RepoEvent] {
        try await withThrowingTaskGroup(of: [RepoEvent]?.self) { group in
            group.addTask {
                var out = [RepoEvent]()
                for try await event in client.sync.subscribeRepos(cursor: cursor) {
                    out.append(event)
                    if out.count == count { break }
                    try await onEvent(out.count)
                }
                return out
            }
            group.addTask {
                try await Task.sleep(for: .seconds(30))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let events = first else {
                throw ToolError("fewer than \(count) firehose events within 30 s")
            }
            return events
        }
    }

    @Test func everyCommitVerifiesBackToPrevData() async throws {
        let serve = try fresh()
        defer { serve.stop() }
        let base = Bluesky(serverURL: serve.url, retryConfig: .none)
        let start: Int64 = 0
        let info = try await base.server.createAccount(handle: try Handle("fire\(UInt32.random(in: 0..<UInt32.max)).test"), password: "pw")
        var client = base
        client.bearer = .token(info.accessJwt)
        // Creates, then updates and deletes in a shuffled order: inversions that split and merge nodes.
        var rkeys = [RecordKey]()
        for chunk in 0..<4 {
            let writes = try (0..<50).map { i in
                RepoWrite.create(collection: post, rkey: try RecordKey("k\(chunk)-\(i)-\(UInt16.random(in: 0...999))"), value: record("\(chunk)/\(i)"))
            }
            _ = try await client.repo.applyWrites(repo: .did(info.did), writes: writes)
            rkeys += writes.compactMap { if case .create(_, let rkey?, _) = $0 { rkey } else { nil } }
        }
        var singles = 0
        for rkey in rkeys.shuffled().prefix(40) {
            if Bool.random() {
                _ = try await client.repo.deleteRecord(repo: .did(info.did), collection: post, rkey: rkey)
            } else {
                _ = try await client.repo.putRecord(repo: .did(info.did), collection: post, rkey: rkey, record: record("updated"))
            }
            singles += 1
        }
        let key = try await DIDResolver(plcURL: serve.url).resolve(info.did).signingKey()
        let events = try await events(base, from: start, count: 2 + 4 + singles)
        #expect(events.compactMap(\.seq) == Array(start + 1...start + Int64(events.count)))
        guard case .identity(_, let did, let handle, _) = events[0], case .account(_, _, let active, _, _) = events[1] else {
            Issue.record("the account's events come first: \(events.prefix(2))")
            return
        }
        #expect(did == info.did && handle == info.handle && active)
        var previous: TID?
        for event in events.dropFirst(2) {
            guard case .commit(let commit) = event else { Issue.record("not a commit: \(event)"); continue }
            #expect(commit.repo == info.did)
            try commit.verify(with: key)
            if let previous { #expect(commit.since == previous) }
            previous = commit.rev
        }
        // The last commit is the repository's current one.
        if case .commit(let last) = events.last { #expect(last.commit == (try await base.sync.getLatestCommit(did: info.did)).cid) }
    }

    @Test func tamperedCommitsFailVerification() async throws {
        let serve = try fresh()
        defer { serve.stop() }
        let base = Bluesky(serverURL: serve.url, retryConfig: .none)
        let start: Int64 = 0
        let info = try await base.server.createAccount(handle: try Handle("tamper\(UInt32.random(in: 0..<UInt32.max)).test"), password: "pw")
        var client = base
        client.bearer = .token(info.accessJwt)
        for i in 0..<2 { _ = try await client.repo.createRecord(repo: .did(info.did), collection: post, record: record("t\(i)")) }
        let key = try await DIDResolver(plcURL: serve.url).resolve(info.did).signingKey()
        guard case .commit(let commit) = try await events(base, from: start, count: 4).last else { Issue.record("no commit"); return }
        try commit.verify(with: key)
        #expect(throws: CryptoError.self) { try commit.verify(with: try Keys.generate(.k256).publicKey) }
        var wrongPrev = commit
        wrongPrev.prevData = CID.compute(Array("elsewhere".utf8))
        #expect(throws: RepoError.self) { try wrongPrev.verify(with: key) }
        var wrongOps = commit
        wrongOps.ops = []
        #expect(throws: RepoError.self) { try wrongOps.verify(with: key) }
        var flipped = commit
        flipped.blocks[flipped.blocks.count - 5] ^= 1
        #expect(throws: (any Error).self) { try flipped.verify(with: key) }
    }

    @Test func liveEventsFutureCursorsAndTheCLI() async throws {
        let serve = try fresh()
        defer { serve.stop() }
        let base = Bluesky(serverURL: serve.url, retryConfig: .none)
        let info = try await base.server.createAccount(handle: try Handle("live\(UInt32.random(in: 0..<UInt32.max)).test"), password: "pw")
        var client = base
        client.bearer = .token(info.accessJwt)
        // Live: the commit is written only once the stream has replayed the
        // account's two events, so it arrives on the live path.
        let writer = client, did = info.did, post = self.post, value = record("live")
        let received = try await events(base, from: 0, count: 3) { seen in
            if seen == 2 { _ = try await writer.repo.createRecord(repo: .did(did), collection: post, record: value) }
        }
        guard case .commit(let commit) = received.last else { Issue.record("no commit: \(received)"); return }
        let written = try await client.sync.getLatestCommit(did: info.did)
        #expect(commit.commit == written.cid)
        #expect(commit.ops.count == 1 && commit.ops[0].action == .create)

        let future = await #expect(throws: BlueskyError.self) { _ = try await events(base, from: 1_000_000_000, count: 1) }
        #expect(future?.kind == .xrpc("FutureCursor"))

        let latest: Int64 = 3  // #identity, #account, then the commit
        let cli = try await Tools.runBsky(["sync", "subscribe", "--server", serve.url.absoluteString, "--cursor", String(latest - 1), "--count", "1"])
        #expect(cli.status == 0, "\(cli.stderr)")
        let line = try #require(try JSONSerialization.jsonObject(with: Data(cli.stdout.utf8)) as? [String: Any])
        #expect(line["seq"] as? Int == Int(latest))
        #expect(line["type"] as? String == "#commit")
    }

    @Test func thePythonFirehoseClientParsesEveryEvent() async throws {
        let serve = try fresh()
        defer { serve.stop() }
        let base = Bluesky(serverURL: serve.url, retryConfig: .none)
        let start: Int64 = 0
        let info = try await base.server.createAccount(handle: try Handle("py\(UInt32.random(in: 0..<UInt32.max)).test"), password: "pw")
        var client = base
        client.bearer = .token(info.accessJwt)
        for i in 0..<3 { _ = try await client.repo.createRecord(repo: .did(info.did), collection: post, record: record("py\(i)")) }
        let ws = serve.url.absoluteString.replacingOccurrences(of: "http://", with: "ws://") + "/xrpc"
        let result = try Processes.run(try Tools.python.get(), [Tools.scriptURL("interop/python_firehose.py").path, ws, String(start), "5"])
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        let rows = result.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(rows.map { $0["type"] as? String ?? "" } == ["#identity", "#account", "#commit", "#commit", "#commit"])
        #expect(rows.map { $0["seq"] as? Int ?? 0 } == (1...5).map { Int(start) + $0 })
        #expect(rows.dropFirst(2).allSatisfy { $0["root_is_commit"] as? Bool == true && $0["repo"] as? String == info.did.description })
    }
}

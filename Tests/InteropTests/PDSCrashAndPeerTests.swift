import ATData
import ATRepo
import ATSyntax
import Bluesky
import Foundation
import Synchronization
import Testing
import TestSupport

/// `bsky serve` killed mid-write, and a third-party client against it.
@Suite("PDS crash safety and the Python SDK", .serialized)
struct PDSCrashAndPeerTests {
    let post = try! NSID("app.bsky.feed.post")

    @Test func everyAcknowledgedWriteSurvivesSIGKILL() async throws {
        let serve = try ServeProcess(arguments: ["--write-limit", "off"])
        let base = Bluesky(serverURL: serve.url, retryConfig: .none, timeout: .seconds(10))
        let info = try await base.server.createAccount(handle: try Handle("crashy.test"), password: "pw")
        var client = base
        client.bearer = .token(info.accessJwt)
        let acknowledged = Acknowledged()
        let did = info.did, post = self.post, writerClient = client
        // Four writers, each as fast as it can, until the server dies (bounded: 2,000 writes each).
        let writers = Task {
            await withTaskGroup(of: Void.self) { group in
                for w in 0..<4 {
                    group.addTask {
                        for i in 0..<2000 {
                            let rkey = try! RecordKey("w\(w)-\(i)")
                            let value: DataValue = ["$type": "app.bsky.feed.post", "text": .string("\(w)/\(i)"), "createdAt": "2024-01-01T00:00:00.000Z"]
                            guard let out = try? await writerClient.repo.putRecord(repo: .did(did), collection: post, rkey: rkey, record: value) else { return }
                            acknowledged.add(rkey, out.cid)
                        }
                    }
                }
            }
        }
        while acknowledged.all.count < 150 { try await Task.sleep(for: .milliseconds(20)) }
        serve.kill()
        await writers.value
        let acked = acknowledged.all
        #expect(acked.count >= 150)

        let restarted = try serve.restart()
        defer { restarted.stop() }
        var after = Bluesky(serverURL: restarted.url, retryConfig: .none, timeout: .seconds(30))
        after.bearer = .token(info.accessJwt)  // the JWT secret is on disk too
        let repo = try await after.sync.repository(did: did, resolver: DIDResolver(plcURL: restarted.url))
        for (rkey, cid) in acked {
            #expect(try repo.mst.get(RepoPath(collection: post, recordKey: rkey).key) == cid, "\(rkey) was acknowledged but is gone")
        }
        // And the repository takes writes again, on a later rev.
        let next = try await after.repo.createRecord(repo: .did(did), collection: post, record: ["text": "after the crash", "createdAt": "2024-01-01T00:00:00.000Z"])
        #expect(try #require(next.commit).rev > repo.commit.rev!)
    }

    @Test func sigtermStopsCleanlyAndKeepsWrites() async throws {
        let serve = try ServeProcess()
        let base = Bluesky(serverURL: serve.url, retryConfig: .none)
        let info = try await base.server.createAccount(handle: try Handle("graceful.test"), password: "pw")
        var client = base
        client.bearer = .token(info.accessJwt)
        let out = try await client.repo.createRecord(
            repo: .did(info.did), collection: post, record: ["$type": "app.bsky.feed.post", "text": "kept", "createdAt": "2024-01-01T00:00:00.000Z"])
        // A connected firehose subscriber (it has had an event) does not hold the shutdown up.
        let (connected, signal) = AsyncStream<Void>.makeStream()
        let subscriber = Task {
            for try await _ in base.sync.subscribeRepos(cursor: 0) { signal.finish() }
        }
        for await _ in connected {}
        // `stop` sends SIGKILL if SIGTERM has not ended the server in 20 s:
        // a subscriber that held the shutdown up would show as a signal here.
        serve.stop()
        subscriber.cancel()
        #expect(serve.process.terminationReason == .exit && serve.process.terminationStatus == 0)
        let restarted = try serve.restart()
        defer { restarted.stop() }
        let again = Bluesky(serverURL: restarted.url, retryConfig: .none)
        #expect(try await again.sync.getLatestCommit(did: info.did) == out.commit)
    }

    @Test func thePythonSDKLogsInWritesAndVerifies() async throws {
        let serve = try PDSEndToEndTests.server.get()
        let base = Bluesky(serverURL: serve.url, retryConfig: .none)
        let handle = "py\(UInt32.random(in: 0..<UInt32.max)).test"
        let info = try await base.server.createAccount(handle: try Handle(handle), password: "pw-python")
        let python = try Tools.python.get()
        let script = Tools.scriptURL("interop/python_sdk_client.py")
        let result = try Processes.run(python, [script.path, serve.url.absoluteString, handle, "pw-python"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(report["did"] as? String == info.did.description)
        #expect(report["signature_valid"] as? Bool == true)
        #expect(report["record_in_car"] as? Bool == true)
        #expect(report["listed_blobs"] as? [String] == [report["blob"] as? String ?? "?"])
        // Our own view agrees with what the Python SDK wrote.
        let record = try await base.repo.getRecord(repo: .did(info.did), collection: try NSID("com.example.pin"), rkey: try RecordKey("self"))
        #expect(record.cid?.description == report["cid"] as? String)
        #expect(try await base.sync.getLatestCommit(did: info.did).cid.description == report["commit"] as? String)
    }
}

/// The writes the server answered, from several tasks.
final class Acknowledged: Sendable {
    private let writes = Mutex<[RecordKey: CID]>([:])
    func add(_ rkey: RecordKey, _ cid: CID) { writes.withLock { $0[rkey] = cid } }
    var all: [RecordKey: CID] { writes.withLock { $0 } }
}

import ATCrypto
import ATData
import ATProtoAPI
import ATRepo
import ATSyntax
import Bluesky
import Foundation
import Server
import Testing
import TestSupport

/// `bsky account migrate` between two `bsky serve --role pds` processes that
/// share one PLC directory (the first's, through `--plc-url`), with a relay
/// that follows both: an account of 10,000 records and 50 blobs moves from A
/// to B, the first run killed halfway, the second finishing the job.
@Suite("Accounts: migration", .serialized)
struct MigrationTests {
    let post = try! NSID("app.bsky.feed.post")

    static func trimmed(_ url: URL) -> String {
        var text = url.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }

    /// `count` bytes that the server takes for a PNG.
    static func png(_ seed: Int, count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(String(seed).utf8) + (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// The events of `did` on the firehose at `url` until `done` says so (30 s at most).
    func events(_ url: URL, did: DID, until done: @escaping @Sendable ([RepoEvent]) -> Bool) async throws -> [RepoEvent] {
        try await within30s("the events of \(did)") {
            var seen = [RepoEvent]()
            for try await event in Bluesky(serverURL: url).sync.subscribeRepos(cursor: 0) {
                switch event {
                case .identity(_, let who, _, _), .account(_, let who, _, _, _), .sync(_, let who, _, _):
                    guard who == did else { continue }
                case .commit(let commit):
                    guard commit.repo == did else { continue }
                default: continue
                }
                seen.append(event)
                if done(seen) { return seen }
            }
            throw ToolError("the firehose ended before the events of \(did) came")
        }
    }

    /// Runs `bsky account migrate` until its stdout has a line containing
    /// `stopAt` (then kills it), or to the end; returns its stdout and
    /// status. Once stdout says the old PDS sent a token, `token` gives the
    /// line typed at the prompt.
    func migrate(
        _ arguments: [String], stopAt: String? = nil, expectFailure: Bool = false, token: (() throws -> String)? = nil
    ) throws -> (output: String, errors: String, status: Int32) {
        let process = Process()
        process.executableURL = Tools.bsky
        process.arguments = ["account", "migrate"] + arguments
        let stdout = Pipe(), stderr = Pipe(), stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = stdin
        try process.run()
        var output = Data(), answered = false
        while true {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            output.append(chunk)
            let text = String(decoding: output, as: UTF8.self)
            if let stopAt, text.contains(stopAt) {
                kill(process.processIdentifier, SIGKILL)
                break
            }
            if !answered, let token, text.contains("sent a token") {
                answered = true
                stdin.fileHandleForWriting.write(Data((try token() + "\n").utf8))
            }
        }
        process.waitUntilExit()
        let text = String(decoding: output, as: UTF8.self)
        let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        if process.terminationStatus != 0 && stopAt == nil && !expectFailure {
            Issue.record("bsky account migrate failed: \(text)\n\(errors)")
        }
        return (text, errors, process.terminationStatus)
    }

    @Test func anAccountMovesWithItsRecordsBlobsPreferencesAndIdentity() async throws {
        let inbox = try Tools.temporaryDirectory()
        let sink = try PeerServer(script: "smtp_sink.py", arguments: [inbox.path])
        defer { sink.stop() }
        let portA = try PDSServer.freePort(host: "127.0.0.1")
        let relay = try ServeProcess(
            arguments: ["--relay-allow-private", "--plc-url", "http://127.0.0.1:\(portA)", "--relay-host-limit", "off"], role: "relay")
        defer { relay.kill() }
        let relayURL = try #require(relay.relayURL)
        let common = ["--write-limit", "off", "--crawler", relayURL.absoluteString, "--notify-interval", "1"]
        let a = try ServeProcess(
            arguments: common + ["--smtp-url", "smtp://pds:secret@127.0.0.1:\(sink["port"])", "--email-from", "a@example.test"], port: portA)
        defer { a.kill() }
        let b = try ServeProcess(arguments: common + ["--plc-url", a.url.absoluteString])
        defer { b.kill() }

        // The account on A: 10,000 records, 50 of them posts with an image, and a preference.
        let name = "mv\(UInt16.random(in: 0...9999))"
        let created = try await Bluesky(serverURL: a.url).server.createAccount(
            handle: try Handle("\(name).test"), email: "\(name)@example.test", password: "pw-move")
        let did = created.did
        let onA = Bluesky(serverURL: a.url, bearer: .token(created.accessJwt), retryConfig: .none, timeout: .seconds(120))
        var images = [DataValue]()
        for i in 0..<50 {
            let blob = try await onA.repo.uploadBlob(Self.png(i, count: 20_000), mimeType: "image/png")
            images.append([
                "$type": "app.bsky.feed.post", "text": .string("picture \(i)"), "createdAt": "2026-11-30T00:00:00Z",
                "embed": ["$type": "app.bsky.embed.images", "images": [["alt": .string("image \(i)"), "image": [
                    "$type": "blob", "ref": .link(blob.ref), "mimeType": .string(blob.mimeType), "size": .int(Int64(blob.size)),
                ]]]],
            ])
        }
        for start in stride(from: 0, to: 10_000, by: 200) {
            let writes = (start..<start + 200).map { i in
                RepoWrite.create(
                    collection: post, rkey: try! RecordKey(TID(microseconds: 1_700_000_000_000_000 + UInt64(i), clockID: 0).description),
                    value: i < 50 ? images[i] : ["$type": "app.bsky.feed.post", "text": .string("post \(i)"), "createdAt": "2026-11-30T00:00:00Z"])
            }
            _ = try await onA.repo.applyWrites(repo: .did(did), writes: writes)
        }
        _ = try await onA.call(procedure: "app.bsky.actor.putPreferences", input: ["preferences": [["$type": "app.bsky.actor.defs#adultContentPref", "enabled": true]]])
        let original = try Repository.open(car: try await onA.sync.getRepo(did: did))
        // The relay mirrors A's repository before the move.
        let head = try await onA.sync.getLatestCommit(did: did)
        _ = try await events(relayURL, did: did) { seen in
            seen.contains { if case .commit(let c) = $0 { return c.rev == head.rev } else { return false } }
        }

        // The first run, killed once the repository is imported.
        let arguments = [
            "--from", a.url.absoluteString, "--identifier", "\(name).test", "--password", "pw-move", "--to", b.url.absoluteString,
            "--new-handle", "\(name)b.test",
        ]
        let first = try migrate(arguments, stopAt: "imported the repository")
        #expect(first.output.contains("created the account \(name)b.test"))
        #expect(first.status != 0)

        // A run with a wrong --plc-token goes as far as the identity change,
        // asks for no email, and stops there with the old PDS's refusal.
        let wrong = try migrate(arguments + ["--plc-token", "AAAAA-AAAAA"], expectFailure: true)
        #expect(wrong.status == 1 && wrong.output.contains("copied 1 preferences") && !wrong.output.contains("sent a token"))
        #expect(wrong.errors.contains("error: ExpiredToken"), "\(wrong.errors)")

        // The next run finishes: the old PDS emails the token for the
        // identity change, which is typed at the prompt.
        let second = try migrate(arguments) {
            let mails = try FileManager.default.contentsOfDirectory(atPath: inbox.path).filter { $0.hasSuffix(".eml") }
            #expect(mails.count == 1)
            let mail = try String(contentsOf: inbox.appendingPathComponent(try #require(mails.first)), encoding: .utf8)
            #expect(mail.hasPrefix("\(name)@example.test\n") && mail.contains("Subject: PLC update requested"))
            return try #require(SMTPTests.token(in: mail))
        }
        for line in ["the account already exists", "the repository is already imported (10000 records)", "copied 1 preferences",
                     "sent a token to the account's email",
                     "the DID document now names \(Self.trimmed(b.url))", "activated the account", "deactivated the account", "done"] {
            #expect(second.output.contains(line), "\(line) in:\n\(second.output)")
        }

        // The DID document names B, with B's key, and B's repository verifies with it.
        let document = try await DIDResolver(plcURL: a.url).resolve(did)
        #expect(document.pdsEndpoint.map(Self.trimmed) == Self.trimmed(b.url))
        #expect(document.handle == "\(name)b.test")
        let anonymousB = Bluesky(serverURL: b.url, retryConfig: .none, timeout: .seconds(120))
        let moved = try Repository.open(car: try await anonymousB.sync.getRepo(did: did), key: try document.signingKey())
        #expect(moved.commit.data == original.commit.data)
        #expect(try moved.recordCIDs().map(\.path) == original.recordCIDs().map(\.path))
        #expect(try moved.recordCIDs().count == 10_000)

        // Every blob is on B; the preference came along.
        let listed = try await anonymousB.com.atproto.sync.listBlobs(did: did, limit: 1000).cids
        #expect(listed.count == 50)
        for cid in listed.prefix(5) { #expect(try await anonymousB.sync.getBlob(did: did, cid: cid).bytes.count > 20_000) }
        let sessionB = try await anonymousB.server.createSession(identifier: "\(name)b.test", password: "pw-move")
        let onB = Bluesky(serverURL: b.url, bearer: .token(sessionB.accessJwt), retryConfig: .none)
        let status = try await onB.com.atproto.server.checkAccountStatus()
        #expect(status.activated && status.validDid && status.expectedBlobs == 50 && status.importedBlobs == 50 && status.indexedRecords == 10_000)
        let preferences = try await onB.call(query: "app.bsky.actor.getPreferences")
        #expect(preferences["preferences"]?.arrayValue?.first?["$type"] == "app.bsky.actor.defs#adultContentPref")

        // A answers RepoDeactivated.
        await #expect { _ = try await Bluesky(serverURL: a.url, retryConfig: .none).sync.getRepo(did: did) } throws: {
            ($0 as? BlueskyError)?.name == "RepoDeactivated"
        }

        // The Python SDK logs in at B; the account is active and its DID valid.
        let python = try Tools.python.get()
        let result = try Processes.run(python, [Tools.scriptURL("interop/python_sdk_account.py").path, b.url.absoluteString, "\(name)b.test", "pw-move"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let pythonStatus = try #require(report["status"] as? [String: Any])
        #expect(report["did"] as? String == did.description)
        #expect(pythonStatus["validDid"] as? Bool == true && pythonStatus["activated"] as? Bool == true)

        // The relay passed on #identity and #account, and mirrors B's commit.
        let latest = try await onB.sync.getLatestCommit(did: did)
        let seen = try await events(relayURL, did: did) { seen in
            seen.contains { if case .sync(_, _, let rev, _) = $0 { return rev == latest.rev.description } else { return false } }
        }
        #expect(seen.contains { if case .identity(_, _, let handle, _) = $0 { return handle == "\(name)b.test" } else { return false } })
        #expect(seen.contains { if case .account(_, _, let active, _, _) = $0 { return active } else { return false } })
        let mirrored = try await Bluesky(serverURL: relayURL, retryConfig: .none).sync.getLatestCommit(did: did)
        #expect(mirrored.cid == latest.cid && mirrored.rev == latest.rev)
    }
}

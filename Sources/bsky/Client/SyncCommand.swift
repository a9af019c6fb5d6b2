import ArgumentParser
import ATCrypto
import ATData
import ATRepo
import ATSyntax
import Bluesky
import Foundation

/// `bsky sync …`: the com.atproto.sync endpoints.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Repositories, blobs and crawling (com.atproto.sync).",
        subcommands: [GetRepo.self, ListBlobs.self, NotifyOfUpdate.self, RequestCrawl.self, Subscribe.self]
    )

    struct GetRepo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "get-repo",
            abstract: "Download a repository CAR, checking every block as it arrives.",
            discussion: "Without --server, the repository comes from the PDS the account's DID document names.")

        @Argument(help: "The account's handle or DID.") var account: String
        @Option(help: "Only the blocks new since this revision (a TID).") var since: String?
        @Option(name: [.short, .customLong("output")], help: "The file to write.") var output: String
        @Flag(help: "Verify the repository: the commit's signature (key from --key or the DID document), and for a full download every MST node and record.")
        var verify = false
        @Option(help: "The signing key (did:key:…), instead of the DID document's.") var key: String?
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let identifier = try parseValue(ATIdentifier.self, account, "account")
            let since = try since.map { try parseValue(TID.self, $0, "--since") }
            let file = URL(fileURLWithPath: output)
            let bar = ProgressBar()
            let (host, did) = try await client.client(for: identifier)
            let download = try await host.sync.downloadRepo(did: did, since: since, to: file) { bar.update($0) }
            bar.finish(download)
            var report: [String: Any] = [
                "file": output, "roots": download.roots.map(\.description), "blocks": download.blocks, "bytes": download.bytes,
                "verified": false,
            ]
            if verify {
                let publicKey = try await signingKey(for: did)
                let car = try readFile(output)
                if since == nil {
                    let repo = try Repository.open(car: car, key: publicKey)
                    guard repo.did == did else { throw CLIFailure("the repository's commit is for \(repo.did), not \(did)") }
                    report["records"] = try repo.recordCIDs().count
                    report["rev"] = repo.commit.rev?.description
                    report["data"] = repo.commit.data.description
                } else {
                    // A diff has only the new blocks: check the commit's signature.
                    let commit = try CommitProof.verifyRoot(car: car, repo: did, key: publicKey)
                    report["rev"] = commit.rev?.description
                    report["data"] = commit.data.description
                }
                report["verified"] = true
                report["did"] = did.description
            }
            if client.json {
                try printJSON(report)
            } else {
                writeLine("\(output): \(download.blocks) blocks, \(download.bytes) bytes, root \(download.roots.first.map(\.description) ?? "none")")
                if verify { writeLine("verified: \(did) rev \(report["rev"] as? String ?? "?")\(report["records"].map { ", \($0) records" } ?? "")") }
            }
        }

        private func signingKey(for did: DID) async throws -> any PublicKey {
            if let key { return try Keys.publicKey(didKey: key) }
            return try await client.resolver().resolve(did).signingKey()
        }
    }

    struct ListBlobs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list-blobs", abstract: "List an account's blob CIDs, walking every page.")

        @Argument(help: "The account's DID.") var did: String
        @Option(help: "Only blobs added since this revision (a TID).") var since: String?
        @Option(help: "Blobs per page.") var limit: Int?
        @OptionGroup var client: ClientOptions

        func validate() throws {
            if let limit, !(1...1000).contains(limit) { throw ValidationError("--limit must be between 1 and 1000") }
        }

        func run() async throws {
            let did = try parseValue(DID.self, did, "DID")
            let since = try since.map { try parseValue(TID.self, $0, "--since") }
            var all = [String]()
            for try await page in try client.client().sync.listBlobs(did: did, since: since, limit: limit) {
                for cid in page.cids {
                    if client.json { all.append(cid.description) } else { writeLine(cid.description) }
                }
            }
            if client.json { try printJSON(["cids": all]) }
        }
    }

    struct NotifyOfUpdate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "notify-of-update", abstract: "Tell a relay that a host has new data.")
        @Option(help: "The host that was updated.") var hostname: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            try await client.client().sync.notifyOfUpdate(hostname: hostname)
            if client.json { try printJSON(["ok": true]) }
        }
    }

    struct RequestCrawl: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "request-crawl", abstract: "Ask a relay to crawl a host.")
        @Option(help: "The host to crawl.") var hostname: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            try await client.client().sync.requestCrawl(hostname: hostname)
            if client.json { try printJSON(["ok": true]) }
        }
    }
}

extension SyncCommand {
    struct Subscribe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "subscribe", abstract: "Print a host's repo event stream (subscribeRepos) as JSON lines.")

        @Option(help: "Start after this sequence number (default: live events only).") var cursor: Int64?
        @Option(help: "Stop after this many events.") var count: Int?
        @OptionGroup var client: ClientOptions

        func validate() throws {
            if let cursor, cursor < 0 { throw ValidationError("--cursor must not be negative") }
            if let count, count < 1 { throw ValidationError("--count must be positive") }
        }

        func run() async throws {
            var seen = 0
            for try await event in try client.client().sync.subscribeRepos(cursor: cursor) {
                try printJSON(Self.json(event))
                seen += 1
                if let count, seen >= count { return }
            }
        }

        static func json(_ event: RepoEvent) -> [String: Any] {
            switch event {
            case .commit(let c):
                return [
                    "type": "#commit", "seq": c.seq, "repo": c.repo.description, "commit": c.commit.description, "rev": c.rev.description,
                    "since": orNull(c.since?.description), "prevData": orNull(c.prevData?.description), "time": c.time, "blocks": c.blocks.count,
                    "ops": c.ops.map { op -> [String: Any] in
                        ["action": op.action.rawValue, "path": op.path.description, "cid": orNull(op.cid?.description), "prev": orNull(op.prev?.description)]
                    },
                ]
            case .identity(let seq, let did, let handle, let time):
                return ["type": "#identity", "seq": seq, "did": did.description, "handle": orNull(handle), "time": time]
            case .account(let seq, let did, let active, let status, let time):
                return ["type": "#account", "seq": seq, "did": did.description, "active": active, "status": orNull(status), "time": time]
            case .sync(let seq, let did, let rev, let time):
                return ["type": "#sync", "seq": seq, "did": did.description, "rev": rev, "time": time]
            case .info(let name, let message):
                return ["type": "#info", "name": name, "message": orNull(message)]
            case .unknown(let type, let body):
                return ["type": type, "body": String(decoding: body.jsonData(), as: UTF8.self)]
            }
        }
    }
}

/// `value`, or JSON null.
func orNull(_ value: String?) -> Any { value ?? NSNull() }

/// Download progress on stderr: redrawn in place on a terminal, one summary
/// line otherwise.
final class ProgressBar {
    private let interactive = isatty(STDERR_FILENO) == 1
    private var last = ContinuousClock.now

    func update(_ progress: DownloadProgress) {
        guard interactive, ContinuousClock.now - last > .milliseconds(100) else { return }
        last = .now
        FileHandle.standardError.write(Data("\r\u{1B}[K↓ \(Self.size(progress.bytes))  \(progress.blocks) blocks".utf8))
    }

    func finish(_ download: RepoDownload) {
        let line = "downloaded \(Self.size(download.bytes)) (\(download.bytes) bytes), \(download.blocks) blocks\n"
        FileHandle.standardError.write(Data(((interactive ? "\r\u{1B}[K" : "") + line).utf8))
    }

    static func size(_ bytes: Int) -> String {
        bytes < 1 << 20 ? String(format: "%.1f KiB", Double(bytes) / 1024) : String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }
}

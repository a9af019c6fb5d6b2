import ATData
import ATSyntax
import BenchSupport
import Bluesky
import Foundation

/// The PDS's memory with many accounts that write: `accounts` accounts of
/// `records` posts each, written 200 to an `applyWrites` call by 8 clients
/// at once, then the server's peak and current RSS. The repository writers
/// (each with its tree in memory) are an LRU cache (`--repo-cache`), so the
/// peak should not grow with the number of accounts.
enum MemoryLoad {
    static func run(base: Bluesky, pid: Int32, accounts: Int, records: Int, label: String) async throws {
        let started = ContinuousClock.now
        let post = try NSID("app.bsky.feed.post")
        var made = [(client: Bluesky, did: DID)]()
        for i in 0..<accounts {
            let info = try await base.server.createAccount(handle: try Handle("mem\(i).test"), password: "pw")
            var client = base
            client.bearer = .token(info.accessJwt)
            made.append((client, info.did))
        }
        let created = ContinuousClock.now
        let next = Counter(), targets = made
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    while let index = next.take(below: targets.count) {
                        let (client, did) = targets[index]
                        for start in stride(from: 0, to: records, by: 200) {
                            let writes = (start..<min(start + 200, records)).map { i in
                                RepoWrite.create(
                                    collection: post, rkey: try! RecordKey(TID(microseconds: 1_700_000_000_000_000 + UInt64(i), clockID: 0).description),
                                    value: ["$type": "app.bsky.feed.post", "text": .string("post \(i) of account \(index)"), "createdAt": "2024-01-01T00:00:00.000Z"])
                            }
                            _ = try await client.repo.applyWrites(repo: .did(did), writes: writes, validate: false)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        Bench.report([
            "name": "\(label).memory", "accounts": accounts, "records_each": records,
            "create_seconds": (created - started).seconds, "write_seconds": (ContinuousClock.now - created).seconds,
            "server_peak_rss_mb": peakRSS(pid), "server_rss_mb": currentRSS(pid),
        ])
    }

    /// Hands out indices to the clients, once each.
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func take(below limit: Int) -> Int? {
            lock.lock()
            defer { lock.unlock() }
            guard value < limit else { return nil }
            value += 1
            return value - 1
        }
    }

    /// A process's resident memory now, in MB.
    static func currentRSS(_ pid: Int32) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return -1 }
        return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
    }
}

import ATData
import ATSyntax
import BenchSupport
import Bluesky
import Foundation
import Server

// Release-mode relay ingest, two `bsky serve` processes on loopback:
//   (1) catch-up: the relay is stopped while the PDS takes N commits from K
//       accounts, then restarted; it reads the backlog from its cursor and
//       verifies (signature, inversion to prevData, block hashes) and stores
//       every commit. Commits per second, from start to caught up, and the
//       relay's CPU time per commit.
//   (2) end-to-end latency: one write at a time on the PDS, timed until the
//       relay's own firehose carries it. p50 and p99.
// Anchors in the same run: the PDS's write rate (the relay must outpace it),
// and the Python atproto SDK's firehose client parsing the same backlog
// (parsing only, no verification).
// scripts/bench-relay builds this and runs it; it prints JSON lines, then a summary.
//
//   RelayBench --bsky PATH --python PATH --firehose SCRIPT [--commits 20000] [--accounts 50] [--latency 300] [--curve k256|p256]

let arguments = Bench.arguments(
    usage: "RelayBench --bsky PATH --python PATH --firehose SCRIPT [--commits N] [--accounts N] [--latency N] [--curve k256|p256]",
    required: ["bsky", "python", "firehose"])
let (bsky, python, firehoseScript) = (arguments["bsky"]!, arguments["python"]!, arguments["firehose"]!)
let commits = Int(arguments["commits"] ?? "") ?? 20_000
let accountCount = Int(arguments["accounts"] ?? "") ?? 50
let latencySamples = Int(arguments["latency"] ?? "") ?? 300
/// The curve of the accounts' signing keys: k256 (as the network) or p256.
let curve = arguments["curve"] ?? "k256"

let post = try NSID("app.bsky.feed.post")
func record(_ i: Int) -> DataValue {
    ["$type": "app.bsky.feed.post", "text": .string("relay benchmark post \(i)"), "createdAt": "2024-01-01T00:00:00.000Z"]
}

/// `bsky serve` with `arguments`; returns the process and the URL of its ready line.
func serve(_ arguments: [String]) throws -> (Process, URL) {
    let (process, line) = try Bench.start(bsky, ["serve"] + arguments)
    return (process, try Bench.url(in: line))
}

/// User plus system CPU seconds of a process so far.
func cpuSeconds(_ pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return -1 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    return ((Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

// MARK: Set-up: a PDS, a relay, K accounts mirrored

let root = FileManager.default.temporaryDirectory.appendingPathComponent("relaybench-\(UUID())")
let pdsPort = try PDSServer.freePort(host: "127.0.0.1"), relayPort = try PDSServer.freePort(host: "127.0.0.1")
let pdsURL = URL(string: "http://127.0.0.1:\(pdsPort)")!
let relayArguments = [
    "--role", "relay", "--relay-port", String(relayPort), "--data", root.appendingPathComponent("relay").path, "--plc-url", pdsURL.absoluteString,
    "--relay-allow-private", "--relay-host-limit", "off",
]
var (relay, relayURL) = try serve(relayArguments)
let (pds, _) = try serve([
    "--role", "pds", "--port", String(pdsPort), "--data", root.appendingPathComponent("pds").path, "--write-limit", "off",
    "--bcrypt-cost", "4", "--crawler", relayURL.absoluteString, "--signing-curve", curve,
])
let base = Bluesky(serverURL: pdsURL, retryConfig: .none, timeout: .seconds(120))
let relayClient = Bluesky(serverURL: relayURL, retryConfig: .none, timeout: .seconds(120))
var accounts = [(client: Bluesky, did: DID)]()
for i in 0..<accountCount {
    let info = try await base.server.createAccount(handle: try Handle("relaybench\(i).test"), password: "pw")
    var client = base
    client.bearer = .token(info.accessJwt)
    _ = try await client.repo.createRecord(repo: .did(info.did), collection: post, record: record(-1))
    accounts.append((client, info.did))
}

/// Waits until the relay's cursor for the PDS reaches the PDS's latest event.
func waitForRelay(seq: Int64, timeout: Double = 600) async throws -> Duration {
    let started = ContinuousClock.now
    while (ContinuousClock.now - started).seconds < timeout {
        if let status = try? await relayClient.sync.getHostStatus(hostname: "127.0.0.1:\(pdsPort)"), (status.seq ?? 0) >= seq {
            return ContinuousClock.now - started
        }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw CocoaError(.fileReadUnknown)
}

_ = try await waitForRelay(seq: Int64(3 * accountCount))

// MARK: (1) Catch-up

relay.terminate()
relay.waitUntilExit()
let writeStart = ContinuousClock.now
try await withThrowingTaskGroup(of: Void.self) { group in
    for (index, account) in accounts.enumerated() {
        group.addTask {
            for i in stride(from: index, to: commits, by: accountCount) {
                _ = try await account.client.repo.createRecord(repo: .did(account.did), collection: post, record: record(i))
            }
        }
    }
    try await group.waitForAll()
}
let writeSeconds = (ContinuousClock.now - writeStart).seconds
Bench.report(["name": "pds.writes", "curve": curve, "commits": commits, "seconds": writeSeconds, "per_second": Double(commits) / writeSeconds])
let target = Int64(3 * accountCount + commits)

(relay, relayURL) = try serve(relayArguments)
let (cpuBefore, pdsCPUBefore) = (cpuSeconds(relay.processIdentifier), cpuSeconds(pds.processIdentifier))
let caughtUp = try await waitForRelay(seq: target)
let cpu = cpuSeconds(relay.processIdentifier) - cpuBefore, pdsCPU = cpuSeconds(pds.processIdentifier) - pdsCPUBefore
Bench.report([
    "name": "relay.catchup", "curve": curve, "commits": commits, "seconds": caughtUp.seconds, "per_second": Double(commits) / caughtUp.seconds,
    "cpu_seconds": cpu, "cpu_us_per_commit": cpu / Double(commits) * 1e6, "pds_cpu_seconds": pdsCPU,
])

// The mirrors agree with the PDS.
var mismatched = 0
for account in accounts {
    let a = try await base.sync.getLatestCommit(did: account.did), b = try await relayClient.sync.getLatestCommit(did: account.did)
    if a.cid != b.cid { mismatched += 1 }
}
Bench.report(["name": "relay.agreement", "accounts": accounts.count, "mismatched": mismatched])

// MARK: Anchor: the Python SDK's firehose client parsing the same backlog

let ws = pdsURL.absoluteString.replacingOccurrences(of: "http://", with: "ws://") + "/xrpc"
let pythonRun = Process()
pythonRun.executableURL = URL(fileURLWithPath: python)
pythonRun.arguments = [firehoseScript, ws, String(3 * accountCount), String(commits)]
pythonRun.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
pythonRun.standardError = FileHandle(forWritingAtPath: "/dev/null")
let pythonStart = ContinuousClock.now
try pythonRun.run()
pythonRun.waitUntilExit()
let pythonSeconds = (ContinuousClock.now - pythonStart).seconds
Bench.report([
    "name": "python.atproto.parse", "commits": commits, "seconds": pythonSeconds, "per_second": Double(commits) / pythonSeconds,
    "status": Int(pythonRun.terminationStatus),
])

// MARK: (2) End-to-end latency

final class Arrivals: @unchecked Sendable {
    let lock = NSLock()
    var times = [CID: ContinuousClock.Instant]()
    func add(_ cid: CID) { lock.withLock { times[cid] = .now } }
    func time(_ cid: CID) -> ContinuousClock.Instant? { lock.withLock { times[cid] } }
}
let arrivals = Arrivals()
let listener = Task {
    for try await event in relayClient.sync.subscribeRepos() {
        if case .commit(let commit) = event { arrivals.add(commit.commit) }
    }
}
try await Task.sleep(for: .milliseconds(500))
var latencies = [Double]()
for i in 0..<latencySamples {
    let account = accounts[i % accounts.count]
    let begin = ContinuousClock.now
    let output = try await account.client.repo.createRecord(repo: .did(account.did), collection: post, record: record(commits + i))
    let commit = output.commit!.cid
    while arrivals.time(commit) == nil, (ContinuousClock.now - begin).seconds < 10 { try await Task.sleep(for: .microseconds(200)) }
    if let arrived = arrivals.time(commit) { latencies.append((arrived - begin).seconds * 1000) }
}
listener.cancel()
let sorted = latencies.sorted()
func percentile(_ values: [Double], _ p: Double) -> Double { values.isEmpty ? -1 : values[min(values.count - 1, Int(Double(values.count) * p))] }
Bench.report([
    "name": "relay.latency", "samples": sorted.count, "p50_ms": percentile(sorted, 0.5), "p99_ms": percentile(sorted, 0.99),
    "max_ms": sorted.last ?? -1,
])

relay.terminate()
pds.terminate()
relay.waitUntilExit()
pds.waitUntilExit()
try? FileManager.default.removeItem(at: root)

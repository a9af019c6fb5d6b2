import ATCrypto
import ATData
import ATRepo
import ATSyntax
import BenchSupport
import Bluesky
import Foundation

// Release-mode load on `bsky serve` over loopback, with arroba (PyPI) beside it:
//   (1) putRecord from 16 concurrent clients with durable writes: throughput and p99;
//   (2) getRepo export of a 100k-record repository: MB/s, and the server's peak memory
//       for a 10k and a 100k export (flat means the export streams);
//   (wrk) with --only wrk: createRecord under wrk, one account over 16 connections and
//       16 accounts over one each (Wrk.swift);
//   (memory) with --only memory: 2,000 accounts of 1,000 records each, written; the server's RSS
//       (Memory.swift);
//   (export) with --only export: a 100k-record repository, imported, then read back by
//       getRepo three times, by the SDK (every block checked) and by curl (the server alone);
//   (3) importRepo of 10k-, 100k- (~22 MB) and 300k-record repositories: seconds, MB/s, and
//       the server's peak memory after each (flat means the import is staged on disk).
// scripts/bench-pds builds this and runs it; it prints JSON lines, then a summary.
//
//   PDSBench --bsky PATH --python PATH --arroba SCRIPT [--clients 16] [--seconds 5] [--records 100000]
//            [--synchronous FULL|NORMAL] [--only put|import|wrk|memory|export] [--accounts N --records-each N]

let arguments = Bench.arguments(
    usage: "PDSBench --bsky PATH --python PATH --arroba SCRIPT [--clients N] [--seconds N] [--records N] [--synchronous FULL|NORMAL] [--only put|import|wrk|memory|export] [--accounts N --records-each N]",
    required: ["bsky", "python", "arroba"])
let (bsky, python, arrobaScript) = (arguments["bsky"]!, arguments["python"]!, arguments["arroba"]!)
let clients = Int(arguments["clients"] ?? "") ?? 16
let seconds = Double(arguments["seconds"] ?? "") ?? 5
let bigRepo = Int(arguments["records"] ?? "") ?? 100_000
/// SQLite's durability: FULL (fsync at every commit, the default here) or NORMAL.
let synchronous = arguments["synchronous"] ?? "FULL"

let post = try NSID("app.bsky.feed.post")
func record(_ i: Int) -> DataValue {
    ["$type": "app.bsky.feed.post", "text": .string("benchmark post \(i)"), "createdAt": "2024-01-01T00:00:00.000Z"]
}

// MARK: (1) putRecord throughput and latency

func putLoad(label: String, targets: [(client: Bluesky, did: DID)]) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    let started = ContinuousClock.now
    let results = try await withThrowingTaskGroup(of: ([Double], [String]).self) { group in
        for (index, target) in targets.enumerated() {
            group.addTask {
                var out = [Double](), errors = [String](), i = 0
                while ContinuousClock.now < deadline {
                    let rkey = try RecordKey("c\(index)-\(i)")
                    let begin = ContinuousClock.now
                    do {
                        _ = try await target.client.repo.putRecord(repo: .did(target.did), collection: post, rkey: rkey, record: record(i))
                        out.append((ContinuousClock.now - begin).seconds * 1000)
                    } catch {
                        errors.append("\(error)")
                    }
                    i += 1
                }
                return (out, errors)
            }
        }
        return try await group.reduce(into: ([Double](), [String]())) { $0.0 += $1.0; $0.1 += $1.1 }
    }
    let latencies = results.0.sorted()
    guard !latencies.isEmpty else {
        Bench.report(["name": "\(label).putRecord", "errors": results.1.count, "first_error": results.1.first ?? ""])
        return
    }
    let elapsed = (ContinuousClock.now - started).seconds
    func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
    Bench.report([
        "name": "\(label).putRecord", "clients": targets.count, "writes": latencies.count, "seconds": elapsed,
        "per_second": Double(latencies.count) / elapsed, "p50_ms": percentile(0.5), "p99_ms": percentile(0.99),
        "errors": results.1.count, "first_error": results.1.first ?? "",
    ])
}

// MARK: (2) getRepo export

func export(label: String, client: Bluesky, did: DID, pid: Int32?) async throws {
    let started = ContinuousClock.now
    var reader = try await client.sync.streamRepo(did: did, options: CallOptions(timeout: .seconds(600)))
    _ = try await reader.header()
    while try await reader.next() != nil {}
    let elapsed = (ContinuousClock.now - started).seconds
    var fields: [String: Any] = [
        "name": "\(label).getRepo", "bytes": reader.byteCount, "blocks": reader.blockCount, "seconds": elapsed,
        "mb_per_second": Double(reader.byteCount) / elapsed / 1e6,
    ]
    if let pid { fields["server_peak_rss_mb"] = peakRSS(pid) }
    Bench.report(fields)
}

/// The high-water mark of a process's resident memory, in MB.
func peakRSS(_ pid: Int32) -> Double {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
    else { return -1 }
    return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
}

// MARK: (3) importRepo

/// A post of about 130 bytes: 100,000 of them make a CAR of about 22 MB.
func longRecord(_ i: Int) -> DataValue {
    [
        "$type": "app.bsky.feed.post", "createdAt": "2024-01-01T00:00:00.000Z", "langs": ["en"],
        "text": .string("imported post \(i): the quick brown fox jumps over the lazy dog"),
    ]
}

/// Imports a repository of `size` records into a new, deactivated account,
/// signed with the account's key from the server's data directory; returns
/// the account's client and DID.
@discardableResult
func importLoad(size: Int, base: Bluesky, data: URL, pid: Int32) async throws -> (Bluesky, DID) {
    let info = try await base.server.createAccount(handle: try Handle("import\(size).test"), password: "pw")
    var client = base
    client.bearer = .token(info.accessJwt)
    try await client.com.atproto.server.deactivateAccount()
    let keyFile = data.appendingPathComponent("secrets/keys/" + info.did.description.replacingOccurrences(of: ":", with: "_") + ".key")
    let key = try Keys.privateKey(multibase: String(decoding: try Data(contentsOf: keyFile), as: UTF8.self))
    let clock = TIDClock(), store = MemoryBlockStore()
    let writes = (0..<size).map {
        RecordWrite.create(
            RepoPath(collection: post, recordKey: try! RecordKey(TID(microseconds: 1_700_000_000_000_000 + UInt64($0), clockID: 0).description)),
            longRecord($0))
    }
    let repo = try Repository.create(did: info.did, key: key, rev: clock.next(), store: store)
    let car = try repo.applying(writes, key: key, rev: clock.next(), store: store).0.exportCAR()
    let started = ContinuousClock.now
    try await client.com.atproto.repo.importRepo(body: car, options: CallOptions(timeout: .seconds(600)))
    let elapsed = (ContinuousClock.now - started).seconds
    let status = try await client.com.atproto.server.checkAccountStatus()
    guard status.indexedRecords == size else { throw BenchFailure("the import of \(size) records indexed \(status.indexedRecords)") }
    Bench.report([
        "name": "bsky.\(size).importRepo", "records": size, "bytes": car.count, "seconds": elapsed,
        "mb_per_second": Double(car.count) / elapsed / 1e6, "server_peak_rss_mb": peakRSS(pid),
    ])
    return (client, info.did)
}

/// `getRepo` read by curl into /dev/null: the server's speed, without a
/// client that checks every block.
func rawExport(label: String, url: URL, did: DID, pid: Int32) throws {
    let curl = Process()
    curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    curl.arguments = ["-sS", "-o", "/dev/null", "-w", "%{size_download} %{time_total} %{http_code}",
                      url.appendingPathComponent("xrpc/com.atproto.sync.getRepo").absoluteString + "?did=\(did)"]
    let out = Pipe()
    curl.standardOutput = out
    try curl.run()
    curl.waitUntilExit()
    let fields = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: " ")
    guard fields.count == 3, fields[2] == "200", let bytes = Double(fields[0]), let seconds = Double(fields[1]) else {
        throw BenchFailure("curl getRepo: \(fields)")
    }
    Bench.report([
        "name": "\(label).getRepo.raw", "bytes": Int(bytes), "seconds": seconds, "mb_per_second": bytes / seconds / 1e6,
        "server_peak_rss_mb": peakRSS(pid),
    ])
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

// MARK: Servers

func startServe(data: URL) throws -> (Process, URL) {
    let (process, line) = try Bench.start(bsky, [
        "serve", "--role", "pds", "--port", "0", "--data", data.path, "--write-limit", "off", "--get-repo-limit", "off", "--synchronous", synchronous,
        "--bcrypt-cost", "4",
    ])
    return (process, try Bench.url(in: line))
}

func startArroba(records: Int) throws -> (Process, [String: String]) {
    let (process, line) = try Bench.start(python, [arrobaScript, "--records", String(records)], stdin: true)
    return (process, try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: String])
}

// MARK: Run

let data = FileManager.default.temporaryDirectory.appendingPathComponent("pdsbench-\(UUID())")
try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
var (serve, url) = try startServe(data: data)
if arguments["only"] == "memory" {
    let base = Bluesky(serverURL: url, retryConfig: .none, timeout: .seconds(120))
    try await MemoryLoad.run(
        base: base, pid: serve.processIdentifier, accounts: Int(arguments["accounts"] ?? "") ?? 2000, records: Int(arguments["records-each"] ?? "") ?? 1000,
        label: "bsky")
    serve.terminate()
    serve.waitUntilExit()
    try? FileManager.default.removeItem(at: data)
    exit(0)
}
if arguments["only"] == "wrk" {
    try await WrkLoad.run(base: Bluesky(serverURL: url, retryConfig: .none, timeout: .seconds(120)), seconds: Int(seconds), label: "bsky", handles: "wrk", synchronous: synchronous)
    serve.terminate()
    serve.waitUntilExit()
    // The anchor: arroba (in memory, not durable) under the same script, one account over 16 connections.
    let (arroba, info) = try startArroba(records: 0)
    let anchor = try WrkLoad.wait([
        try WrkLoad.start(url: URL(string: info["url"]!)!, account: (try DID(info["did"]!), info["token"]!), threads: 2, connections: 16, seconds: Int(seconds))
    ])[0]
    Bench.report([
        "name": "arroba.wrk.oneAccount", "connections": 16, "requests": anchor.requests, "per_second": anchor.perSecond,
        "p50_ms": anchor.p50, "p99_ms": anchor.p99, "errors": anchor.errors,
    ])
    arroba.terminate()
    try? FileManager.default.removeItem(at: data)
    exit(0)
}
if arguments["only"] == "export" {
    // One repository of `bigRepo` records, imported, then read back three
    // times by the SDK (which checks every block) and by curl, from a fresh process.
    let base = Bluesky(serverURL: url, retryConfig: .none, timeout: .seconds(600))
    let (client, did) = try await importLoad(size: bigRepo, base: base, data: data, pid: serve.processIdentifier)
    try await client.com.atproto.server.activateAccount()
    serve.terminate()
    serve.waitUntilExit()
    (serve, url) = try startServe(data: data)
    let reader = Bluesky(serverURL: url, retryConfig: .none, timeout: .seconds(600))
    for run in 1...3 {
        try await export(label: "bsky.export\(run)", client: reader, did: did, pid: serve.processIdentifier)
        try rawExport(label: "bsky.export\(run)", url: url, did: did, pid: serve.processIdentifier)
    }
    serve.terminate()
    serve.waitUntilExit()
    try? FileManager.default.removeItem(at: data)
    exit(0)
}
let base = Bluesky(serverURL: url, retryConfig: .none, timeout: .seconds(120))
var targets = [(client: Bluesky, did: DID)]()
for i in 0..<clients {
    let info = try await base.server.createAccount(handle: try Handle("bench\(i).test"), password: "pw")
    var client = base
    client.bearer = .token(info.accessJwt)
    targets.append((client, info.did))
}
if arguments["only"] != "import" { try await putLoad(label: "bsky", targets: targets) }
if arguments["only"] == "put" {
    serve.terminate()
    exit(0)
}

// Imports into a fresh process, so that its peak memory is theirs alone.
serve.terminate()
serve.waitUntilExit()
(serve, url) = try startServe(data: data)
let importer = Bluesky(serverURL: url, retryConfig: .none, timeout: .seconds(600))
Bench.report(["name": "bsky.import.idle", "server_peak_rss_mb": peakRSS(serve.processIdentifier)])
// Three sizes: the peak memory after the largest should be that after the middle one.
for size in [10_000, bigRepo, 3 * bigRepo] { try await importLoad(size: size, base: importer, data: data, pid: serve.processIdentifier) }
if arguments["only"] == "import" {
    serve.terminate()
    exit(0)
}

// Repositories of 10k and `bigRepo` records, written 200 to a commit, on the
// server that now runs (the import phase started another, on another port).
var exports = [(did: DID, records: Int)]()
let writer = Bluesky(serverURL: url, retryConfig: .none, timeout: .seconds(120))
for size in [10_000, bigRepo] {
    let info = try await writer.server.createAccount(handle: try Handle("export\(size).test"), password: "pw")
    var client = writer
    client.bearer = .token(info.accessJwt)
    for start in stride(from: 0, to: size, by: 200) {
        let writes = (start..<min(start + 200, size)).map {
            RepoWrite.create(collection: post, rkey: try! RecordKey(TID(microseconds: 1_700_000_000_000_000 + UInt64($0), clockID: 0).description), value: record($0))
        }
        _ = try await client.repo.applyWrites(repo: .did(info.did), writes: writes, validate: false)
    }
    exports.append((info.did, size))
}
// A fresh process, so that its memory reflects the exports alone.
serve.terminate()
serve.waitUntilExit()
(serve, url) = try startServe(data: data)
let reader = Bluesky(serverURL: url, retryConfig: .none, timeout: .seconds(600))
Bench.report(["name": "bsky.idle", "server_peak_rss_mb": peakRSS(serve.processIdentifier)])
for (did, size) in exports {
    try await export(label: "bsky.\(size)", client: reader, did: did, pid: serve.processIdentifier)
}
serve.terminate()
serve.waitUntilExit()

// arroba: one repository of 10k records, putRecord from the same clients, getRepo.
let (arroba, info) = try startArroba(records: 10_000)
var arrobaClient = Bluesky(serverURL: URL(string: info["url"]!)!, bearer: .token(info["token"]!), retryConfig: .none, timeout: .seconds(600))
arrobaClient.bearer = .token(info["token"]!)
let arrobaDID = try DID(info["did"]!)
try await export(label: "arroba.10000", client: arrobaClient, did: arrobaDID, pid: arroba.processIdentifier)
try await putLoad(label: "arroba", targets: Array(repeating: (arrobaClient, arrobaDID), count: clients).enumerated().map { ($0.element.0, $0.element.1) })
arroba.terminate()
try? FileManager.default.removeItem(at: data)

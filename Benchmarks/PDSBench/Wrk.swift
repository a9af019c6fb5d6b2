import ATSyntax
import BenchSupport
import Bluesky
import Foundation

/// `createRecord` under wrk (a Debian package) with `Benchmarks/wrk/create_record.lua`,
/// against a fresh `bsky serve` (K-256 account keys, every write acknowledged
/// once durable): one account over 16 connections, then 16 accounts over one
/// connection each (16 wrk processes at once).
enum WrkLoad {
    /// What one wrk process printed.
    struct Result {
        var requests: Int
        var seconds: Double
        var perSecond: Double
        var p50: Double
        var p99: Double
        var errors: Int
    }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("wrk/create_record.lua").path

    /// Runs both loads and reports them.
    static func run(base: Bluesky, seconds: Int, label: String, handles: String, synchronous: String) async throws {
        let one = try await account(base, handle: "\(handles)0.test")
        let single = try wait([try start(url: base.serverURL, account: one, threads: 2, connections: 16, seconds: seconds)])[0]
        Bench.report([
            "name": "\(label).wrk.oneAccount", "connections": 16, "requests": single.requests, "seconds": single.seconds,
            "per_second": single.perSecond, "p50_ms": single.p50, "p99_ms": single.p99, "errors": single.errors, "synchronous": synchronous,
        ])
        var accounts = [(DID, String)]()
        for i in 1...16 { accounts.append(try await account(base, handle: "\(handles)\(i).test")) }
        let results = try wait(try accounts.map { try start(url: base.serverURL, account: $0, threads: 1, connections: 1, seconds: seconds) })
        let p50s = results.map(\.p50).sorted()
        Bench.report([
            "name": "\(label).wrk.sixteenAccounts", "connections": 16, "requests": results.map(\.requests).reduce(0, +),
            "per_second": results.map(\.perSecond).reduce(0, +), "p50_ms": p50s[p50s.count / 2],
            "p99_ms": results.map(\.p99).max() ?? 0, "errors": results.map(\.errors).reduce(0, +), "synchronous": synchronous,
        ])
    }

    static func account(_ base: Bluesky, handle: String) async throws -> (DID, String) {
        let info = try await base.server.createAccount(handle: try Handle(handle), password: "pw")
        return (info.did, info.accessJwt)
    }

    static func start(url: URL, account: (DID, String), threads: Int, connections: Int, seconds: Int) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "wrk", "-t\(threads)", "-c\(connections)", "-d\(seconds)s", "--latency", "-s", script,
            url.absoluteString.hasSuffix("/") ? String(url.absoluteString.dropLast()) : url.absoluteString,
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["REPO"] = account.0.description
        environment["BEARER"] = account.1
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        return (process, pipe)
    }

    static func wait(_ processes: [(Process, Pipe)]) throws -> [Result] {
        try processes.map { process, pipe in
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard process.terminationStatus == 0, let result = parse(output) else { throw BenchFailure("wrk failed:\n\(output)") }
            return result
        }
    }

    /// The figures of wrk's `--latency` report.
    static func parse(_ output: String) -> Result? {
        var result = Result(requests: 0, seconds: 0, perSecond: 0, p50: -1, p99: -1, errors: -1)
        for line in output.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = words.first else { continue }
            switch first {
            case "50%": result.p50 = milliseconds(words.last ?? "") ?? -1
            case "99%": result.p99 = milliseconds(words.last ?? "") ?? -1
            case "Requests/sec:": result.perSecond = Double(words.last ?? "") ?? 0
            default:
                if first.hasPrefix("non2xx_or_errors=") { result.errors = Int(first.dropFirst("non2xx_or_errors=".count)) ?? -1 }
                if words.count >= 4, words[1] == "requests", words[2] == "in", let n = Int(first) {
                    result.requests = n
                    result.seconds = Double(words[3].dropLast(2)) ?? 0  // "10.01s,"
                }
            }
        }
        return result.perSecond > 0 && result.p99 >= 0 && result.errors >= 0 ? result : nil
    }

    /// wrk's durations: `950.00us`, `9.69ms`, `1.02s`.
    static func milliseconds(_ text: Substring) -> Double? {
        if text.hasSuffix("us") { return Double(text.dropLast(2)).map { $0 / 1000 } }
        if text.hasSuffix("ms") { return Double(text.dropLast(2)) }
        if text.hasSuffix("m") { return Double(text.dropLast(1)).map { $0 * 60_000 } }
        if text.hasSuffix("s") { return Double(text.dropLast(1)).map { $0 * 1000 } }
        return nil
    }
}

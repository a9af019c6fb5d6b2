import Foundation
import Synchronization

/// What `/proc` says about a process (Linux): its resident memory and its
/// open file descriptors, for tests that check that a server stays within
/// bounds while a hostile peer pushes at it.
enum ProcessProbe {
    /// The resident set size of `pid` in bytes (`VmRSS`), `nil` once it is gone.
    static func residentBytes(of pid: Int32) -> Int? { statusField("VmRSS", of: pid) }

    /// The highest resident set size of `pid` so far, in bytes (`VmHWM`):
    /// catches a peak that falls between two samples.
    static func peakResidentBytes(of pid: Int32) -> Int? { statusField("VmHWM", of: pid) }

    /// The number of open file descriptors of `pid` (entries of `/proc/PID/fd`).
    static func openFileCount(of pid: Int32) -> Int? {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd"))?.count
    }

    /// The processes whose parent is `pid` (from `/proc/*/stat`). A server
    /// has none, but a Swift process that crashes runs `swift-backtrace` as
    /// its child until the backtrace is written (seconds): that is how a
    /// crash shows before the process is gone.
    static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let child = Int32(entry), let handle = FileHandle(forReadingAtPath: "/proc/\(entry)/stat") else { return nil }
            defer { try? handle.close() }
            // pid (comm) state ppid …; comm may hold spaces and parentheses.
            guard let data = try? handle.readToEnd(), let close = data.lastIndex(of: UInt8(ascii: ")")) else { return nil }
            let fields = String(decoding: data[(close + 1)...], as: UTF8.self).split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == pid ? child : nil
        }
    }

    /// A `kB` field of `/proc/PID/status`, in bytes. The file is read to its
    /// end with `FileHandle`: `/proc` files report a size of 0.
    static func statusField(_ name: String, of pid: Int32) -> Int? {
        guard let handle = FileHandle(forReadingAtPath: "/proc/\(pid)/status") else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.readToEnd() else { return nil }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix(name + ":") {
            return Int(line.dropFirst(name.count + 1).filter(\.isNumber)).map { $0 * 1024 }
        }
        return nil
    }

    /// `bytes` in MiB, for messages.
    /// Bytes the process has read with read(2) and its kind (sockets
    /// included): `rchar` of `/proc/PID/io`.
    static func bytesRead(by pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("rchar:") })
        else { return nil }
        return Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
    }

    static func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
}

/// Samples a process's resident memory every `interval` in the background,
/// from creation until ``stop()``.
final class RSSSampler: Sendable {
    /// What the samples found.
    struct Summary: Sendable, CustomStringConvertible {
        /// The highest sampled `VmRSS`, in bytes.
        var sampledPeak = 0
        /// `VmHWM` when sampling stopped: the peak since the process started.
        var highWaterMark = 0
        /// The number of samples taken.
        var samples = 0
        /// The larger of the two peaks.
        var peak: Int { max(sampledPeak, highWaterMark) }
        var description: String {
            let (top, sampled, mark) = (ProcessProbe.mib(peak), ProcessProbe.mib(sampledPeak), ProcessProbe.mib(highWaterMark))
            return "peak \(top) (sampled \(sampled) over \(samples) samples, VmHWM \(mark))"
        }
    }

    let pid: Int32
    private let summary = Mutex(Summary())
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(pid: Int32, interval: Duration = .milliseconds(100)) {
        self.pid = pid
        let sampling = Task { [self] in
            while !Task.isCancelled {
                sample()
                try? await Task.sleep(for: interval)
            }
        }
        task.withLock { $0 = sampling }
    }

    private func sample() {
        guard let rss = ProcessProbe.residentBytes(of: pid) else { return }
        summary.withLock { state in
            state.sampledPeak = max(state.sampledPeak, rss)
            state.samples += 1
        }
    }

    /// The summary so far, without stopping.
    var current: Summary { summary.withLock { $0 } }

    /// Stops sampling; returns the peaks.
    @discardableResult
    func stop() -> Summary {
        task.withLock { $0 }?.cancel()
        sample()
        let mark = ProcessProbe.peakResidentBytes(of: pid) ?? 0
        return summary.withLock { state in
            state.highWaterMark = max(state.highWaterMark, mark)
            return state
        }
    }

    deinit { task.withLock { $0 }?.cancel() }
}

/// Polls `condition` every `interval` until it holds or `seconds` have
/// passed; returns whether it held. For waiting on events (a request
/// counter, the relay's state through its API), not for fixed sleeps.
func eventually(
    within seconds: Double, every interval: Duration = .milliseconds(100), _ condition: () async -> Bool
) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
        if await condition() { return true }
        if Date() >= deadline || Task.isCancelled { return false }
        try? await Task.sleep(for: interval)
    }
}

/// Waits out an attack in progress, for at most `limit` seconds: until
/// `ended()` holds (then `grace` seconds more, for the victim to take in
/// what it was sent), or until `progress()` has not moved for `stall`
/// seconds (the victim stopped reading). Returns why it stopped waiting.
@discardableResult
func waitOutAttack(
    limit: Double, grace: Double = 2, stall: Double = 4, progress: () -> Int, ended: () -> Bool
) async -> String {
    let start = Date(), deadline = start.addingTimeInterval(limit)
    var last = progress(), lastMove = Date()
    while Date() < deadline {
        if Task.isCancelled { return "cancelled" }
        if ended() {
            try? await Task.sleep(for: .seconds(max(0, min(grace, deadline.timeIntervalSinceNow))))
            return "ended after \(String(format: "%.1f", Date().timeIntervalSince(start))) s"
        }
        let now = progress()
        if now != last { (last, lastMove) = (now, Date()) }
        if Date().timeIntervalSince(lastMove) > stall { return "no progress for \(Int(stall)) s" }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return "limit of \(Int(limit)) s reached"
}

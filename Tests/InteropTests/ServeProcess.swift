import Foundation
import Synchronization
import TestSupport

/// Servers this test process started, killed when it exits, so that none
/// outlives the run (the suites' shared servers are never deinitialised).
let startedServers = Mutex<Set<Int32>>([])
let killServersAtExit: Void = {
    atexit {
        for pid in startedServers.withLock({ $0 }) { kill(pid, SIGKILL) }
    }
}()

/// `bsky serve` as a child process on loopback, on its own data directory.
final class ServeProcess: @unchecked Sendable {
    let process: Process
    let data: URL
    /// The PDS's URL (the relay's for `--role relay`).
    let url: URL
    /// The relay's URL, when the relay runs.
    let relayURL: URL?
    private let arguments: [String]
    private let role: String

    /// Starts `bsky serve --port 0` on `data` (a new directory by default) and
    /// waits for its ready lines. `role` is `pds` (the default: the tests'
    /// servers run side by side, and a relay each would be noise), `relay` or `all`.
    init(data: URL? = nil, arguments: [String] = [], port: Int = 0, role: String = "pds") throws {
        self.data = try data ?? Tools.temporaryDirectory()
        self.arguments = arguments
        self.role = role
        process = Process()
        process.executableURL = Tools.bsky
        let portOption = role == "relay" ? "--relay-port" : "--port"
        // With both roles, the relay takes a free port too (its default, 2584, may be taken).
        let relayPort = role == "all" && !arguments.contains("--relay-port") ? ["--relay-port", "0"] : []
        process.arguments = ["serve", "--role", role, portOption, String(port), "--data", self.data.path, "--bcrypt-cost", "4"] + relayPort + arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle(forWritingAtPath: ProcessInfo.processInfo.environment["SERVE_STDERR"] ?? "/dev/null")
        try process.run()
        _ = killServersAtExit
        let pid = process.processIdentifier
        startedServers.withLock { _ = $0.insert(pid) }
        // With both roles, the two ready lines come in either order.
        var pdsURL: URL?, relayURL: URL?
        for line in try PeerServer.readLines(stdout.fileHandleForReading, count: role == "all" ? 2 : 1, timeout: 60) {
            guard let range = line.range(of: "http://[^ ]+", options: .regularExpression), let url = URL(string: String(line[range])) else {
                throw ToolError("bsky serve printed \(line)")
            }
            if line.contains("relay listening") { relayURL = url } else { pdsURL = url }
        }
        guard let first = pdsURL ?? relayURL else { throw ToolError("bsky serve printed no URL") }
        self.url = first
        self.relayURL = relayURL
    }

    /// Stops the server with SIGTERM and waits for it; after 20 s it is
    /// killed, so that a shutdown that hangs cannot hang the tests (the
    /// SIGTERM test checks how it exited).
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        waitForExit(killAfter: 20)
    }

    /// Kills the server with SIGKILL.
    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        waitForExit(killAfter: 20)
    }

    /// Polls rather than `waitUntilExit`, which blocks a thread of the
    /// concurrency pool on a run loop.
    private func waitForExit(killAfter seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning {
            if Date() > deadline { Foundation.kill(process.processIdentifier, SIGKILL) }
            usleep(10_000)
        }
    }

    /// Starts it again on the same data directory and port.
    func restart() throws -> ServeProcess {
        try ServeProcess(data: data, arguments: arguments, port: url.port ?? 0, role: role)
    }

    deinit { kill() }
}

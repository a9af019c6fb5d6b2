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
    let url: URL
    private let arguments: [String]

    /// Starts `bsky serve --port 0` on `data` (a new directory by default) and
    /// waits for its ready line.
    init(data: URL? = nil, arguments: [String] = [], port: Int = 0) throws {
        self.data = try data ?? Tools.temporaryDirectory()
        self.arguments = arguments
        process = Process()
        process.executableURL = Tools.bsky
        process.arguments = ["serve", "--port", String(port), "--data", self.data.path, "--bcrypt-cost", "4"] + arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        _ = killServersAtExit
        let pid = process.processIdentifier
        startedServers.withLock { _ = $0.insert(pid) }
        let line = try PeerServer.readLine(stdout.fileHandleForReading, timeout: 60)
        guard let range = line.range(of: "http://[^ ]+", options: .regularExpression), let url = URL(string: String(line[range])) else {
            throw ToolError("bsky serve printed \(line)")
        }
        self.url = url
    }

    /// Stops the server with SIGTERM and waits for it.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// Kills the server with SIGKILL.
    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Starts it again on the same data directory and port.
    func restart() throws -> ServeProcess {
        try ServeProcess(data: data, arguments: arguments, port: url.port ?? 0)
    }

    deinit { kill() }
}

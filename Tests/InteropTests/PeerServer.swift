import Foundation
import TestSupport

/// A third-party server from the virtualenv, running on loopback while the
/// tests run. It prints one JSON line when it is ready and stops when its
/// stdin closes: at ``stop()``, or when the test process exits.
final class PeerServer: @unchecked Sendable {
    let process: Process
    let stdin: Pipe
    let stdout: Pipe
    /// The ready line, parsed.
    let info: [String: String]

    /// Starts `scripts/interop/<script>` and waits (up to 60 s) for its ready line.
    init(script: String, arguments: [String] = []) throws {
        let python = try Tools.python.get()
        process = Process()
        process.executableURL = python
        process.arguments = [Fixtures.packageRoot.appendingPathComponent("scripts/interop/\(script)").path] + arguments
        stdin = Pipe()
        stdout = Pipe()
        // Kept in a file, to say why when the server does not start.
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("peer-\(UUID()).stderr")
        FileManager.default.createFile(atPath: errors.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errors) }
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        let line: String
        do {
            line = try Self.readLine(stdout.fileHandleForReading, timeout: 60)
        } catch {
            let said = String(decoding: (try? Data(contentsOf: errors)) ?? Data(), as: UTF8.self)
            throw ToolError("\(script): \(error); its stderr ends: \(said.suffix(2_000))")
        }
        guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String] else {
            throw ToolError("\(script) printed \(line), not its ready line")
        }
        info = object
    }

    subscript(key: String) -> String { info[key] ?? "" }

    /// Writes `line` to the server's stdin and returns the line it answers
    /// with: the server has acted on it by then.
    func tell(_ line: String) throws -> String {
        stdin.fileHandleForWriting.write(Data((line + "\n").utf8))
        return try Self.readLine(stdout.fileHandleForReading, timeout: 30)
    }

    /// Stops the server.
    func stop() {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    static func readLine(_ handle: FileHandle, timeout: TimeInterval) throws -> String {
        try readLines(handle, count: 1, timeout: timeout)[0]
    }

    /// The first `count` lines from `handle`, however the writes that carry
    /// them are split or joined.
    static func readLines(_ handle: FileHandle, count: Int, timeout: TimeInterval) throws -> [String] {
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = Data()
        var lines = [String]()
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var chunk = Data()
        while Date() < deadline {
            while lines.count < count, let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                lines.append(String(decoding: buffer[..<newline], as: UTF8.self))
                buffer = Data(buffer[(newline + 1)...])
            }
            if lines.count == count { return lines }
            DispatchQueue.global().async {
                chunk = handle.availableData
                done.signal()
            }
            guard done.wait(timeout: .now() + deadline.timeIntervalSinceNow) == .success else { break }
            if chunk.isEmpty { throw ToolError("the server exited before it was ready") }
            buffer += chunk
        }
        throw ToolError("the server was not ready within \(Int(timeout)) s")
    }
}

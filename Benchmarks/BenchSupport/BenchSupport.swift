import Foundation

/// What the server benchmarks share: `--name value` arguments, JSON-line
/// reports, child processes and their ready lines, and durations as seconds.
public enum Bench {
    /// `--name value` pairs from the command line; exits with `usage` on
    /// anything else, or when one of `required` is missing.
    public static func arguments(usage: String, required: [String]) -> [String: String] {
        var arguments = [String: String]()
        var list = CommandLine.arguments.dropFirst()
        while let flag = list.popFirst() {
            guard flag.hasPrefix("--"), let value = list.popFirst() else { fail(usage) }
            arguments[String(flag.dropFirst(2))] = value
        }
        for name in required where arguments[name] == nil { fail(usage) }
        return arguments
    }

    private static func fail(_ usage: String) -> Never {
        FileHandle.standardError.write(Data("usage: \(usage)\n".utf8))
        exit(2)
    }

    /// Prints one result as a JSON line with sorted keys.
    public static func report(_ fields: [String: Any]) {
        let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    /// Starts `executable` and returns it with the first line it prints.
    public static func start(_ executable: String, _ arguments: [String], stdin: Bool = false) throws -> (Process, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        // $BENCH_SERVER_LOG: where the servers' logs go (appended), else nowhere.
        let log = ProcessInfo.processInfo.environment["BENCH_SERVER_LOG"].flatMap { path -> FileHandle? in
            if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
            let handle = FileHandle(forWritingAtPath: path)
            handle?.seekToEndOfFile()
            return handle
        }
        process.standardError = log ?? FileHandle(forWritingAtPath: "/dev/null")
        if stdin { process.standardInput = Pipe() }
        try process.run()
        var buffer = Data()
        while !buffer.contains(UInt8(ascii: "\n")) {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { throw CocoaError(.fileReadUnknown) }
            buffer += chunk
        }
        return (process, String(decoding: buffer.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self))
    }

    /// The first `http://…` URL in `line` (a server's ready line).
    public static func url(in line: String) throws -> URL {
        guard let range = line.range(of: "http://[^ ]+", options: .regularExpression), let url = URL(string: String(line[range])) else {
            throw CocoaError(.fileReadCorruptFile)
        }
        return url
    }
}

extension Duration {
    /// The duration in seconds.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

import Foundation
import Testing
import TestSupport

/// The built `bsky` executable and the third-party peers' virtualenv.
enum Tools {
    /// `$BSKY_BINARY` when set (`scripts/hostile` runs the hostile suites
    /// against a release build), else the one built with the tests.
    static let bsky = ProcessInfo.processInfo.environment["BSKY_BINARY"].map { URL(fileURLWithPath: $0) }
        ?? Processes.productsDirectory.appendingPathComponent("bsky")

    /// Runs `bsky` with `arguments`, waiting on a thread of its own (see ``Processes/detached(_:_:input:environment:)``).
    static func runBsky(_ arguments: [String], input: String? = nil, environment: [String: String] = [:]) async throws -> ProcessResult {
        try await Processes.detached(bsky, arguments, input: input.map { Data($0.utf8) }, environment: environment)
    }

    /// The virtualenv's python, created on first use by `scripts/python-env`.
    static let python: Result<URL, ToolError> = {
        let script = Fixtures.packageRoot.appendingPathComponent("scripts/python-env")
        guard let result = try? Processes.run(URL(fileURLWithPath: "/bin/bash"), [script.path]), result.status == 0 else {
            return .failure(ToolError("scripts/python-env failed: python3 with venv and pip, and access to PyPI, are needed"))
        }
        return .success(URL(fileURLWithPath: result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
    }()

    /// Runs `scripts/interop/peers.py` with `arguments` and returns its stdout.
    static func peers(_ arguments: [String], input: String? = nil) async throws -> String {
        let python = try python.get()
        let script = Fixtures.packageRoot.appendingPathComponent("scripts/interop/peers.py")
        let result = try await Processes.detached(python, [script.path] + arguments, input: input.map { Data($0.utf8) })
        guard result.status == 0 else { throw ToolError("peers.py \(arguments.joined(separator: " ")) failed:\n\(result.stderr)") }
        return result.stdout
    }

    /// A script under `scripts/`.
    static func scriptURL(_ path: String) -> URL {
        Fixtures.packageRoot.appendingPathComponent("scripts/" + path)
    }

    /// A fresh temporary directory.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bsky-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// `body`, failing the test after 30 s instead of hanging it.
func within30s<T: Sendable>(_ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(30))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw ToolError("\(what) took more than 30 s") }
        return value
    }
}

struct ToolError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// What `bsky car verify --json` prints.
struct VerifyReport: Codable, Equatable {
    let roots: [String]
    let blocks: Int
    let bytes: Int
}

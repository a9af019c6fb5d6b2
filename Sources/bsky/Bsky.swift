import ArgumentParser
import ATData
import Bluesky
import Foundation

/// The `bsky` command line: a thin shell over the library's modules.
struct Bsky: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bsky",
        abstract: "AT Protocol tools: a PDS, repository CARs, and a client for PDS and relay hosts.",
        subcommands: [ServeCommand.self, CarCommand.self, SyncCommand.self, RepoCommand.self, LoginCommand.self, AccountCommand.self, IdentityCommand.self]
    )
}

/// A failure to report as one line on stderr, with exit code 1.
struct CLIFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

@main
enum Main {
    static func main() async {
        do {
            var command = try Bsky.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as BlueskyError {
            // The server's error name and message, as the seeds' table names it.
            FileHandle.standardError.write(Data("error: \(error.name): \(error.message)\n".utf8))
            exit(1)
        } catch let failure as CLIFailure {
            FileHandle.standardError.write(Data("error: \(failure)\n".utf8))
            exit(1)
        } catch {
            let code = Bsky.exitCode(for: error)
            let message = Bsky.fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                exit(0)
            }
            FileHandle.standardError.write(Data((message.isEmpty ? "\(error)" : message).utf8 + [0x0A]))
            // Conventions: 2 for a usage error, 1 for a failed operation.
            exit(code == .validationFailure ? 2 : 1)
        }
    }
}

/// The most bytes read from a pipe or a device past what `stat` gives: 4 GiB,
/// or `BSKY_MAX_INPUT` bytes. A regular file is read whole, at its size.
let inputLimit = ProcessInfo.processInfo.environment["BSKY_MAX_INPUT"].flatMap { Int($0) } ?? 4 << 30

/// Reads a whole file (or pipe) straight into one array, or fails with a
/// one-line message. Input that never ends (`/dev/zero`, say) stops at
/// ``inputLimit``.
func readFile(_ path: String, limit: Int = inputLimit) throws -> [UInt8] {
    try withOpenFile(path) { fd, regularSize in try readAll(fd, path: path, size: regularSize ?? 0, limit: limit) }
}

/// Opens `path` for reading and calls `body` with the descriptor and, for a
/// regular file, its size; closes it afterwards.
private func withOpenFile<R>(_ path: String, _ body: (Int32, Int?) throws -> R) throws -> R {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw CLIFailure("\(path): cannot read file: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var info = stat()
    let isRegular = fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    return try body(fd, isRegular ? Int(info.st_size) : nil)
}

/// Reads all of `fd`: `size` bytes straight into the array, then whatever
/// follows in chunks, up to `limit` more.
private func readAll(_ fd: Int32, path: String, size: Int, limit: Int) throws -> [UInt8] {
    var failure: Int32 = 0
    // A regular file: read in place, with no copy.
    var bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
        count = 0
        adviseHugePages(buffer)
        while count < size {
            let n = read(fd, buffer.baseAddress! + count, size - count)
            if n == 0 { return }
            if n < 0 {
                if errno == EINTR { continue }
                failure = errno
                return
            }
            count += n
        }
    }
    // A pipe, or a file that grew while it was read: the rest in chunks, up to the limit.
    var chunk = [UInt8](repeating: 0, count: 64 << 10)
    while failure == 0 {
        guard bytes.count - size <= limit else {
            throw CLIFailure("\(path): more than \(limit) bytes from a pipe or device; save it to a file first, or set BSKY_MAX_INPUT")
        }
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n == 0 { break }
        if n < 0 {
            if errno != EINTR { failure = errno }
            continue
        }
        bytes.append(contentsOf: chunk[..<n])
    }
    guard failure == 0 else { throw CLIFailure("\(path): cannot read file: \(String(cString: strerror(failure)))") }
    return bytes
}

/// A file to read in place: a regular file is mapped into memory, with no
/// read and no copy; a pipe or a device is read whole, as ``readFile(_:limit:)``
/// reads it.
func mapFile(_ path: String) throws -> FileBytes {
    try withOpenFile(path) { fd, regularSize in
        // An empty "regular" file may still have content (`/proc`, say): read it.
        guard let size = regularSize, size > 0 else { return FileBytes(try readAll(fd, path: path, size: 0, limit: inputLimit)) }
        do {
            return try FileBytes(mapping: fd, count: size)
        } catch {
            throw CLIFailure("\(path): cannot map file: \(error)")
        }
    }
}

/// Asks the kernel to back a large, still untouched buffer with huge pages:
/// a 24 MB file then costs a dozen page faults instead of six thousand.
private func adviseHugePages(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
    #if os(Linux)
    let huge = 2 << 20
    guard let base = buffer.baseAddress, buffer.count >= 4 * huge else { return }
    let start = (Int(bitPattern: base) + huge - 1) & ~(huge - 1)
    let end = (Int(bitPattern: base) + buffer.count) & ~(huge - 1)
    guard end > start, let aligned = UnsafeMutableRawPointer(bitPattern: start) else { return }
    _ = madvise(aligned, end - start, MADV_HUGEPAGE)
    #endif
}

/// Writes `bytes` to a new file at `path` (replacing one that is there), or
/// fails with a one-line message.
func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw CLIFailure("\(path): cannot write file: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var written = 0
    while written < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
        if n < 0 {
            if errno == EINTR { continue }
            throw CLIFailure("\(path): cannot write file: \(String(cString: strerror(errno)))")
        }
        written += n
    }
}

/// Writes `text` and a newline to stdout.
/// Ends a command whose output is all written: the process exits at once and
/// the kernel takes back its memory, where returning would first free a
/// large heap object by object (about 50 ms after a 100k-record build).
func exitAfterOutput() -> Never {
    exit(EXIT_SUCCESS)
}

func writeLine(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

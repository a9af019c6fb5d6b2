import ArgumentParser
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

/// Reads a whole file, or fails with a one-line message.
func readFile(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CLIFailure("\(path): cannot read file")
    }
    return [UInt8](data)
}

/// Writes `text` and a newline to stdout.
func writeLine(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

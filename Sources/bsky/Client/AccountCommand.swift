import ArgumentParser
import ATSyntax
import Bluesky
import Foundation

/// `bsky account`: the logged-in account's status, activation, deletion,
/// and moving an account to another PDS.
struct AccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account",
        abstract: "Manage the logged-in account, or move an account to another PDS.",
        subcommands: [Migrate.self, Status.self, Activate.self, Deactivate.self, Delete.self])

    /// `bsky account status`: `com.atproto.server.checkAccountStatus`.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "Show whether the account is active and what its repository holds.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let status = try await client.client().com.atproto.server.checkAccountStatus()
            if client.json {
                try printJSON([
                    "activated": status.activated, "validDid": status.validDid, "repoCommit": status.repoCommit.description,
                    "repoRev": status.repoRev, "repoBlocks": status.repoBlocks, "indexedRecords": status.indexedRecords,
                    "expectedBlobs": status.expectedBlobs, "importedBlobs": status.importedBlobs,
                ])
                return
            }
            writeLine("activated:  \(status.activated)")
            writeLine("valid DID:  \(status.validDid) (the DID document \(status.validDid ? "names" : "does not name") this server)")
            writeLine("repository: \(status.indexedRecords) records, \(status.repoBlocks) blocks, at \(status.repoRev)")
            writeLine("blobs:      \(status.importedBlobs) of \(status.expectedBlobs)")
        }
    }

    /// `bsky account activate`.
    struct Activate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "activate", abstract: "Activate the account (after a move, or a deactivation).")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            try await client.client().com.atproto.server.activateAccount()
            writeLine("activated")
        }
    }

    /// `bsky account deactivate`.
    struct Deactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "deactivate", abstract: "Deactivate the account: its repository is no longer served.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            try await client.client().com.atproto.server.deactivateAccount()
            writeLine("deactivated")
        }
    }

    /// `bsky account delete`: asks for a token by email, then deletes with it.
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete",
            abstract: "Delete the account: without --token, have a token emailed; with it, delete for good.")
        @Option(help: "The token the server emailed.") var token: String?
        @Option(help: "The password (default: $BLUESKY_PASSWORD, else one line from stdin).") var password: String?
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let bluesky = try client.client()
            guard let token else {
                try await bluesky.com.atproto.server.requestAccountDelete()
                writeLine("a deletion token was sent to the account's email; run again with --token")
                return
            }
            let did = try await bluesky.com.atproto.server.getSession().did
            try await bluesky.com.atproto.server.deleteAccount(did: did, password: try readPassword(password), token: token)
            try? SessionStore.delete()
            writeLine("deleted \(did)")
        }
    }

    /// `bsky account migrate`: ``AccountMigration``, with its steps on stdout
    /// and blob progress on stderr.
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate",
            abstract: "Move an account to another PDS. Run it again to resume after a failure.")
        @Option(help: "The old PDS's URL.") var from: String
        @Option(help: "The handle, DID or email to log in with at the old PDS.") var identifier: String
        @Option(help: "The password (default: $BLUESKY_PASSWORD, else one line from stdin); the new account gets it too.")
        var password: String?
        @Option(help: "The new PDS's URL.") var to: String
        @Option(help: "The handle on the new PDS (default: the current one).") var newHandle: String?
        @Option(help: "An invite code for the new PDS.") var inviteCode: String?
        @Option(help: "The token the old PDS emailed for the identity change (default: ask it to send one, then prompt).")
        var plcToken: String?

        func run() async throws {
            let secret = try readPassword(password)
            let migration = AccountMigration(
                from: Bluesky(serverURL: try Self.url(from, "--from")), identifier: identifier, password: secret,
                to: Bluesky(serverURL: try Self.url(to, "--to")),
                newHandle: try newHandle.map { text in
                    do { return try Handle(text) } catch { throw ValidationError("--new-handle \(text): \(error)") }
                },
                inviteCode: inviteCode)
            let given = plcToken
            let bar = CountBar(label: "blobs")
            let unavailable = try await migration.run(
                requestToken: given == nil,
                plcToken: {
                    if let given { return given }
                    FileHandle.standardError.write(Data("Enter the token the old PDS emailed: ".utf8))
                    guard let line = readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces), !line.isEmpty else {
                        throw CLIFailure("no token given; run again with --plc-token")
                    }
                    return line
                },
                report: { event in
                    switch event {
                    case .step(let text): bar.step(text)
                    case .blobs(let copied, let total): bar.update(copied, of: total)
                    }
                })
            if !unavailable.isEmpty {
                writeLine("missing at the old PDS too, not copied: " + unavailable.map(\.description).joined(separator: " "))
            }
            writeLine("done")
        }

        static func url(_ text: String, _ option: String) throws -> URL {
            guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw ValidationError("\(option) \(text): not an http(s) URL")
            }
            return url
        }
    }
}

/// The password from the option, $BLUESKY_PASSWORD, or a line of stdin.
func readPassword(_ option: String?) throws -> String {
    if let option { return option }
    if let value = ProcessInfo.processInfo.environment["BLUESKY_PASSWORD"], !value.isEmpty { return value }
    guard let line = readLine(strippingNewline: true), !line.isEmpty else {
        throw ValidationError("no password: pass --password, set BLUESKY_PASSWORD or give it on stdin")
    }
    return line
}

/// Steps as lines on stdout, and a count redrawn in place on stderr when it
/// is a terminal (else a line at each tenth).
final class CountBar: @unchecked Sendable {
    private let label: String
    private let interactive = isatty(STDERR_FILENO) == 1
    private let lock = NSLock()
    private var lastTenth = -1

    init(label: String) { self.label = label }

    func step(_ text: String) {
        lock.withLock {
            if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            writeLine(text)
        }
    }

    func update(_ done: Int, of total: Int) {
        lock.withLock {
            let bar = String(repeating: "#", count: total == 0 ? 20 : 20 * done / total).padding(toLength: 20, withPad: ".", startingAt: 0)
            if interactive {
                FileHandle.standardError.write(Data("\r\u{1B}[K\(label) [\(bar)] \(done)/\(total)".utf8))
            } else if total > 0, 10 * done / total != lastTenth {
                lastTenth = 10 * done / total
                FileHandle.standardError.write(Data("\(label) [\(bar)] \(done)/\(total)\n".utf8))
            }
        }
    }
}

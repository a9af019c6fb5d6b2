import ArgumentParser
import Bluesky
import Foundation

/// `bsky login`: creates a session and stores it for the other commands.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log in and store the session (in $BSKY_CONFIG_DIR, else ~/.config/bsky).")

    @Option(help: "A handle, DID or email.") var identifier: String
    @Option(help: "The password (default: $BLUESKY_PASSWORD, else one line from stdin).") var password: String?
    @OptionGroup var client: ClientOptions

    func run() async throws {
        let secret = try readPassword(password)
        var base = try client.client()
        base.bearer = nil
        let session = try await Session.login(base, identifier: identifier, password: secret)
        let info = await session.info
        try SessionStore.save(StoredSession(server: base.serverURL.absoluteString, session: info))
        if client.json {
            try printJSON(["did": info.did.description, "handle": info.handle, "server": base.serverURL.absoluteString])
        } else {
            writeLine("logged in as \(info.handle) (\(info.did)) on \(base.serverURL.absoluteString)")
        }
    }
}

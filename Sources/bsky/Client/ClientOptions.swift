import ArgumentParser
import ATSyntax
import Bluesky
import Foundation

/// The options every client command shares: which host, which credentials,
/// and how to print.
struct ClientOptions: ParsableArguments {
    @Option(help: "The host's URL (default: $BLUESKY_SERVER, else the stored session's server).")
    var server: String?

    @Flag(help: "Print JSON.")
    var json = false

    @Option(help: "The PLC directory for did:plc documents (default: $BLUESKY_PLC, else https://plc.directory).")
    var plc: String?

    /// The client: the bearer from $BLUESKY_BEARER, else the stored session
    /// (refreshed and saved again as needed), else none.
    func client() throws -> Bluesky {
        let environment = ProcessInfo.processInfo.environment
        let stored = try SessionStore.load()
        let fromEnvironment = environment["BLUESKY_SERVER"].flatMap { $0.isEmpty ? nil : $0 }
        guard let text = server ?? fromEnvironment ?? stored?.server else {
            throw CLIFailure("no server: pass --server URL or set BLUESKY_SERVER (or run bsky login)")
        }
        guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw CLIFailure("--server \(text): not an http(s) URL")
        }
        var client = Bluesky(serverURL: url)
        if let bearer = environment["BLUESKY_BEARER"], !bearer.isEmpty {
            client.bearer = .token(bearer)
        } else if let stored, stored.server == url.absoluteString {
            let session = Session(resuming: stored.session, base: client) { info in
                try? SessionStore.save(StoredSession(server: url.absoluteString, session: info))
            }
            client = session.client
        }
        return client
    }

    /// Resolves handles and DIDs: DNS (answered first from the file named by
    /// $BSKY_DNS_TXT_FILE, lines of `name TXT-value`, for closed networks),
    /// HTTPS well-known files, and DID documents through ``resolver()``.
    func identityResolver() throws -> IdentityResolver {
        var dns: any DNSResolver = SystemDNSResolver()
        if let path = ProcessInfo.processInfo.environment["BSKY_DNS_TXT_FILE"], !path.isEmpty {
            dns = TableDNSResolver(file: URL(fileURLWithPath: path))
        }
        return IdentityResolver(dns: dns, didResolver: try resolver())
    }

    /// The client for `identifier`'s repository: the configured server
    /// (`--server`, $BLUESKY_SERVER or the stored session's) when there is
    /// one, else the PDS the account's DID document names. Also returns the
    /// account's DID.
    func client(for identifier: ATIdentifier) async throws -> (client: Bluesky, did: DID) {
        let environment = ProcessInfo.processInfo.environment["BLUESKY_SERVER"].flatMap { $0.isEmpty ? nil : $0 }
        let stored = try SessionStore.load()
        let configured = server != nil || environment != nil || stored != nil
        if configured {
            switch identifier {
            case .did(let did): return (try client(), did)
            case .handle: return (try client(), try await identityResolver().resolve(identifier).did)
            }
        }
        let (client, identity) = try await Bluesky(serverURL: URL(string: "https://bsky.social")!).atPDS(of: identifier, resolver: try identityResolver())
        return (client, identity.did)
    }

    /// The DID resolver for keys that are not given.
    func resolver() throws -> DIDResolver {
        let text = plc ?? ProcessInfo.processInfo.environment["BLUESKY_PLC"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://plc.directory"
        guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https" else {
            throw CLIFailure("--plc \(text): not an http(s) URL")
        }
        return DIDResolver(plcURL: url)
    }
}

/// Parses a syntax value from an argument, or fails with a usage error.
func parseValue<T: SyntaxValue>(_ type: T.Type, _ text: String, _ what: String) throws -> T {
    do {
        return try T(text)
    } catch {
        throw ValidationError("\(what): \(error)")
    }
}

/// Writes a JSON object to stdout, keys sorted.
func printJSON(_ object: Any) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    writeLine(String(decoding: data, as: UTF8.self))
}

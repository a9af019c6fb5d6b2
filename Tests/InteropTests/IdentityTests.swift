import AsyncHTTPClient
import ATSyntax
import Bluesky
import Foundation
import HTTPTypes
import NIOPosix
import Testing
import TestSupport

/// Handles and DIDs against `bsky serve`: its well-known file found over
/// loopback HTTP, DNS answers from a stand-in table (edited while the server
/// runs), a change of handle to a custom domain with its PLC operation and
/// `#identity` event, and the CLI resolving and downloading by handle.
@Suite("Identity: handles, DIDs, updateHandle", .serialized)
struct IdentityTests {
    /// A transport that sends every name to 127.0.0.1, keeping it in the
    /// `Host` header: a handle's own URL reaches the local server.
    static func loopback(_ names: [String]) -> HTTPClient {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.dnsOverride = Dictionary(uniqueKeysWithValues: names.map { ($0, "127.0.0.1") })
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }

    @Test func handlesResolveAndChange() async throws {
        let table = try Tools.temporaryDirectory().appendingPathComponent("dns.txt")
        try Data("# stand-in DNS\n".utf8).write(to: table)
        let serve = try ServeProcess(arguments: ["--dns-txt-file", table.path], role: "all")
        let relayURL = try #require(serve.relayURL)
        defer { serve.kill() }
        let port = serve.url.port ?? 0
        let name = "id\(UInt32.random(in: 0..<UInt32.max))"
        let handle = try Handle("\(name).test")
        let created = try await Bluesky(serverURL: serve.url).server.createAccount(handle: handle, password: "pw")
        let other = try await Bluesky(serverURL: serve.url).server.createAccount(handle: try Handle("o\(name).test"), password: "pw")
        let client = Bluesky(serverURL: serve.url, bearer: .token(created.accessJwt), retryConfig: .none)

        // The server's well-known file, by Host, over loopback HTTP; no DNS answer.
        let loopback = Self.loopback([handle.description, "nobody.test"])
        let web = AsyncHTTPClientTransport(client: loopback)
        let resolver = IdentityResolver(
            dns: TableDNSResolver(records: [:], fallback: nil), didResolver: DIDResolver(plcURL: serve.url), transport: web,
            wellKnownURL: { URL(string: "http://\($0):\(port)/.well-known/atproto-did") })
        #expect(try await resolver.resolveHandle(handle) == created.did)
        let identity = try await resolver.resolve(.did(created.did))
        #expect(identity.handle == handle && identity.handleVerified && identity.pds?.port == port)
        await #expect(throws: BlueskyError.self) { _ = try await resolver.resolveHandle(try Handle("nobody.test")) }
        // DNS wins over the well-known file.
        let dnsFirst = IdentityResolver(
            dns: TableDNSResolver(records: ["_atproto.\(handle)": ["did=\(other.did)"]], fallback: nil), didResolver: DIDResolver(plcURL: serve.url),
            transport: web, wellKnownURL: { URL(string: "http://\($0):\(port)/.well-known/atproto-did") })
        #expect(try await dnsFirst.resolveHandle(handle) == other.did)
        // …and the handle, pointing elsewhere, no longer checks out for its account.
        #expect(try await dnsFirst.resolve(.did(created.did)).handleVerified == false)
        try await loopback.shutdown()

        // The server resolves identities, its own and (through the stand-in DNS) the network's.
        let info = try await client.com.atproto.identity.resolveIdentity(identifier: .handle(handle))
        #expect(info.did == created.did && info.handle == handle)
        #expect(try await client.com.atproto.identity.resolveDid(did: created.did).didDoc["id"]?.stringValue == created.did.description)

        // A custom domain: refused until DNS names the account, then taken.
        let custom = try Handle("\(name).example.com")
        await #expect { try await client.com.atproto.identity.updateHandle(handle: custom) } throws: { error in
            (error as? BlueskyError)?.name == "InvalidHandle"
        }
        try Data("_atproto.\(custom) did=\(created.did)\n".utf8).write(to: table)
        try await client.com.atproto.identity.updateHandle(handle: custom)
        let document = try await DIDResolver(plcURL: serve.url).resolve(created.did)
        #expect(document.handle == custom.description)
        #expect(try await client.com.atproto.server.getSession().handle == custom)
        #expect(try await client.com.atproto.identity.resolveHandle(handle: custom).did == created.did)
        // The old handle is free again; another account's handle is not.
        await #expect { try await client.com.atproto.identity.updateHandle(handle: try Handle("o\(name).test")) } throws: { error in
            (error as? BlueskyError)?.name == "HandleNotAvailable"
        }
        // The firehose says so, and the relay passes it on.
        for url in [serve.url, relayURL] {
            let events = try await collect(url, from: 0, until: { event in
                if case .identity(_, let did, let new, _) = event { return did == created.did && new == custom.description }
                return false
            })
            #expect(!events.isEmpty, "\(url)")
        }
        // The SDK fetches and verifies a repository by handle, from the PDS the document names.
        let sdkResolver = IdentityResolver(dns: TableDNSResolver(file: table, fallback: nil), didResolver: DIDResolver(plcURL: serve.url))
        let repository = try await Bluesky(serverURL: URL(string: "http://127.0.0.1:1")!).sync.repository(of: .handle(custom), resolver: sdkResolver)
        #expect(repository.did == created.did)

        // The CLI: resolve by handle (DNS from the same table), and download by handle with no --server.
        let environment = ["BSKY_DNS_TXT_FILE": table.path, "BLUESKY_SERVER": ""]
        let resolved = try await Tools.runBsky(["identity", "resolve", custom.description, "--json", "--plc", serve.url.absoluteString], environment: environment)
        #expect(resolved.status == 0, "\(resolved.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(resolved.stdout.utf8)) as? [String: Any])
        #expect(report["did"] as? String == created.did.description)
        #expect(report["handleVerified"] as? Bool == true)
        #expect((report["pds"] as? String)?.hasPrefix(serve.url.absoluteString.trimmingCharacters(in: ["/"])) == true)
        #expect((report["signingKey"] as? String)?.hasPrefix("did:key:z") == true)
        let car = try Tools.temporaryDirectory().appendingPathComponent("repo.car")
        let download = try await Tools.runBsky(
            ["sync", "get-repo", custom.description, "-o", car.path, "--verify", "--json", "--plc", serve.url.absoluteString], environment: environment)
        #expect(download.status == 0, "\(download.stderr)")
        #expect(download.stdout.contains("\"verified\":true"), "\(download.stdout)")
        // A handle whose DNS names nobody's document: not verified, exit 1.
        try Data("_atproto.\(custom) did=\(created.did)\n_atproto.liar.example.com did=\(created.did)\n".utf8).write(to: table)
        let liar = try await Tools.runBsky(["identity", "resolve", "liar.example.com", "--plc", serve.url.absoluteString], environment: environment)
        #expect(liar.status == 1 && liar.stdout.contains("NOT verified"), "\(liar.stdout) \(liar.stderr)")
    }

    func collect(_ url: URL, from cursor: Int64, until match: @escaping @Sendable (RepoEvent) -> Bool) async throws -> [RepoEvent] {
        try await within30s("the firehose event") {
            for try await event in Bluesky(serverURL: url).sync.subscribeRepos(cursor: cursor) where match(event) {
                return [event]
            }
            return []
        }
    }
}

import ATData
import ATSyntax
import Bluesky
import Foundation
import HTTPTypes
import Hummingbird
@testable import Server
import Synchronization
import Testing

/// The SSRF guard and the one door for outbound HTTP: issue 11's rows C1,
/// L1, H3 and M4, without leaving the loopback interface.
@Suite("Outbound guard")
struct OutboundGuardTests {
    /// C1: characters are checked before anything parses a hostname; a NUL
    /// after a public address used to pass `inet_pton` and then trap.
    @Test(arguments: [
        "203.0.113.9\u{0}", "8.8.8.8\u{0}.evil", "pds.example.com\u{0}", "héllo.example.com", "a\tb.example.com", "1.2.3.4\n",
        "pds.example.com ", "\u{7F}pds.example.com", "pds.example.com\r\n",
    ])
    func c1ControlAndNonASCIICharactersAreRefused(_ text: String) {
        #expect(throws: XRPCError.self) { try CrawlHost(text) }
        #expect(IPAddress(v4: text) == nil)
    }

    /// L1: the ranges that used to pass as public.
    @Test(arguments: [
        "::127.0.0.1", "64:ff9b::7f00:1", "64:ff9b:1::1", "2002:7f00:1::1", "2002:a00:1::1", "2001::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        "fec0::1", "100::1", "2001:db8::1", "3fff::1", "192.0.2.1", "198.51.100.7", "203.0.113.9", "192.88.99.1", "4000::1", "::", "ff02::1",
    ])
    func l1SpecialRangesArePrivate(_ text: String) throws {
        let address = try #require(IPAddress(v4: text) ?? IPAddress(v6: text))
        #expect(address.isPrivate, "\(text)")
    }

    @Test(arguments: ["2606:4700::1111", "2a00:1450:4001::1", "64:ff9b::808:808", "2002:808:808::1", "1.1.1.1", "9.9.9.9"])
    func publicAddressesStayPublic(_ text: String) throws {
        let address = try #require(IPAddress(v4: text) ?? IPAddress(v6: text))
        #expect(!address.isPrivate, "\(text)")
        #expect(address.description == text)
    }

    /// A request count.
    final class Hits: Sendable {
        private let count = Mutex(0)
        func add() { count.withLock { $0 += 1 } }
        func reset() { count.withLock { $0 = 0 } }
        var value: Int { count.withLock { $0 } }
    }

    /// A loopback server that counts requests and answers `status` (with a `Location`).
    static func counter(status: HTTPResponse.Status, location: String? = nil) async throws -> (url: URL, hits: Hits, stop: @Sendable () -> Void) {
        let hits = Hits()
        let router = Router()
        router.get("/**") { _, _ -> Response in
            hits.add()
            var headers = HTTPFields()
            if let location { headers[.location] = location }
            return Response(status: status, headers: headers)
        }
        let port = try PDSServer.freePort(host: "127.0.0.1")
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        let task = Task { try await app.runService() }
        let url = URL(string: "http://127.0.0.1:\(port)")!
        let transport = GuardedTransport(policy: HostPolicy(allowPrivate: true))  // follows no redirect
        defer { Task { await transport.shutdown() } }
        for _ in 0..<100 {
            if (try? await transport.send(HTTPRequest(method: .get, url: url.appendingPathComponent("ready")), body: nil, timeout: .seconds(1))) != nil { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        hits.reset()
        return (url, hits, { task.cancel() })
    }

    /// H3: a redirect is an answer, never followed — not even to an address the guard allows.
    @Test func h3RedirectsAreNotFollowed() async throws {
        let target = try await Self.counter(status: .ok)
        defer { target.stop() }
        let redirector = try await Self.counter(status: .found, location: target.url.absoluteString + "/xrpc/com.atproto.sync.getRepo?did=did:plc:x")
        defer { redirector.stop() }
        let transport = GuardedTransport(policy: HostPolicy(allowPrivate: true))
        let client = Bluesky(serverURL: redirector.url, retryConfig: .none, transport: transport)
        let error = await #expect(throws: BlueskyError.self) { _ = try await client.sync.getRepo(did: try DID("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa")) }
        #expect(error?.status == 302)
        #expect(redirector.hits.value == 1)
        #expect(target.hits.value == 0)
        await transport.shutdown()
    }

    /// M4: every request is vetted when it is sent, with a fresh resolution,
    /// and goes to the address that was checked: a name that resolved to a
    /// public address once and to loopback later (DNS rebinding) is refused
    /// at the later request, and nothing reaches the loopback listener.
    @Test func m4EachConnectionIsVettedAgainAndPinned() async throws {
        let listener = try await Self.counter(status: .ok)
        defer { listener.stop() }
        let lookups = Hits()
        let rebinding = HostPolicy(allowPrivate: false) { _ in
            lookups.add()
            return [IPAddress(v4: "127.0.0.1")!]
        }
        let transport = GuardedTransport(policy: rebinding)
        let url = URL(string: "http://rebind.example.com:\(listener.url.port!)/xrpc/_health")!
        for attempt in 1...3 {
            let error = await #expect(throws: BlueskyError.self) { _ = try await transport.send(HTTPRequest(method: .get, url: url), body: nil, timeout: .seconds(5)) }
            #expect(error?.kind == .transport(.connection))
            #expect(lookups.value == attempt)
        }
        #expect(listener.hits.value == 0)
        // Allowed, the name is reached at the address the guard resolved
        // (the system resolver has never heard of rebind.example.com).
        let pinned = GuardedTransport(policy: HostPolicy(allowPrivate: true) { _ in [IPAddress(v4: "127.0.0.1")!] })
        let response = try await pinned.send(HTTPRequest(method: .get, url: url), body: nil, timeout: .seconds(5))
        #expect(response.head.status.code == 200)
        #expect(listener.hits.value == 1)
        await transport.shutdown()
        await pinned.shutdown()
    }
}

import ATSyntax
@testable import Bluesky
import Foundation
import HTTPTypes
import Synchronization
import Testing

/// DNS answers from a table, counting the lookups.
final class TableDNS: DNSResolver {
    let answers: Mutex<[String: [String]]>
    let lookups = Mutex(0)
    let failing: Bool

    init(_ answers: [String: [String]], failing: Bool = false) {
        self.answers = Mutex(answers)
        self.failing = failing
    }

    func txt(_ name: String) async throws(BlueskyError) -> [String] {
        lookups.withLock { $0 += 1 }
        if failing { throw BlueskyError.transport(.timeout, "no DNS answer") }
        return answers.withLock { $0[name] ?? [] }
    }
}

/// Handles through DNS and HTTPS, DIDs through the PLC directory, both
/// checked both ways, with the cache on an injected clock.
@Suite("Identity resolution")
struct IdentityResolverTests {
    static let alice = try! DID("did:plc:ewvi7nxzyoun6zhxrhs64oiz")
    static let bob = try! DID("did:plc:bobbobbobbobbobbobbobbob")

    static func document(_ did: DID, handle: String) -> String {
        """
        {"id":"\(did)","alsoKnownAs":["at://\(handle)"],
         "verificationMethod":[{"id":"\(did)#atproto","type":"Multikey","controller":"\(did)",
           "publicKeyMultibase":"zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF"}],
         "service":[{"id":"#atproto_pds","type":"AtprotoPersonalDataServer","serviceEndpoint":"https://pds.example.com"}]}
        """
    }

    /// A web of PLC documents and well-known files, by URL.
    static func web(_ pages: [String: String]) -> ScriptedTransport {
        ScriptedTransport(fallback: { request, _ throws(BlueskyError) in
            guard let page = pages[request.url?.absoluteString ?? ""] else { return try reply(404, "not here")(request, nil) }
            return try reply(200, page)(request, nil)
        })
    }

    final class Clock: Sendable {
        let time = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        func advance(_ seconds: TimeInterval) { time.withLock { $0 += seconds } }
    }

    func resolver(dns: TableDNS, web: ScriptedTransport, clock: Clock = Clock()) -> IdentityResolver {
        IdentityResolver(
            dns: dns, didResolver: DIDResolver(plcURL: URL(string: "https://plc.test")!, transport: web), transport: web,
            now: { clock.time.withLock { $0 } })
    }

    @Test func dnsWinsOverHTTPS() async throws {
        let dns = TableDNS(["_atproto.alice.example": ["v=spf1 -all", "did=\(Self.alice)"]])
        let web = Self.web(["https://alice.example/.well-known/atproto-did": Self.bob.description])
        let resolver = resolver(dns: dns, web: web)
        #expect(try await resolver.resolveHandle(try Handle("alice.example")) == Self.alice)
        #expect(web.requests.isEmpty)
    }

    @Test func httpsAnswersWhenDNSHasNothingOrFails() async throws {
        let web = Self.web(["https://alice.example/.well-known/atproto-did": "\(Self.alice)\n"])
        #expect(try await resolver(dns: TableDNS([:]), web: web).resolveHandle(try Handle("alice.example")) == Self.alice)
        #expect(try await resolver(dns: TableDNS([:], failing: true), web: web).resolveHandle(try Handle("alice.example")) == Self.alice)
        // Neither: not found, with both reasons.
        await #expect(throws: BlueskyError.self) {
            _ = try await resolver(dns: TableDNS([:], failing: true), web: Self.web([:])).resolveHandle(try Handle("nobody.example"))
        }
        // A well-known file that is not a DID.
        await #expect(throws: BlueskyError.self) {
            _ = try await resolver(dns: TableDNS([:]), web: Self.web(["https://junk.example/.well-known/atproto-did": "<html>"]))
                .resolveHandle(try Handle("junk.example"))
        }
    }

    @Test func twoDIDsInDNSAreAnError() async throws {
        let dns = TableDNS(["_atproto.split.example": ["did=\(Self.alice)", "did=\(Self.bob)"]])
        await #expect(throws: BlueskyError.self) { _ = try await resolver(dns: dns, web: Self.web([:])).resolveHandle(try Handle("split.example")) }
    }

    @Test func handlesAreCheckedBothWays() async throws {
        let dns = TableDNS([
            "_atproto.alice.example": ["did=\(Self.alice)"],
            // Bob's document claims alice.example, which names Alice.
            "_atproto.mallory.example": ["did=\(Self.bob)"],
        ])
        let web = Self.web([
            "https://plc.test/\(Self.alice)": Self.document(Self.alice, handle: "alice.example"),
            "https://plc.test/\(Self.bob)": Self.document(Self.bob, handle: "alice.example"),
        ])
        let resolver = resolver(dns: dns, web: web)
        let alice = try await resolver.resolve(.did(Self.alice))
        #expect(alice.handle?.description == "alice.example" && alice.handleVerified)
        #expect(alice.pds?.absoluteString == "https://pds.example.com")
        #expect(alice.signingKey?.didKey == "did:key:zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF")
        let bob = try await resolver.resolve(.did(Self.bob))
        #expect(bob.handle?.description == "alice.example" && !bob.handleVerified)
        // mallory.example names Bob, whose document does not claim it.
        let mallory = try await resolver.resolve(.handle(try Handle("mallory.example")))
        #expect(mallory.did == Self.bob && !mallory.handleVerified)
    }

    @Test func answersAreKeptForTheirTimeToLive() async throws {
        let dns = TableDNS(["_atproto.alice.example": ["did=\(Self.alice)"]])
        let clock = Clock()
        let resolver = resolver(dns: dns, web: Self.web([:]), clock: clock)
        let handle = try Handle("alice.example")
        _ = try await resolver.resolveHandle(handle)
        _ = try await resolver.resolveHandle(handle)
        #expect(dns.lookups.withLock { $0 } == 1)
        dns.answers.withLock { $0["_atproto.alice.example"] = ["did=\(Self.bob)"] }
        clock.advance(resolver.handleTTL + 1)
        #expect(try await resolver.resolveHandle(handle) == Self.bob)
        #expect(dns.lookups.withLock { $0 } == 2)
        _ = try await resolver.resolveHandle(handle, fresh: true)
        #expect(dns.lookups.withLock { $0 } == 3)
    }

    /// The system resolver on a name that cannot exist: no records, or (with
    /// no network) a transport error within the timeout; never a record.
    @Test func theSystemResolverFindsNothingForAnInvalidName() async throws {
        do {
            #expect(try await SystemDNSResolver(timeout: .seconds(3)).txt("_atproto.nothing-here.invalid").isEmpty)
        } catch {
            #expect(error.kind == .transport(.connection) || error.kind == .transport(.timeout), "\(error)")
        }
    }

    /// The DNS message reader, on answers as a server sends them.
    @Test func theSystemResolverReadsTXTAnswers() throws {
        // Header: id, flags, 1 question, 2 answers; question _atproto.a.b TXT IN;
        // a CNAME answer (skipped) and a TXT answer of two strings, with name compression.
        var message: [UInt8] = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0]
        message += [8] + Array("_atproto".utf8) + [1, 0x61, 1, 0x62, 0, 0, 16, 0, 1]
        message += [0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xC0, 12]
        let strings: [UInt8] = [4] + Array("did=".utf8) + [24] + Array("did:plc:abcdefghijklmnop".utf8)
        message += [0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, UInt8(strings.count)] + strings
        let records = try DNSMessage.txtRecords(message)
        #expect(records == ["did=did:plc:abcdefghijklmnop"])
        for cut in [5, 20, message.count - 3] {
            #expect(throws: BlueskyError.self) { try DNSMessage.txtRecords(Array(message.prefix(cut))) }
        }
    }
}

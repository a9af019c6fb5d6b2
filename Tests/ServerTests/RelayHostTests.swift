import ATData
import ATSyntax
import Foundation
@testable import Server
import Testing

/// Hostnames in crawl requests, the SSRF guard, and the relay's host and
/// mirror bookkeeping in SQLite.
@Suite("Relay hosts")
struct RelayHostTests {
    @Test(arguments: [
        ("pds.example.com", "pds.example.com"), ("PDS.Example.COM", "pds.example.com"), ("https://pds.example.com/", "pds.example.com"),
        ("pds.example.com:2583", "pds.example.com:2583"), ("127.0.0.1:2583", "127.0.0.1:2583"), ("[::1]:80", "[::1]:80"),
        ("http://localhost:3000", "localhost:3000"), ("10.0.0.1", "10.0.0.1"),
    ])
    func hostnamesParse(_ text: String, _ expected: String) throws {
        #expect(try CrawlHost(text).description == expected)
    }

    @Test(arguments: [
        "", "pds", "pds.example.com/path", "user@pds.example.com", "pds.example.com:0", "pds.example.com:70000", "pds.example.com:x",
        "-bad.example.com", "bad_.example.com", "::1", "[::1", "pds.example.com?x=1", "256.1.1.1", "a..b",
    ])
    func badHostnamesAreRefused(_ text: String) {
        #expect(throws: XRPCError.self) { try CrawlHost(text) }
    }

    @Test(arguments: [
        ("10.1.2.3", true), ("192.168.0.9", true), ("169.254.169.254", true), ("127.0.0.1", true), ("172.16.0.1", true),
        ("172.31.255.255", true), ("100.64.0.1", true), ("0.0.0.0", true), ("224.0.0.1", true), ("172.32.0.1", false),
        ("8.8.8.8", false), ("93.184.216.34", false), ("::1", true), ("fe80::1", true), ("fd00::1", true), ("::ffff:10.0.0.1", true),
        ("2606:4700::1111", false), ("::ffff:8.8.8.8", false),
    ])
    func privateAddresses(_ text: String, _ isPrivate: Bool) throws {
        let address = try #require(IPAddress(v4: text) ?? IPAddress(v6: text))
        #expect(address.isPrivate == isPrivate)
    }

    @Test func theSSRFGuardRefusesPrivateHostsUnlessAllowed() async throws {
        let strict = HostPolicy(allowPrivate: false, trusted: ["127.0.0.1:2583"])
        for name in ["10.0.0.1", "192.168.1.10:2583", "169.254.169.254", "localhost", "localhost:2583", "[::1]:2583", "db.internal", "127.0.0.1:9999"] {
            await #expect(throws: XRPCError.self, "\(name)") { _ = try await strict.check(try CrawlHost(name)) }
        }
        // The operator's own host, and any private host once allowed; reached over HTTP.
        #expect(try await strict.check(try CrawlHost("127.0.0.1:2583")) == true)
        #expect(try await HostPolicy(allowPrivate: true).check(try CrawlHost("10.0.0.1")) == true)
        #expect(try await HostPolicy(allowPrivate: false).check(try CrawlHost("8.8.8.8")) == false)
    }

    func store() throws -> SQLiteStore {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("relay-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return try SQLiteStore(path: dir.appendingPathComponent("relay.sqlite").path)
    }

    @Test func hostsKeepTheirCursorAndStatus() throws {
        let db = try store()
        let added = try db.addHost("a.example.com")
        #expect(added.cursor == 0 && added.status == .active)
        try db.setCursor(42, ofHost: "a.example.com")
        #expect(try db.addHost("a.example.com").cursor == 42)  // adding again changes nothing
        _ = try db.addHost("b.example.com")
        try db.setStatus(.banned, ofHost: "b.example.com")
        try db.setStatus(.banned, ofHost: "c.example.com")  // a ban can precede any request
        try db.setStatus(.offline, ofHost: "b.example.com")  // and is final
        try db.setStatus(.active, ofHost: "c.example.com")
        #expect(try db.hosts(after: nil, limit: 10).map(\.hostname) == ["a.example.com", "b.example.com", "c.example.com"])
        #expect(try db.hosts(after: "a.example.com", limit: 2).map(\.status) == [.banned, .banned])
        #expect(try db.host("nope.example.com") == nil)
    }

    @Test func mirroredCommitsAndSnapshots() throws {
        let db = try store()
        let did = try DID("did:plc:relaystoretest00000000000")
        let (record, commit1, commit2, data1, data2) = (
            DAGCBOR.encodeWithCID(["t": "r"]), DAGCBOR.encodeWithCID(["t": "c1"]), DAGCBOR.encodeWithCID(["t": "c2"]),
            DAGCBOR.encodeWithCID(["t": "d1"]), DAGCBOR.encodeWithCID(["t": "d2"]))
        let rev1 = try TID("3jzfcijpj2z2a"), rev2 = try TID("3jzfcijpj2z2b")
        _ = try db.addHost("h.example.com")
        try db.setStatus(.desynchronized, of: did, host: "h.example.com")
        #expect(try db.mirroredRepo(did)?.commit == nil)
        let sync = try db.replace(
            with: MirroredCommit(
                stored: StoredCommit(
                    did: did, commit: commit1.cid, rev: rev1, newBlocks: [commit1, data1, record], removed: [],
                    records: [("x.y.z", "one", record.cid)], blobs: [], event: { seq in [UInt8(seq)] }),
                data: data1.cid),
            host: "h.example.com")
        #expect(sync.frame == [UInt8(sync.seq)])
        var mirrored = try #require(try db.mirroredRepo(did))
        #expect(mirrored.status == .active && mirrored.commit == commit1.cid && mirrored.rev == rev1 && mirrored.data == data1.cid)
        let events = try db.apply(
            [MirroredCommit(
                stored: StoredCommit(
                    did: did, commit: commit2.cid, rev: rev2, newBlocks: [commit2, data2], removed: [commit1.cid, data1.cid, record.cid],
                    records: [("x.y.z", "one", nil)], blobs: [], event: { _ in [7] }),
                data: data2.cid)],
            host: "h.example.com", cursor: 99)
        #expect(events.map(\.seq) == [sync.seq + 1])
        mirrored = try #require(try db.mirroredRepo(did))
        #expect(mirrored.commit == commit2.cid && mirrored.data == data2.cid)
        #expect(try db.host("h.example.com")?.cursor == 99)
        #expect(try db.accountCount(ofHost: "h.example.com") == 1)
        #expect(try db.blocks(of: did).get(record.cid) == nil)
        // A fresh copy replaces every block.
        _ = try db.replace(
            with: MirroredCommit(
                stored: StoredCommit(
                    did: did, commit: commit1.cid, rev: rev1, newBlocks: [commit1, data1], removed: [], records: [], blobs: [],
                    event: { _ in [] }),
                data: data1.cid),
            host: "h.example.com")
        #expect(try db.blocks(of: did).get(commit2.cid) == nil)
        #expect(try db.mirroredRepos(ofHost: "h.example.com").map(\.rev) == [rev1])
    }
}

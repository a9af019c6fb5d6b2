import ATData
import ATSyntax
import AsyncHTTPClient
import Bluesky
import Foundation
import NIOCore
import Synchronization
import Testing
import TestSupport

/// The relay (`bsky serve --role relay`, in its own process) against the
/// hostile inputs of issue 11: each test is named after its row (C1, H1, …)
/// and fails while the finding stands. The hostile peer is a
/// ``HostileHost`` on loopback, which is the PLC directory the relay
/// resolves with and the PDS it is asked to crawl; nothing leaves 127.0.0.1.
@Suite("Hostile hosts against the relay (issue 11)", .serialized, .timeLimit(.minutes(1)))
struct HostileRelayTests {
    static let mib = 1 << 20

    // MARK: - C1

    /// C1: a hostname with a NUL after a public IPv4 literal, a NUL after a
    /// DNS name, a non-ASCII letter, a tab or a trailing newline, given to
    /// `requestCrawl` or `notifyOfUpdate`, gets `400 InvalidRequest`, and the
    /// relay is still running and answers `_health` afterwards. (Found: the
    /// NUL after `203.0.113.9` passed the checks, and the relay died of
    /// SIGILL force-unwrapping the host's URL, right after or even before
    /// its 200 went out.) A relay that crashed is replaced for the next
    /// hostname, so that each is judged on its own.
    @Test func c1HostnamesWithNULControlOrNonASCIICharactersAreRefusedAndTheRelayLives() async throws {
        let hostnames = ["203.0.113.9\u{0}", "pds.example.com\u{0}", "héllo.example.com", "a\tb.com", "1.2.3.4\n"]
        for nsid in ["com.atproto.sync.requestCrawl", "com.atproto.sync.notifyOfUpdate"] {
            var relay = try ServeProcess(role: "relay")
            for hostname in hostnames {
                let url = try #require(relay.relayURL)
                let shown = String(reflecting: hostname)
                let answer = await Self.post(url, nsid, ["hostname": hostname], timeout: 3)
                #expect(answer.status == 400 && answer.error == "InvalidRequest", "C1 \(nsid) \(shown): \(answer)")
                // A crash comes right after the request: watch the process for
                // a moment. Swift's crash handler keeps a crashed process
                // around while it writes the backtrace; then it is gone.
                let pid = relay.process.processIdentifier
                let crashed = await eventually(within: 1.5) { !relay.process.isRunning || !ProcessProbe.children(of: pid).isEmpty }
                if crashed { _ = await eventually(within: 20) { !relay.process.isRunning } }
                var healthy = false
                if !crashed { healthy = await Self.health(url) }
                let state = crashed ? Self.exit(of: relay) : healthy ? "alive" : "does not answer _health"
                #expect(!crashed && healthy, "C1 \(nsid) \(shown): the relay \(state)")
                print("HostileRelayTests C1 \(nsid) \(shown): HTTP \(answer.status) \(answer.error ?? "-"), relay \(state)")
                if crashed || !healthy {
                    Self.finish(relay)
                    relay = try ServeProcess(role: "relay")
                }
            }
            Self.finish(relay)
        }
    }

    // MARK: - H1

    /// H1: a host answers the relay's `getRepo` (a first-sight resync) with
    /// a CAR that does not end: a valid header, then the same 1 MiB block,
    /// up to 600 MB. The relay stops reading at its cap (128 MiB by
    /// default): what it reads from sockets in the whole window (`rchar`)
    /// stays under 200 MiB; its memory (RSS, sampled every 100 ms, and
    /// VmHWM) stays under 300 MB until the body ends or 30 s; and it answers
    /// `_health` afterwards. (What the host manages to write is printed, not
    /// asserted: socket and writer buffers take some of it after the relay
    /// has stopped.)
    @Test func h1AnEndlessGetRepoBodyIsCutOffAndTheRelayStaysSmall() async throws {
        let host = try await HostileHost { me in
            let commit = try HostileFrames.commit(seq: 1, by: me)
            return .init(firehose: [{ commit }], getRepo: .endlessCAR(limit: 600 * Self.mib))
        }
        let relay = try Self.relay(resolvingWith: host)
        defer { host.stop(); Self.finish(relay) }
        let url = try #require(relay.relayURL)
        let sampler = RSSSampler(pid: relay.process.processIdentifier)
        defer { sampler.stop() }
        let readBefore = try #require(ProcessProbe.bytesRead(by: relay.process.processIdentifier))
        try await Self.requestCrawl(relay, host)
        let asked = await eventually(within: 20) { host.requests(HostileHost.getRepoPath) > 0 }
        try #require(asked, "H1: the relay never asked for the repository: \(host.allRequests)")
        print("HostileRelayTests H1: _health took \(await Self.healthLatency(url)) while the body streamed")

        let why = await waitOutAttack(
            limit: 30, grace: 2, stall: 4, progress: { host.getRepoBodies.reduce(0) { $0 + $1.bytes } },
            ended: { host.getRepoBodies.allSatisfy(\.ended) })
        let memory = sampler.stop()
        let bodies = host.getRepoBodies.map(\.bytes)
        let read = (ProcessProbe.bytesRead(by: relay.process.processIdentifier) ?? .max) - readBefore
        let alive = relay.process.isRunning
        var healthy = false
        if alive { healthy = await Self.health(url) }
        let state = alive ? "alive" : Self.exit(of: relay)
        print("HostileRelayTests H1: relay \(memory), read \(ProcessProbe.mib(read)); getRepo bodies written \(bodies.map(ProcessProbe.mib)); window \(why); \(state)")
        #expect(memory.peak < 300 * Self.mib, "H1: the relay's memory reached \(memory)")
        #expect(read < 200 * Self.mib, "H1: the relay read \(ProcessProbe.mib(read))")
        #expect(alive && healthy, "H1: the relay \(alive ? "does not answer _health" : Self.exit(of: relay))")
    }

    // MARK: - H2

    /// A flood of big frames for H2.
    struct Flood: Sendable, CustomTestStringConvertible {
        /// The size of each frame's junk field, in MiB.
        let frameMiB: Int
        let frames: Int
        /// The host's WebSocket frame size: 16 MiB sends each message in one
        /// frame, 1 MiB in continuation frames.
        let webSocketFrame: Int
        var testDescription: String { "\(frames) × \(frameMiB) MiB" + (webSocketFrame < frameMiB << 20 ? " in 1 MiB fragments" : "") }
    }

    static let floods = [
        Flood(frameMiB: 8, frames: 40, webSocketFrame: 16 << 20),
        Flood(frameMiB: 8, frames: 40, webSocketFrame: 1 << 20),
        Flood(frameMiB: 4, frames: 40, webSocketFrame: 16 << 20),
        Flood(frameMiB: 4, frames: 80, webSocketFrame: 16 << 20),
    ]

    /// H2: a host's firehose sends an `#identity` (seq 1), then seq 10 — a
    /// jump, so the relay lists the host's repositories, which the host
    /// stalls for 40 s — then a flood of big `#identity` frames. Frames over
    /// the cap (5 MiB) end the connection, and those under it are held
    /// within a window counted in bytes (32 MiB a host), so the relay's RSS
    /// stays under 300 MB while the flood lasts (until the host has written
    /// it all, plus 3 s, or cannot write for 5 s, at most 25 s), and it
    /// answers `_health`. (Found: 430–450 MiB here for 40 × 8 MiB, ~811 MB
    /// in the issue. Frames of 4 MiB, under the cap, were held by count, 256
    /// a host: 40 of them stayed just under 300 MB, at 268 MiB; 80 do not.)
    @Test(arguments: floods)
    func h2AFloodOfBigFramesWhileTheRelayWaitsIsNotHeldInMemory(_ flood: Flood) async throws {
        let host = try await HostileHost { me in
            var frames: [@Sendable () -> [UInt8]] = [
                { HostileFrames.identity(seq: 1, did: me.did) }, { HostileFrames.identity(seq: 10, did: me.did) },
            ]
            for seq in 11..<(11 + Int64(flood.frames)) {
                frames.append { HostileFrames.identity(seq: seq, did: me.did, junk: flood.frameMiB * Self.mib) }
            }
            return .init(firehose: frames, listRepos: .stall(seconds: 40), webSocketFrameSize: flood.webSocketFrame)
        }
        let relay = try Self.relay(resolvingWith: host)
        defer { host.stop(); Self.finish(relay) }
        let url = try #require(relay.relayURL)
        let sampler = RSSSampler(pid: relay.process.processIdentifier)
        defer { sampler.stop() }
        try await Self.requestCrawl(relay, host)
        let subscribed = await eventually(within: 20) { host.firehose.frames >= 2 }
        try #require(subscribed, "H2: the relay did not read the host's firehose: \(host.allRequests)")
        print("HostileRelayTests H2 \(flood.testDescription): _health took \(await Self.healthLatency(url)) during the flood")

        let why = await waitOutAttack(limit: 25, grace: 3, stall: 5, progress: { host.firehose.frames }, ended: { host.firehose.finished })
        let memory = sampler.stop()
        let log = host.firehose
        let alive = relay.process.isRunning
        var healthy = false
        if alive { healthy = await Self.health(url) }
        let files = ProcessProbe.openFileCount(of: relay.process.processIdentifier).map(String.init) ?? "?"
        let wrote = "\(log.frames) frames, \(ProcessProbe.mib(log.bytes))" + (log.failed ? ", then the relay closed" : "")
        let listings = host.requests(HostileHost.listReposPath)
        print(
            "HostileRelayTests H2 \(flood.testDescription): relay \(memory); host wrote \(wrote); listRepos calls \(listings); window \(why);"
                + " fds \(files)")
        #expect(memory.peak < 300 * Self.mib, "H2 \(flood.testDescription): the relay's memory reached \(memory)")
        #expect(alive && healthy, "H2: the relay \(alive ? "does not answer _health" : Self.exit(of: relay))")
    }

    // MARK: - H3

    /// H3: a host answers `getRepo` (a first-sight resync) with `302` to
    /// another loopback listener. The relay does not follow it: once the
    /// host has had the request, the other listener gets nothing (watched
    /// for 3 s, a redirect is followed within milliseconds), and the
    /// repository is not active at the relay.
    @Test func h3ARedirectedGetRepoIsNotFollowed() async throws {
        let other = try await CountingListener()
        let host = try await HostileHost { me in
            let commit = try HostileFrames.commit(seq: 1, by: me)
            let target = try #require(URL(string: "\(other.url.absoluteString)/xrpc/com.atproto.sync.getRepo?did=\(me.did)"))
            return .init(firehose: [{ commit }], getRepo: .redirect(to: target))
        }
        let relay = try Self.relay(resolvingWith: host)
        defer { host.stop(); other.stop(); Self.finish(relay) }
        let url = try #require(relay.relayURL)
        try await Self.requestCrawl(relay, host)
        let asked = await eventually(within: 20) { host.requests(HostileHost.getRepoPath) > 0 }
        try #require(asked, "H3: the relay never asked for the repository: \(host.allRequests)")

        _ = await eventually(within: 3) { !other.requests.isEmpty }
        let status = try? await Bluesky(serverURL: url, retryConfig: .none).sync.getRepoStatus(did: host.did)
        let shown = status.map { "active \($0.active) \($0.status ?? "")" } ?? "none"
        print("HostileRelayTests H3: getRepo at the host \(host.requests(HostileHost.getRepoPath)), at the target \(other.requests); repo \(shown)")
        #expect(other.requests.isEmpty, "H3: the relay followed the redirect: \(other.requests)")
        #expect(status?.active != true, "H3: the repository came from the redirect target")
    }

    // MARK: - M3

    /// M3: a host sends 50 `#commit` frames naming
    /// `did:web:127.0.0.1%3APORT`, where PORT is a listener answering 404.
    /// The relay caches the failed resolution: the listener gets at most 2
    /// `GET`s (not 2 per event), by the time the relay's cursor for the
    /// host reaches 50 (or 20 s).
    @Test func m3AnUnresolvableDIDIsNotFetchedAgainForEveryEvent() async throws {
        let victim = try await CountingListener()
        let repo = try DID("did:web:127.0.0.1%3A\(victim.port)")
        let host = try await HostileHost { _ in
            .init(firehose: (1...50).map { seq in { HostileFrames.unverifiableCommit(seq: Int64(seq), repo: repo) } })
        }
        let relay = try Self.relay(resolvingWith: host)
        defer { host.stop(); victim.stop(); Self.finish(relay) }
        let relayClient = Bluesky(serverURL: try #require(relay.relayURL), retryConfig: .none)
        try await Self.requestCrawl(relay, host)
        let reached = await eventually(within: 20) { (try? await relayClient.sync.getHostStatus(hostname: host.hostname))?.seq == 50 }
        let gets = victim.requests.filter { $0.hasPrefix("GET") }
        print("HostileRelayTests M3: host wrote \(host.firehose.frames) frames; cursor at 50: \(reached); GETs at the did:web host: \(gets.count)")
        #expect(host.firehose.frames == 50, "M3: the relay did not take the 50 frames")
        #expect(gets.count <= 2, "M3: \(gets.count) GETs for one did:web: \(Set(gets))")
    }

    // MARK: - M6

    /// M6: a host sends 10 `#identity` frames for its account, each with an
    /// extra 4 MiB `junk` field. The relay's own firehose carries the 10
    /// events re-encoded from their known fields only (each frame under
    /// 4 KiB, decoding as `#identity` of the account, with no `junk` key),
    /// and `relay.sqlite` with its WAL grows by less than 10 MB.
    @Test func m6UnknownFieldsOfIdentityEventsAreNeitherRelayedNorStored() async throws {
        let host = try await HostileHost { me in
            .init(firehose: (1...10).map { seq in { HostileFrames.identity(seq: Int64(seq), did: me.did, junk: 4 * Self.mib) } })
        }
        let relay = try Self.relay(resolvingWith: host)
        defer { host.stop(); Self.finish(relay) }
        let url = try #require(relay.relayURL)
        let before = Self.databaseBytes(relay)
        try await Self.requestCrawl(relay, host)
        let relayClient = Bluesky(serverURL: url, retryConfig: .none)
        let reached = await eventually(within: 20) { (try? await relayClient.sync.getHostStatus(hostname: host.hostname))?.seq == 10 }
        try #require(reached, "M6: the relay did not take the 10 events: host wrote \(host.firehose.frames)")

        let frames = await Self.frames(of: url, count: 10, within: 15)
        let growth = Self.databaseBytes(relay) - before
        print("HostileRelayTests M6: relay firehose frames \(frames.map(\.count)) bytes; relay.sqlite+wal grew \(ProcessProbe.mib(growth))")
        #expect(frames.count == 10, "M6: the relay's firehose carried \(frames.count) of the 10 events")
        let sizes = frames.map(\.count)
        #expect(sizes.allSatisfy { $0 < 4096 }, "M6: relayed #identity frames of \(sizes) bytes")
        var notIdentity = 0, withJunk = 0
        for frame in frames {
            guard case .identity(_, let did, _, _)? = try? RepoEvent(frame: frame), did == host.did else {
                notIdentity += 1
                continue
            }
            let length = try? DAGCBOR.decodePrefix(frame).length
            let keys = length.flatMap { try? DAGCBOR.decode(Array(frame[$0...])).mapValue?.entries.map(\.key) } ?? []
            if keys.contains("junk") { withJunk += 1 }
        }
        #expect(notIdentity == 0, "M6: \(notIdentity) relayed frames are not #identity events of \(host.did)")
        #expect(withJunk == 0, "M6: \(withJunk) of \(frames.count) relayed #identity events kept the junk field")
        #expect(growth < 10_000_000, "M6: relay.sqlite and its WAL grew by \(ProcessProbe.mib(growth))")
    }
}

// MARK: - Helpers

extension HostileRelayTests {
    /// A relay on loopback that resolves DIDs with `host`'s PLC directory,
    /// may crawl private hosts, and has no event limit.
    static func relay(resolvingWith host: HostileHost) throws -> ServeProcess {
        try ServeProcess(arguments: ["--relay-allow-private", "--plc-url", host.url.absoluteString, "--relay-host-limit", "off"], role: "relay")
    }

    /// Asks `relay` to crawl `host`.
    static func requestCrawl(_ relay: ServeProcess, _ host: HostileHost) async throws {
        let answer = await post(try #require(relay.relayURL), "com.atproto.sync.requestCrawl", ["hostname": host.hostname])
        try #require(answer.status == 200, "requestCrawl of \(host.hostname): \(answer)")
    }

    /// POSTs `object` as JSON to the procedure `nsid`; the status (0 when
    /// there was no answer) and the error name.
    static func post(_ base: URL, _ nsid: String, _ object: [String: String], timeout: Int64 = 10) async -> (status: Int, error: String?) {
        do {
            var request = HTTPClientRequest(url: base.absoluteString + "/xrpc/" + nsid)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object)))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(timeout))
            let body = try await response.body.collect(upTo: 1 << 20)
            let json = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
            return (Int(response.status.code), json?["error"] as? String)
        } catch {
            return (0, "no answer: \(error)")
        }
    }

    /// Whether `base` answers `GET /xrpc/_health` with 200 within 5 s.
    /// How long `_health` takes to answer now (printed, never asserted).
    /// Measured by `curl` in a process of its own where there is one: this
    /// test process may itself be busy being the hostile host.
    static func healthLatency(_ base: URL) async -> String {
        let curl = URL(fileURLWithPath: "/usr/bin/curl")
        if FileManager.default.isExecutableFile(atPath: curl.path),
            let result = try? Processes.run(curl, ["-s", "-o", "/dev/null", "-m", "5", "-w", "%{http_code} %{time_total}", base.absoluteString + "/xrpc/_health"]),
            case let parts = result.stdout.split(separator: " "), parts.count == 2, parts[0] == "200", let seconds = Double(parts[1])
        {
            return String(format: "%.1f ms (curl)", seconds * 1000)
        }
        let start = ContinuousClock.now
        guard await health(base) else { return "no answer" }
        let elapsed = ContinuousClock.now - start
        return String(format: "%.1f ms", Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
    }

    static func health(_ base: URL) async -> Bool {
        let request = HTTPClientRequest(url: base.absoluteString + "/xrpc/_health")
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(5)) else { return false }
        _ = try? await response.body.collect(upTo: 1 << 20)
        return response.status.code == 200
    }

    /// How the relay process ended.
    static func exit(of relay: ServeProcess) -> String {
        guard !relay.process.isRunning else {
            let crashing = !ProcessProbe.children(of: relay.process.processIdentifier).isEmpty
            return crashing ? "crashed (its crash handler is still writing the backtrace)" : "is running"
        }
        let status = relay.process.terminationStatus
        return relay.process.terminationReason == .uncaughtSignal
            ? "died of signal \(status)\(status == SIGILL ? " (SIGILL)" : status == SIGTRAP ? " (SIGTRAP)" : "")" : "exited with status \(status)"
    }

    /// Kills the relay (a graceful stop could wait on a stalled host) and
    /// removes its data. A crashed relay's `swift-backtrace` child goes
    /// first: while it lives, the relay's end is not reported to us, and
    /// waiting for it would hang.
    static func finish(_ relay: ServeProcess) {
        for child in ProcessProbe.children(of: relay.process.processIdentifier) { kill(child, SIGKILL) }
        relay.kill()
        try? FileManager.default.removeItem(at: relay.data)
    }

    /// The bytes of the relay's `relay.sqlite` and `relay.sqlite-wal`.
    static func databaseBytes(_ relay: ServeProcess) -> Int {
        let directory = relay.data.appendingPathComponent("relay")
        return ["relay.sqlite", "relay.sqlite-wal"].reduce(0) { total, name in
            let attributes = try? FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(name).path)
            return total + ((attributes?[.size] as? NSNumber)?.intValue ?? 0)
        }
    }

    /// The first `count` frames of the relay's firehose from cursor 0, or
    /// those that came within `seconds`. The subscription is cancelled as
    /// soon as they are in (cancelling closes the socket at once).
    static func frames(of relay: URL, count: Int, within seconds: Double) async -> [[UInt8]] {
        let collected = Collected()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Bluesky(serverURL: relay, retryConfig: .none).sync.subscribeRepoFrames(cursor: 0) { collected.append($0) }
            }
            group.addTask { _ = await eventually(within: seconds) { collected.frames.count >= count } }
            await group.next()
            group.cancelAll()
        }
        return Array(collected.frames.prefix(count))
    }

    /// Frames gathered by a subscription.
    final class Collected: Sendable {
        private let state = Mutex<[[UInt8]]>([])
        func append(_ frame: [UInt8]) { state.withLock { $0.append(frame) } }
        var frames: [[UInt8]] { state.withLock { $0 } }
    }
}

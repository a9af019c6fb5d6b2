import ATData
import ATSyntax
import Bluesky
import Foundation
import Hummingbird
import Logging
import Server
import Synchronization
import Testing
import TestSupport

/// The PDS's side of the crawl loop: `requestCrawl` on each configured relay
/// at start-up, and with `--notify-interval`, `notifyOfUpdate` after writes
/// at most once per interval. A stand-in relay records what it is told.
@Suite("PDS crawler notifications", .serialized)
struct CrawlerNotificationTests {
    /// An HTTP server that records the crawl calls it gets.
    final class RecordingRelay: Sendable {
        final class Log: Sendable { let calls = Mutex<[(nsid: String, hostname: String)]>([]) }
        let log = Log()
        let url: URL
        private let task: Task<Void, any Error>

        init() async throws {
            let port = try PDSServerPort.free()
            url = URL(string: "http://127.0.0.1:\(port)")!
            let router = Router()
            let log = log
            router.post("/xrpc/:nsid") { request, context -> Response in
                let body = try await request.body.collect(upTo: 4096)
                let json = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
                log.calls.withLock { $0.append((context.parameters.get("nsid") ?? "", json?["hostname"] as? String ?? "")) }
                return Response(status: .ok)
            }
            let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
            var logger = Logger(label: "recording-relay")
            logger.logLevel = .critical
            let app = Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
                onServerRunning: { _ in readyContinuation.finish() }, logger: logger)
            task = Task { try await app.runService() }
            for await _ in ready {}
        }

        func stop() { task.cancel() }
        var names: [String] { log.calls.withLock { $0.map(\.nsid) } }
        var hostnames: [String] { log.calls.withLock { $0.map(\.hostname) } }
    }

    @Test func requestCrawlAtStartUpThenNotifyOfUpdateAtMostOncePerInterval() async throws {
        let relay = try await RecordingRelay()
        let pds = try ServeProcess(arguments: ["--crawler", relay.url.absoluteString, "--notify-interval", "5"])
        defer { pds.stop(); relay.stop() }
        let deadline = Date().addingTimeInterval(30)
        while relay.names.isEmpty, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(relay.names == ["com.atproto.sync.requestCrawl"])
        #expect(relay.hostnames == ["127.0.0.1:\(pds.url.port ?? 0)"])

        var client = Bluesky(serverURL: pds.url, retryConfig: .none)
        let info = try await client.server.createAccount(handle: try Handle("notify\(UInt32.random(in: 0..<UInt32.max)).test"), password: "pw")
        client.bearer = .token(info.accessJwt)
        let post = try NSID("app.bsky.feed.post")
        func write() async throws {
            _ = try await client.repo.createRecord(
                repo: .did(info.did), collection: post, record: ["$type": "app.bsky.feed.post", "text": "x", "createdAt": "2024-01-01T00:00:00Z"])
        }
        let started = Date()
        for _ in 0..<5 { try await write() }  // within one interval: one notification
        try await Task.sleep(for: .milliseconds(500))
        // (Unless a loaded machine took longer than the interval for the five writes.)
        if Date().timeIntervalSince(started) < 5 {
            #expect(relay.names == ["com.atproto.sync.requestCrawl", "com.atproto.sync.notifyOfUpdate"])
        }
        try await Task.sleep(for: .seconds(5))
        try await write()
        try await Task.sleep(for: .milliseconds(500))
        let notifications = relay.names.filter { $0 == "com.atproto.sync.notifyOfUpdate" }.count
        #expect(notifications >= 2 && notifications <= 1 + Int(Date().timeIntervalSince(started) / 5) + 1)
        #expect(relay.hostnames.allSatisfy { $0 == "127.0.0.1:\(pds.url.port ?? 0)" })
    }
}

/// A free loopback port.
enum PDSServerPort {
    static func free() throws -> Int { try Server.PDSServer.freePort(host: "127.0.0.1") }
}

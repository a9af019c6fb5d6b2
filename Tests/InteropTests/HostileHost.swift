import ATCrypto
import ATData
import ATRepo
import ATSyntax
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import Synchronization

/// # HostileHost
///
/// A fake atproto host that misbehaves on purpose, for the relay's
/// hostile-input tests (issue 11, `HostileRelayTests`). It is one
/// Hummingbird 2 server on `127.0.0.1` and a free port that plays two parts
/// at once, so that a relay started with `--plc-url <host.url>` and asked to
/// crawl `127.0.0.1:PORT` talks to nothing else:
///
/// - the **PLC directory**: `GET /did:plc:…` answers the DID document of
///   ``Identity/did``, whose `#atproto` key (Multikey) is ``Identity/key``'s and
///   whose `#atproto_pds` service is the host itself (``Identity/url``), so the
///   relay takes it as the account's PDS;
/// - the **PDS**: `subscribeRepos` (a WebSocket) sends the scripted frames of
///   ``Behaviour/firehose`` to its first subscriber, in order, each built
///   only when it is sent, then stays open until the host stops;
///   `getRepo` and `listRepos` do what ``Behaviour/getRepo`` and
///   ``Behaviour/listRepos`` say: an error, a redirect, a CAR that never
///   ends (streamed lazily, until the client goes), a stall. Any other
///   path is a 404.
///
/// It counts requests per path (``requests(_:)``), the bytes of each
/// `getRepo` body it wrote (``getRepoBodies``) and what it wrote on the
/// firehose (``firehose``), so that tests can wait for the relay to act and
/// check what it took. ``stop()`` ends every stall and stream within 100 ms.
///
/// ```swift
/// let host = try await HostileHost { me in
///     let commit = try HostileFrames.commit(seq: 1, by: me)  // first sight: the relay will call getRepo
///     return .init(firehose: [{ commit }], getRepo: .endlessCAR(limit: 600 << 20))
/// }
/// defer { host.stop() }
/// let relay = try ServeProcess(
///     arguments: ["--relay-allow-private", "--plc-url", host.url.absoluteString, "--relay-host-limit", "off"], role: "relay")
/// // POST {relay}/xrpc/com.atproto.sync.requestCrawl {"hostname": host.hostname}, then
/// // wait on host.requests(HostileHost.getRepoPath), host.firehose, … with `eventually`.
/// ```
///
/// ``HostileFrames`` builds the frames (valid commits, commits that decode
/// but prove nothing, `#identity` with junk fields); ``CountingListener``
/// is a second loopback listener that counts what reaches it (a redirect
/// target, a `did:web` host); `ProcessProbe` and ``RSSSampler`` watch the
/// relay process. The relay-side rows (C1, H1–H3, M3, M6) are in
/// `HostileRelayTests`.
final class HostileHost: Sendable {
    /// Who the host says it is, known before it starts (the frames need it).
    struct Identity: Sendable {
        /// The one account it hosts: a random `did:plc`.
        let did: DID
        /// That account's signing key (K-256).
        let key: any PrivateKey
        /// The port it listens on.
        let port: Int
        /// `http://127.0.0.1:PORT`: its PLC directory and its PDS.
        var url: URL { URL(string: "http://127.0.0.1:\(port)")! }
        /// `127.0.0.1:PORT`, as a relay is asked to crawl it.
        var hostname: String { "127.0.0.1:\(port)" }
    }

    /// How `getRepo` answers.
    enum GetRepo: Sendable {
        /// `400 RepoNotFound`.
        case notFound
        /// `200`: a valid CAR header, then one 1 MiB raw block (valid, with
        /// its CID) over and over, up to `limit` bytes or until the client goes.
        case endlessCAR(limit: Int)
        /// `302 Found` to `location`.
        case redirect(to: URL)
    }

    /// How `listRepos` answers.
    enum ListRepos: Sendable {
        /// An empty page.
        case empty
        /// Nothing for `seconds` (or until the host stops), then an empty page.
        case stall(seconds: Double)
    }

    /// What the host does.
    struct Behaviour: Sendable {
        /// The firehose frames, in order, each built as it is sent.
        var firehose: [@Sendable () -> [UInt8]] = []
        var getRepo: GetRepo = .notFound
        var listRepos: ListRepos = .empty
        /// The largest WebSocket frame it writes; a longer message is split
        /// into continuation frames (16 MiB: each message in one frame).
        var webSocketFrameSize = 16 << 20
    }

    /// What it wrote on its firehose.
    struct FirehoseLog: Sendable {
        var subscriptions = 0
        var frames = 0
        var bytes = 0
        /// The script is over: every frame written, or a write failed.
        var finished = false
        /// A write failed (the subscriber went away).
        var failed = false
    }

    /// One `getRepo` body it streamed.
    struct BodyLog: Sendable {
        var bytes = 0
        /// Over: the whole body was written, or the client went away.
        var ended = false
    }

    static let getRepoPath = "/xrpc/com.atproto.sync.getRepo"
    static let listReposPath = "/xrpc/com.atproto.sync.listRepos"
    static let subscribeReposPath = "/xrpc/com.atproto.sync.subscribeRepos"

    let identity: Identity
    var url: URL { identity.url }
    var hostname: String { identity.hostname }
    var did: DID { identity.did }
    private let counts = Mutex<[String: Int]>([:])
    private let firehoseLog = Mutex(FirehoseLog())
    private let bodies = Mutex<[BodyLog]>([])
    private let stopped = Atomic(false)
    private let task = Mutex<Task<Void, any Error>?>(nil)

    /// Starts the host on a free loopback port and waits until it listens.
    /// `script` gets the host's identity and says how it behaves.
    init(_ script: (Identity) throws -> Behaviour) async throws {
        let port = try PDSServerPort.free()
        identity = Identity(did: try Self.randomPLC(), key: try Keys.generate(.k256), port: port)
        let behaviour = try script(identity)
        let router = Router()
        router.get("/:did") { [self] request, context in
            count(request.uri.path)
            return try didDocument(for: context.parameters.get("did") ?? "")
        }
        router.get(RouterPath(Self.getRepoPath)) { [self] request, _ in
            count(request.uri.path)
            return getRepo(behaviour.getRepo)
        }
        router.get(RouterPath(Self.listReposPath)) { [self] request, _ in
            count(request.uri.path)
            if case .stall(let seconds) = behaviour.listRepos { await pause(seconds) }
            return Self.json(#"{"repos":[]}"#)
        }
        let frames = behaviour.firehose
        let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
        let sockets = HTTP1WebSocketUpgradeChannel.Configuration(ws: .init(maxFrameSize: behaviour.webSocketFrameSize))
        let app = Application(
            router: router,
            server: .http1WebSocketUpgrade(configuration: sockets) { [self] request, _, _ in
                guard let path = request.path, path.hasPrefix(Self.subscribeReposPath) else { return .dontUpgrade }
                count(Self.subscribeReposPath)
                return .upgrade([:]) { [self] inbound, outbound, _ in
                    let first = firehoseLog.withLock { log in
                        log.subscriptions += 1
                        return log.subscriptions == 1
                    }
                    if first { await play(frames, to: outbound) }
                    await holdOpen(inbound)
                }
            },
            configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { _ in readyContinuation.finish() },
            logger: { var l = Logger(label: "hostile-host"); l.logLevel = .critical; return l }())
        task.withLock { $0 = Task { try await app.runService() } }
        for await _ in ready {}
    }

    /// Stops the host: stalls and streams end, and the server shuts down.
    func stop() {
        stopped.store(true, ordering: .relaxed)
        task.withLock { $0 }?.cancel()
    }

    deinit { stop() }

    /// The requests it got for `path` (the WebSocket upgrades count under ``subscribeReposPath``).
    func requests(_ path: String) -> Int { counts.withLock { $0[path] ?? 0 } }

    /// Every path it was asked for, with its count.
    var allRequests: [String: Int] { counts.withLock { $0 } }

    /// What it wrote on its firehose.
    var firehose: FirehoseLog { firehoseLog.withLock { $0 } }

    /// The `getRepo` bodies it streamed, in order.
    var getRepoBodies: [BodyLog] { bodies.withLock { $0 } }

    private func count(_ path: String) { counts.withLock { $0[path, default: 0] += 1 } }

    /// Sleeps `seconds`, or less if the host stops.
    private func pause(_ seconds: Double) async {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, !stopped.load(ordering: .relaxed) { try? await Task.sleep(for: .milliseconds(100)) }
    }

    /// Writes the scripted frames in order until one fails or the host stops.
    private func play(_ frames: [@Sendable () -> [UInt8]], to outbound: WebSocketOutboundWriter) async {
        for make in frames where !stopped.load(ordering: .relaxed) {
            let frame = make()
            do {
                try await outbound.write(.binary(ByteBuffer(bytes: frame)))
            } catch {
                firehoseLog.withLock { $0.failed = true }
                break
            }
            firehoseLog.withLock { log in
                log.frames += 1
                log.bytes += frame.count
            }
        }
        firehoseLog.withLock { $0.finished = true }
    }

    /// Keeps a subscription open until the client closes it or the host stops.
    private func holdOpen(_ inbound: WebSocketInboundStream) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { do { for try await _ in inbound {} } catch {} }
            group.addTask { [self] in await pause(24 * 3600) }
            await group.next()
            group.cancelAll()
        }
    }

    private func getRepo(_ mode: GetRepo) -> Response {
        switch mode {
        case .notFound:
            return Self.json(#"{"error":"RepoNotFound","message":"no such repository"}"#, status: .badRequest)
        case .redirect(let location):
            return Response(status: .found, headers: [.location: location.absoluteString])
        case .endlessCAR(let limit):
            let index = bodies.withLock { bodies in
                bodies.append(BodyLog())
                return bodies.count - 1
            }
            let (header, block) = Self.endlessCARParts()
            return Response(
                status: .ok, headers: [.contentType: "application/vnd.ipld.car"],
                body: ResponseBody { [self] writer in
                    defer { bodies.withLock { $0[index].ended = true } }
                    try await writer.write(header)
                    var sent = header.readableBytes
                    // In 64 KiB slices of the one block (shared storage): the
                    // writer lets a few dozen writes through ahead of the
                    // reader, so small ones keep the count close to what the
                    // client took.
                    let slices = stride(from: 0, to: block.readableBytes, by: 1 << 16).map { offset in
                        block.getSlice(at: offset, length: min(1 << 16, block.readableBytes - offset))!
                    }
                    while sent < limit, !stopped.load(ordering: .relaxed) {
                        for slice in slices {
                            try await writer.write(slice)
                            sent += slice.readableBytes
                            bodies.withLock { $0[index].bytes = sent }
                        }
                    }
                    try await writer.finish(nil)
                })
        }
    }

    /// The DID document of ``did`` (404 for any other DID).
    private func didDocument(for requested: String) throws -> Response {
        guard requested == identity.did.description else { return Self.json(#"{"message":"DID not registered"}"#, status: .notFound) }
        let did = identity.did.description
        let document: [String: Any] = [
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": did,
            "alsoKnownAs": ["at://hostile.test"],
            "verificationMethod": [
                ["id": did + "#atproto", "type": "Multikey", "controller": did, "publicKeyMultibase": identity.key.publicKey.multibase]
            ],
            "service": [["id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": identity.url.absoluteString]],
        ]
        let data = try JSONSerialization.data(withJSONObject: document)
        return Self.json(String(decoding: data, as: UTF8.self))
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// A CAR header whose root is a 1 MiB raw block, and that block framed
    /// (length, CID, bytes), to be written again and again.
    static func endlessCARParts() -> (header: ByteBuffer, block: ByteBuffer) {
        let data = [UInt8](repeating: 0xA5, count: 1 << 20)
        let cid = CID.compute(data, codec: .raw)
        let header = CARWriter.encode(roots: [cid], blocks: [(CID, [UInt8])]())
        let whole = CARWriter.encode(roots: [cid], blocks: [(cid, data)])
        return (ByteBuffer(bytes: header), ByteBuffer(bytes: whole[header.count...]))
    }

    /// A fresh `did:plc` (24 characters of base32).
    static func randomPLC() throws -> DID {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        return try DID("did:plc:" + String((0..<24).map { _ in alphabet.randomElement()! }))
    }
}

/// A loopback listener that answers 404 to everything and counts what it
/// gets: the target of a redirect, or the `did:web` host a hostile firehose
/// names, which the relay must not be made to hammer.
final class CountingListener: Sendable {
    let port: Int
    var url: URL { URL(string: "http://127.0.0.1:\(port)")! }
    private let log = Mutex<[String]>([])
    private let task = Mutex<Task<Void, any Error>?>(nil)

    init() async throws {
        port = try PDSServerPort.free()
        let router = Router()
        let record: @Sendable (Request, BasicRequestContext) async throws -> Response = { [self] request, _ in
            log.withLock { $0.append("\(request.method) \(request.uri.path)") }
            return Response(status: .notFound)
        }
        router.get("/**", use: record)
        router.post("/**", use: record)
        router.get("/", use: record)
        let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { _ in readyContinuation.finish() },
            logger: { var l = Logger(label: "counting-listener"); l.logLevel = .critical; return l }())
        task.withLock { $0 = Task { try await app.runService() } }
        for await _ in ready {}
    }

    /// The requests it got, as `METHOD /path`.
    var requests: [String] { log.withLock { $0 } }

    func stop() { task.withLock { $0 }?.cancel() }
    deinit { stop() }
}

import ATData
import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWSClient
import HummingbirdWebSocket
import Logging
import NIOCore
import Synchronization

/// A man in the middle for relay tests: it forwards HTTP and the firehose of
/// a PDS, and on request breaks the signature of the next `#commit` (the
/// commit block is re-encoded and re-addressed, so only the signature is
/// wrong), drops the next `#commit`, or answers `getRepo` with 503.
final class TamperProxy: Sendable {
    /// What the proxy does to the traffic.
    final class Switches: Sendable {
        /// Break the next commit's signature.
        let tamperNextCommit = Atomic(false)
        /// Drop the next commit frame (a gap in the host's sequence).
        let dropNextCommit = Atomic(false)
        /// Answer `getRepo` with 503.
        let refuseGetRepo = Atomic(false)
        /// The CIDs of the commits it broke.
        let tampered = Mutex<[CID]>([])
    }
    let switches = Switches()
    let url: URL
    private let task: Task<Void, any Error>

    /// Listens on `port` and forwards to `upstream`.
    init(port: Int, upstream: URL) async throws {
        url = URL(string: "http://127.0.0.1:\(port)")!
        let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
        let router = Router()
        router.middlewares.add(RefuseGetRepo(switches: switches))  // before the routes, or they would not pass through it
        let forward: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            try await Self.forward(request, to: upstream)
        }
        router.get("/**", use: forward)
        router.post("/**", use: forward)
        let wsUpstream = upstream.absoluteString.replacingOccurrences(of: "http://", with: "ws://")
        let app = Application(
            router: router,
            server: .http1WebSocketUpgrade(configuration: .init(maxFrameSize: 16 << 20)) { [switches] request, _, _ in
                guard let path = request.path, path.hasPrefix("/xrpc/com.atproto.sync.subscribeRepos") else { return .dontUpgrade }
                return .upgrade([:]) { _, outbound, _ in
                    var configuration = WebSocketClientConfiguration()
                    configuration.maxFrameSize = 16 << 20
                    try await WebSocketClient.connect(url: wsUpstream + path, configuration: configuration, logger: { var l = Logger(label: "proxy"); l.logLevel = .critical; return l }()) {
                        inbound, _, _ in
                        for try await message in inbound.messages(maxSize: 16 << 20) {
                            guard case .binary(let buffer) = message else { continue }
                            var frame = Array(buffer.readableBytesView)
                            if switches.dropNextCommit.load(ordering: .relaxed), Self.isCommit(frame) {
                                switches.dropNextCommit.store(false, ordering: .relaxed)
                                continue
                            }
                            if switches.tamperNextCommit.load(ordering: .relaxed), let (broken, cid) = Self.breakSignature(frame) {
                                switches.tamperNextCommit.store(false, ordering: .relaxed)
                                switches.tampered.withLock { $0.append(cid) }
                                frame = broken
                            }
                            try await outbound.write(.binary(ByteBuffer(bytes: frame)))
                        }
                    }
                }
            },
            configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { _ in readyContinuation.finish() },
            logger: { var l = Logger(label: "proxy"); l.logLevel = .critical; return l }())
        task = Task { try await app.runService() }
        for await _ in ready {}
    }

    func stop() { task.cancel() }

    private static func forward(_ request: Request, to upstream: URL) async throws -> Response {
        var outgoing = HTTPClientRequest(url: upstream.absoluteString + (request.uri.string))
        outgoing.method = .init(rawValue: request.method.rawValue)
        for field in request.headers where field.name.canonicalName != "host" { outgoing.headers.add(name: field.name.rawName, value: field.value) }
        if request.method == .post {
            outgoing.body = .bytes(try await request.body.collect(upTo: 16 << 20))
        }
        let response = try await HTTPClient.shared.execute(outgoing, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 << 20)
        var headers = HTTPFields()
        if let type = response.headers.first(name: "content-type") { headers[.contentType] = type }
        return Response(status: .init(code: Int(response.status.code)), headers: headers, body: .init(byteBuffer: body))
    }

    /// Whether `frame` is a `#commit`.
    static func isCommit(_ frame: [UInt8]) -> Bool {
        (try? DAGCBOR.decodePrefix(frame))?.value["t"]?.stringValue == "#commit"
    }

    /// The frame with its commit's signature changed, and the new commit CID;
    /// `nil` for frames that are not commits.
    static func breakSignature(_ frame: [UInt8]) -> ([UInt8], CID)? {
        guard let (header, length) = try? DAGCBOR.decodePrefix(frame), header["t"]?.stringValue == "#commit",
            case .map(var body)? = try? DAGCBOR.decode(Array(frame[length...])), let car = body["blocks"]?.bytesValue,
            let oldCID = body["commit"]?.linkValue, let blocks = try? CARReader(car).blocks(),
            let commitBlock = blocks.first(where: { $0.cid == oldCID }), case .map(var commit)? = try? DAGCBOR.decode(Array(commitBlock.data)),
            var sig = commit["sig"]?.bytesValue
        else { return nil }
        sig[5] ^= 0x55
        commit["sig"] = .bytes(sig)
        let (newCID, newBytes) = DAGCBOR.encodeWithCID(.map(commit))
        let rebuilt = blocks.map { $0.cid == oldCID ? (newCID, newBytes) : ($0.cid, Array($0.data)) }
        body["blocks"] = .bytes(CARWriter<[UInt8]>.encode(roots: [newCID], blocks: rebuilt))
        body["commit"] = .link(newCID)
        return (DAGCBOR.encode(header) + DAGCBOR.encode(.map(body)), newCID)
    }
}

/// 503 for `getRepo` while `refuse` is set.
struct RefuseGetRepo<Context: RequestContext>: RouterMiddleware {
    let switches: TamperProxy.Switches
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if switches.refuseGetRepo.load(ordering: .relaxed), request.uri.path.hasSuffix("com.atproto.sync.getRepo") {
            return Response(status: .serviceUnavailable)
        }
        return try await next(request, context)
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOPosix

/// `bsky serve`: the PDS with its PLC directory role, on Hummingbird.
public enum PDSServer {
    /// Builds the application for `config`. The URL it announces is
    /// `config.publicURL`, else `http://host:port` (a free port is chosen
    /// first when `port` is 0).
    public static func application(
        config: ServerConfig, logger: Logger, onReady: @escaping @Sendable (URL) async -> Void = { _ in }
    ) async throws -> some ApplicationProtocol {
        var config = config
        if config.port == 0 { config.port = try freePort(host: config.host) }
        let publicURL = config.publicURL ?? URL(string: "http://\(config.host.contains(":") ? "[\(config.host)]" : config.host):\(config.port)")!
        let pds = try await PDS.open(config: config, publicURL: publicURL, logger: logger)
        let router = Router(context: PDSRequestContext.self)
        router.middlewares.add(JSONErrorMiddleware())
        router.middlewares.add(CORSMiddleware(
            allowOrigin: .all,
            allowHeaders: [.accept, .authorization, .contentType, .origin, HTTPField.Name("atproto-proxy")!, HTTPField.Name("atproto-accept-labelers")!],
            allowMethods: [.get, .head, .post, .options],
            exposedHeaders: ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy", "Retry-After"]))
        var methods = XRPCMethods()
        pds.registerServerMethods(&methods)
        pds.registerRepoMethods(&methods)
        pds.registerSyncMethods(&methods)
        methods.register(on: router, limiter: RateLimiter(), logger: logger)
        pds.registerPLCRoutes(on: router)
        router.get("/") { _, _ in "This is an AT Protocol PDS (bluesky-swift), with a PLC directory at /did:plc:…\n" }
        router.get("/xrpc/_health") { _, _ in Response.json(["version": "bluesky-swift 0.1"]) }
        return Application(
            router: router,
            server: .http1WebSocketUpgrade(configuration: .init(maxFrameSize: 1 << 20)) { request, _, _ in pds.firehoseUpgrade(request) },
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "bsky"),
            onServerRunning: { _ in await onReady(publicURL) },
            logger: logger)
    }

    /// A port that is free on `host` right now.
    static func freePort(host: String) throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: host, port: 0).wait()
        defer { try? channel.close().wait() }
        guard let port = channel.localAddress?.port else { throw StorageError(.io, "no free port on \(host)") }
        return port
    }
}

/// Turns Hummingbird's own errors (unknown routes, oversize bodies) into
/// `{error, message}` JSON like every XRPC error.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as XRPCError {
            throw error
        } catch let error as HTTPResponseError {
            let name = switch error.status.code {
            case 404: "NotFound"
            case 405: "MethodNotAllowed"
            case 413: "PayloadTooLarge"
            case 400..<500: "InvalidRequest"
            default: "InternalServerError"
            }
            throw XRPCError(error.status, name, error.status.reasonPhrase)
        }
    }
}

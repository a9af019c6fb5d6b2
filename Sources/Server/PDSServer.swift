import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOPosix

/// `bsky serve`: the PDS with its PLC directory role, and the relay, on Hummingbird.
public enum PDSServer {
    /// Builds the application for `config`. The URL it announces is
    /// `config.publicURL`, else `http://host:port` (a free port is chosen
    /// first when `port` is 0).
    public static func application(
        config: ServerConfig, logger: Logger, onReady: @escaping @Sendable (URL) async -> Void = { _ in }
    ) async throws -> some ApplicationProtocol {
        var config = config
        let publicURL = try resolve(host: config.host, port: &config.port, publicURL: config.publicURL)
        let pds = try await PDS.open(config: config, publicURL: publicURL, logger: logger)
        let router = makeRouter()
        var methods = XRPCMethods()
        pds.registerMethods(&methods)
        methods.register(on: router, limiter: pds.limiter, logger: logger)
        pds.registerWellKnown(on: router)
        pds.registerPLCRoutes(on: router)
        router.get("/") { _, _ in "This is an AT Protocol PDS (bluesky-swift), with a PLC directory at /did:plc:…\n" }
        return Application(
            router: router,
            server: .guarded(limits: config.connections, maxFrameSize: 1 << 20) { request, channel, _ in
                pds.firehose.upgrade(request, from: channel.remoteAddress?.ipAddress ?? "unknown")
            },
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "bsky"),
            onServerRunning: { _ in
                await onReady(publicURL)
                pds.announceToCrawlers()
            },
            logger: logger)
    }

    /// The relay role on its own port: crawl requests, mirrored repositories
    /// and the combined firehose. Crawling resumes when the server runs and
    /// stops when it shuts down.
    public static func relayApplication(
        config: RelayConfig, logger: Logger, onReady: @escaping @Sendable (URL) async -> Void = { _ in }
    ) async throws -> some ApplicationProtocol {
        var config = config
        let publicURL = try resolve(host: config.host, port: &config.port, publicURL: config.publicURL)
        let relay = try await Relay.open(config: config, publicURL: publicURL, logger: logger)
        let router = makeRouter()
        var methods = XRPCMethods()
        relay.registerMethods(&methods)
        methods.register(on: router, limiter: relay.limiter, logger: logger)
        relay.registerAdminRoutes(on: router)
        router.get("/") { _, _ in "This is an AT Protocol relay (bluesky-swift)\n" }
        var app = Application(
            router: router,
            server: .guarded(limits: config.connections, maxFrameSize: 1 << 20) { request, channel, _ in
                relay.firehose.upgrade(request, from: channel.remoteAddress?.ipAddress ?? "unknown")
            },
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "bsky-relay"),
            onServerRunning: { _ in await onReady(publicURL) },
            logger: logger)
        app.addServices(relay)
        return app
    }

    /// The router both roles start from: JSON errors, CORS and `/xrpc/_health`.
    static func makeRouter() -> Router<PDSRequestContext> {
        let router = Router(context: PDSRequestContext.self)
        router.middlewares.add(JSONErrorMiddleware())
        router.middlewares.add(CORSMiddleware(
            allowOrigin: .all,
            allowHeaders: [.accept, .authorization, .contentType, .origin, HTTPField.Name("atproto-proxy")!, HTTPField.Name("atproto-accept-labelers")!],
            allowMethods: [.get, .head, .post, .options],
            exposedHeaders: ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy", "Retry-After"]))
        router.get("/xrpc/_health") { _, _ in Response.json(["version": "bluesky-swift 0.1"]) }
        return router
    }

    /// Picks a free port when `port` is 0; returns the URL a role announces:
    /// `publicURL`, else `http://host:port`.
    public static func resolve(host: String, port: inout Int, publicURL: URL?) throws -> URL {
        if port == 0 { port = try freePort(host: host) }
        return try publicURL ?? baseURL(host: host, port: port)
    }

    /// Runs a PDS and a relay side by side: the PDS asks the relay to crawl
    /// it, and the relay trusts the PDS though it is on a private address.
    /// Ports of 0 are resolved first.
    public static func pair(pds: inout ServerConfig, relay: inout RelayConfig) throws {
        let pdsURL = try resolve(host: pds.host, port: &pds.port, publicURL: pds.publicURL)
        pds.crawlers.append(try resolve(host: relay.host, port: &relay.port, publicURL: relay.publicURL))
        if let host = try? CrawlHost(pdsURL.absoluteString) { relay.trustedHosts.insert(host.description) }
    }

    /// `http://host:port`, with IPv6 in brackets.
    ///
    /// - Throws: ``XRPCError`` when that is not a URL (a host with spaces, say).
    public static func baseURL(host: String, port: Int) throws(XRPCError) -> URL {
        guard let url = URL(string: "http://\(host.contains(":") ? "[\(host)]" : host):\(port)") else {
            throw XRPCError.invalidRequest("http://\(host):\(port) is not a URL")
        }
        return url
    }

    /// A port that is free on `host` right now.
    public static func freePort(host: String) throws -> Int {
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

import AsyncHTTPClient
import Bluesky
import Foundation
import HTTPTypes
import NIOCore
import NIOPosix
import Synchronization

/// The one door for the server's outbound HTTP: the relay's crawls and
/// resyncs, DID documents, the PLC client and crawler notifications.
///
/// - Every request's host is vetted by the ``HostPolicy`` (the SSRF guard)
///   when it is sent, not once when the host was first named, and the
///   connection goes to the address that was checked — AsyncHTTPClient is
///   told to use it for the name, so `Host` and TLS SNI still carry the
///   name. A name that resolves elsewhere later (DNS rebinding) is vetted
///   again at that later connection.
/// - Redirects are never followed: a `3xx` is an answer like any other, so
///   a host cannot send a request on to an address the guard refuses.
/// - Bodies are not decompressed (no decompression bombs); callers cap how
///   much of a body they read.
public final class GuardedTransport: HTTPTransport {
    /// The guard.
    public let policy: HostPolicy
    /// One client per name and pinned address; replaced when the name resolves elsewhere.
    private let clients = Mutex<[String: (address: String, client: HTTPClient)]>([:])
    private let unpinned: HTTPClient
    /// The most clients kept; past it the least recently made one is shut down.
    static let clientLimit = 256

    /// A transport that vets every host with `policy`.
    public init(policy: HostPolicy) {
        self.policy = policy
        unpinned = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: Self.configuration(pin: nil))
    }

    deinit {
        let all = clients.withLock { $0.values.map(\.client) } + [unpinned]
        for client in all { Self.retire(client) }
    }

    /// Shuts `client` down in the background, keeping it alive until that is done.
    private static func retire(_ client: HTTPClient) {
        client.shutdown().whenComplete { _ in withExtendedLifetime(client) {} }
    }

    public func send(_ request: HTTPRequest, body: [UInt8]?, timeout: Duration) async throws(BlueskyError) -> TransportResponse {
        guard let url = request.url else { throw BlueskyError(kind: .badRequest, detail: "the request has no URL") }
        let vetted: VettedHost
        do {
            vetted = try await policy.vet(try CrawlHost(url: url))
        } catch {
            throw BlueskyError.transport(.connection, "refused by the SSRF guard: \(error.message)")
        }
        let client = client(for: vetted)
        return try await AsyncHTTPClientTransport(client: client).send(request, body: body, timeout: timeout)
    }

    /// Sends `request` (whose body may stream) to `url` once its host passes
    /// the guard, and returns the response with its body still to be read:
    /// for proxying, where neither body is held whole.
    ///
    /// - Throws: ``XRPCError`` when the guard refuses the host, or what
    ///   AsyncHTTPClient throws (a refused connection, the deadline).
    public func execute(_ request: HTTPClientRequest, url: URL, deadline: Duration) async throws -> HTTPClientResponse {
        let vetted = try await policy.vet(try CrawlHost(url: url))
        return try await client(for: vetted).execute(request, timeout: .nanoseconds(Int64(deadline.components.seconds) * 1_000_000_000 + deadline.components.attoseconds / 1_000_000_000))
    }

    /// The client that connects `vetted`'s name to its checked address.
    private func client(for vetted: VettedHost) -> HTTPClient {
        let name = vetted.host.host
        guard let address = vetted.address?.description, IPAddress(v4: name) == nil, IPAddress(v6: name) == nil else { return unpinned }
        let (client, retired) = clients.withLock { clients -> (HTTPClient, [HTTPClient]) in
            if let known = clients[name], known.address == address { return (known.client, []) }
            var retired = clients.removeValue(forKey: name).map { [$0.client] } ?? []
            if clients.count >= Self.clientLimit, let evicted = clients.keys.first {
                retired += clients.removeValue(forKey: evicted).map { [$0.client] } ?? []
            }
            let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: Self.configuration(pin: (name, address)))
            clients[name] = (address, client)
            return (client, retired)
        }
        for old in retired { Self.retire(old) }
        return client
    }

    private static func configuration(pin: (name: String, address: String)?) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: .seconds(60)), decompression: .disabled)
        if let pin { configuration.dnsOverride = [pin.name: pin.address] }
        return configuration
    }

    /// Shuts every client down.
    public func shutdown() async {
        let all = clients.withLock { clients in
            defer { clients.removeAll() }
            return clients.values.map(\.client)
        }
        for client in all { try? await client.shutdown() }
        try? await unpinned.shutdown()
    }
}

import ATSyntax
import Bluesky
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The relay: it crawls the hosts that ask for it, verifies every commit of
/// their firehoses, mirrors the repositories, and serves them with one
/// combined firehose of its own.
///
/// Each host has one crawler task that reads its `subscribeRepos` from the
/// stored cursor. A commit is applied when it verifies and continues the
/// mirrored repository exactly (its inversion gives the mirrored MST root);
/// anything else is a gap, and the repository is resynced from the host with
/// `getRepo?since=`, marked `desynchronized` until that is done.
public final class Relay: Service, Sendable {
    /// The configuration.
    public let config: RelayConfig
    /// The URL clients reach it at.
    public let publicURL: URL
    let hosts: any RelayStore
    let repos: any RepoStore
    let firehose: Firehose
    let identities: IdentityCache
    let policy: HostPolicy
    /// Every outbound HTTP request goes through it (see ``GuardedTransport``).
    let outbound: GuardedTransport
    let logger: Logger
    /// The crawler task of each host being crawled.
    let crawlers = Mutex<[String: Task<Void, Never>]>([:])
    /// The mirrored state of repositories, as last stored (see ``head(of:)``).
    let heads = Mutex<[DID: MirroredRepo]>([:])
    /// Rate limits of the relay's methods and admin attempts.
    let limiter = RateLimiter()
    /// Repository exports running at once.
    let exports = ExportGate()
    /// Hosts whose crawler is waiting to reconnect (a crawl request restarts it at once).
    let reconnecting = Mutex<Set<String>>([])

    /// A relay over SQLite in `config.dataDirectory`.
    public static func open(config: RelayConfig, publicURL: URL, logger: Logger) async throws -> Relay {
        try FileManager.default.createDirectory(at: config.dataDirectory, withIntermediateDirectories: true)
        let database = try SQLiteStore(
            path: config.dataDirectory.appendingPathComponent("relay.sqlite").path, synchronous: config.synchronous, checkpointPages: 8192)
        try await database.pruneEvents(before: Date(timeIntervalSinceNow: -config.firehoseWindow))
        return try await Relay(config: config, publicURL: publicURL, hosts: database, repos: database, events: database, logger: logger)
    }

    init(config: RelayConfig, publicURL: URL, hosts: any RelayStore, repos: any RepoStore, events: any EventStore, logger: Logger) async throws {
        self.config = config
        self.publicURL = publicURL
        self.hosts = hosts
        self.repos = repos
        self.firehose = try await Firehose(events: events, queueLimit: 10_000, limits: config.connections)
        var trusted = config.trustedHosts
        // The operator's PLC directory may be on a private address (the PDS next door).
        if let plc = try? CrawlHost(url: config.plcURL) { trusted.insert(plc.description) }
        self.policy = HostPolicy(allowPrivate: config.allowPrivateHosts, trusted: trusted)
        self.outbound = GuardedTransport(policy: policy)
        self.identities = IdentityCache(resolver: DIDResolver(plcURL: config.plcURL, insecureWeb: config.allowPrivateHosts, transport: outbound))
        self.logger = logger
        for banned in config.bannedHosts { try hosts.setStatus(.banned, ofHost: banned) }
    }

    /// Resumes crawling every host that is not banned.
    public func start() async {
        var cursor: String?
        while let page = try? hosts.hosts(after: cursor, limit: 500), !page.isEmpty {
            for host in page where host.status != .banned {
                guard let parsed = try? CrawlHost(host.hostname), let isPrivate = try? await policy.check(parsed) else { continue }
                startCrawler(parsed, secure: !isPrivate)
            }
            cursor = page.last?.hostname
        }
    }

    /// Runs as a service: crawls until graceful shutdown.
    public func run() async throws {
        await start()
        try? await gracefulShutdown()
        stop()
        await outbound.shutdown()
    }

    /// Stops every crawler.
    public func stop() {
        let tasks = crawlers.withLock { crawlers in
            defer { crawlers.removeAll() }
            return Array(crawlers.values)
        }
        tasks.forEach { $0.cancel() }
    }

    /// `requestCrawl` and `notifyOfUpdate`: validates the hostname against
    /// the SSRF guard and the bans, records the host, and crawls it unless a
    /// crawler already runs (which a notification wakes up when it waits to
    /// reconnect).
    func requestCrawl(_ hostname: String) async throws(XRPCError) {
        let host = try CrawlHost(hostname)
        let banned: Bool
        do { banned = try hosts.host(host.description)?.status == .banned } catch {
            logger.error("requestCrawl \(host): \(error)")
            throw XRPCError.internalError()
        }
        if banned { throw XRPCError.named("HostBanned", "\(host) is banned from this relay") }
        let isPrivate = try await policy.check(host)
        do {
            let record = try hosts.addHost(host.description)
            if record.status != .active { try hosts.setStatus(.active, ofHost: host.description) }
        } catch let error as XRPCError {
            throw error
        } catch {
            logger.error("requestCrawl \(host): \(error)")
            throw XRPCError.internalError()
        }
        startCrawler(host, secure: !isPrivate, restart: true)
    }

    /// Bans `hostname`: its crawler stops, and it is never crawled again.
    func ban(_ hostname: String) throws {
        let host = try CrawlHost(hostname)
        try hosts.setStatus(.banned, ofHost: host.description)
        crawlers.withLock { $0.removeValue(forKey: host.description) }?.cancel()
    }

    /// Starts the crawler of `host` unless one runs; with `restart`, one that
    /// is waiting to reconnect (the host was offline) starts over now.
    func startCrawler(_ host: CrawlHost, secure: Bool, restart: Bool = false) {
        let key = host.description
        crawlers.withLock { crawlers in
            if let running = crawlers[key] {
                guard restart, reconnecting.withLock({ $0.contains(key) }) else { return }
                running.cancel()
            }
            crawlers[key] = Task { [self] in await crawl(host, secure: secure) }
        }
    }
}

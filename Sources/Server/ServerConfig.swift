import ATCrypto
import Bluesky
import Foundation

/// How `bsky serve` runs: where it listens and keeps its data, who may sign
/// up, and its limits.
public struct ServerConfig: Sendable {
    /// The data directory: the SQLite database, blobs, keys and the JWT secret.
    public var dataDirectory: URL
    /// The address to listen on.
    public var host: String
    /// The port (0 picks a free one).
    public var port: Int
    /// The URL clients reach the server at; `http://host:port` when `nil`.
    public var publicURL: URL?
    /// The domain handles live under: `alice.<handleDomain>`.
    public var handleDomain: String
    /// An external PLC directory; `nil` uses the embedded one, served at `/did:plc:…`.
    public var plcURL: URL?
    /// Whether creating an account needs an invite code (or the admin password).
    public var inviteRequired: Bool
    /// The admin password (HTTP Basic, user `admin`), for invite codes and
    /// for creating accounts without one.
    public var adminPassword: String?
    /// The largest JSON request body.
    public var maxJSONBody: Int
    /// The largest blob.
    public var maxBlob: Int
    /// The largest repository CAR `importRepo` takes (it is staged on disk,
    /// not in memory).
    public var maxImportBytes: Int = 16 << 30
    /// The most repository writers (each with its tree in memory) kept for
    /// the accounts used most recently.
    public var writerCacheSize: Int = 256
    /// The write limit per client (`nil`: none).
    public var writeLimit: RateLimitRule?
    /// The `getRepo` limit per client (`nil`: none).
    public var getRepoLimit: RateLimitRule?
    /// bcrypt's cost.
    public var bcryptCost: UInt8
    /// SQLite's `synchronous` pragma: `NORMAL` (survives a process crash) or `FULL`.
    public var synchronous: String
    /// How far back, in seconds, the firehose can be replayed from a cursor.
    public var firehoseWindow: TimeInterval = 72 * 3600
    /// The curve of new accounts' repository signing keys (K-256, as most
    /// of the network uses, or P-256).
    public var signingCurve: Curve = .k256
    /// Relays to ask for a crawl (`requestCrawl`) at start-up.
    public var crawlers: [URL] = []
    /// When set, the crawlers also get `notifyOfUpdate` after writes, at most
    /// once per this many seconds.
    public var notifyInterval: TimeInterval?
    /// Connections, timeouts and firehose subscribers.
    public var connections = ConnectionLimits()
    /// The most bytes of blobs an account may have uploaded that no record
    /// references yet; an upload past it gets 400 `BlobQuotaExceeded`.
    public var unreferencedBlobQuota: Int = 256 << 20
    /// How long, in seconds, an uploaded blob may stay unreferenced before
    /// it is deleted.
    public var orphanBlobLifetime: TimeInterval = 3600
    /// Login attempts per account (handle, DID or email), as the reference
    /// PDS has them: 30 per 5 minutes.
    public var loginLimit: RateLimitRule? = RateLimitRule(limit: 30, window: 300)
    /// Operations posted to the embedded PLC directory per client.
    public var plcWriteLimit: RateLimitRule? = RateLimitRule(limit: 100, window: 3600)
    /// Failed admin-password attempts per client before it is refused (429).
    public var adminAttemptLimit = RateLimitRule(limit: 20, window: 300)
    /// Where `app.bsky.*` calls go when they name no service (`atproto-proxy`).
    public var appview: ProxiedService?
    /// Where `chat.bsky.*` calls go when they name no service.
    public var chat: ProxiedService?
    /// Whether `atproto-proxy` may name a service on a private, loopback or
    /// link-local address. The configured AppView and chat service are
    /// trusted whatever their address.
    public var proxyAllowPrivate = false
    /// How long, in seconds, a proxied call may wait for the service's answer to begin.
    public var proxyTimeout: TimeInterval = 30
    /// The DNS lookups of handle resolution.
    public var dns: any DNSResolver = SystemDNSResolver()
    /// What sends email (deletion tokens…); by default the server log.
    public var mailer: any Mailer = LogMailer()
    /// How long a token sent by email stays good, in seconds.
    public var emailTokenLifetime: TimeInterval = 15 * 60

    /// The defaults: `./bsky-data`, 127.0.0.1:2583, handles under `.test`,
    /// the embedded PLC, open sign-up, 1 MiB JSON, 100 MiB blobs, 5,000 writes
    /// and 300 `getRepo` calls per client per hour.
    public init(
        dataDirectory: URL = URL(fileURLWithPath: "bsky-data"), host: String = "127.0.0.1", port: Int = 2583,
        publicURL: URL? = nil, handleDomain: String = "test", plcURL: URL? = nil, inviteRequired: Bool = false,
        adminPassword: String? = nil, maxJSONBody: Int = 1 << 20, maxBlob: Int = 100 << 20,
        writeLimit: RateLimitRule? = RateLimitRule(limit: 5000, window: 3600),
        getRepoLimit: RateLimitRule? = RateLimitRule(limit: 300, window: 3600), bcryptCost: UInt8 = 10,
        synchronous: String = "NORMAL"
    ) {
        self.dataDirectory = dataDirectory
        self.host = host
        self.port = port
        self.publicURL = publicURL
        self.handleDomain = handleDomain.hasPrefix(".") ? String(handleDomain.dropFirst()) : handleDomain
        self.plcURL = plcURL
        self.inviteRequired = inviteRequired
        self.adminPassword = adminPassword
        self.maxJSONBody = maxJSONBody
        self.maxBlob = maxBlob
        self.writeLimit = writeLimit
        self.getRepoLimit = getRepoLimit
        self.bcryptCost = bcryptCost
        self.synchronous = synchronous
    }
}

/// A service the PDS forwards calls to, with service auth.
public struct ProxiedService: Sendable, Hashable {
    /// Where it answers XRPC.
    public var url: URL
    /// Its DID: the audience of the tokens it gets.
    public var did: String

    /// A service at `url` known as `did`.
    public init(url: URL, did: String) {
        self.url = url
        self.did = did
    }
}

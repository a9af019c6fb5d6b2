import Foundation

/// How the relay role runs: where it listens and keeps its data, which PLC
/// directory it resolves DIDs with, and which hosts it may crawl.
public struct RelayConfig: Sendable {
    /// The data directory: `relay.sqlite` lives here.
    public var dataDirectory: URL
    /// The address to listen on.
    public var host: String
    /// The port (0 picks a free one).
    public var port: Int
    /// The URL clients reach the relay at; `http://host:port` when `nil`.
    public var publicURL: URL?
    /// The PLC directory that `did:plc` identities are resolved with.
    public var plcURL: URL
    /// Whether hosts on private, loopback and link-local addresses may be
    /// crawled (over plain HTTP). Off by default: that is the SSRF guard.
    public var allowPrivateHosts: Bool
    /// Hosts the operator trusts (`host[:port]`), crawled even on a private
    /// address: the PDS that `bsky serve` runs next to the relay, say.
    public var trustedHosts: Set<String> = []
    /// Hosts that are never crawled.
    public var bannedHosts: Set<String>
    /// The most events per second taken from one host; more are throttled.
    public var hostEventLimit: RateLimitRule?
    /// How often one client may call `requestCrawl`/`notifyOfUpdate`.
    public var crawlRequestLimit: RateLimitRule?
    /// The admin password (HTTP Basic, user `admin`) for banning hosts.
    public var adminPassword: String?
    /// How far back, in seconds, the relay's firehose can be replayed.
    public var firehoseWindow: TimeInterval
    /// SQLite's `synchronous` pragma.
    public var synchronous: String
    /// The largest repository (CAR bytes) a resync fetches; a host that
    /// sends more is cut off and the repository stays desynchronized.
    public var maxRepoBytes: Int = 128 << 20
    /// The largest firehose frame taken from a host (the lexicon allows
    /// 2,000,000 bytes of blocks in a `#commit`).
    public var maxFrameBytes: Int = 5 << 20
    /// The most bytes of a host's events held between reading and storing:
    /// read and being verified, and again in each of the two batches (the
    /// one being assembled and the one being written), so about three times
    /// this in all.
    public var ingestBytes: Int = 32 << 20
    /// How often one client may call `getRepo` on the relay (`nil`: no limit).
    public var getRepoLimit: RateLimitRule? = RateLimitRule(limit: 300, window: 3600)
    /// Connections, timeouts and firehose subscribers.
    public var connections = ConnectionLimits()

    /// The defaults: `./bsky-data/relay`, 127.0.0.1:2584, the PLC directory
    /// at `plcURL`, public hosts only, 1,000 events per second per host and
    /// 100 crawl requests per client per hour.
    public init(
        dataDirectory: URL = URL(fileURLWithPath: "bsky-data/relay"), host: String = "127.0.0.1", port: Int = 2584, publicURL: URL? = nil,
        plcURL: URL, allowPrivateHosts: Bool = false, bannedHosts: Set<String> = [],
        hostEventLimit: RateLimitRule? = RateLimitRule(limit: 1000, window: 1),
        crawlRequestLimit: RateLimitRule? = RateLimitRule(limit: 100, window: 3600), adminPassword: String? = nil,
        firehoseWindow: TimeInterval = 72 * 3600, synchronous: String = "NORMAL"
    ) {
        self.dataDirectory = dataDirectory
        self.host = host
        self.port = port
        self.publicURL = publicURL
        self.plcURL = plcURL
        self.allowPrivateHosts = allowPrivateHosts
        self.bannedHosts = bannedHosts
        self.hostEventLimit = hostEventLimit
        self.crawlRequestLimit = crawlRequestLimit
        self.adminPassword = adminPassword
        self.firehoseWindow = firehoseWindow
        self.synchronous = synchronous
    }
}

import Foundation

/// A client for an atproto host: a PDS, a relay, or anything else that speaks XRPC.
///
/// ```swift
/// let bluesky = Bluesky(serverURL: URL(string: "https://bsky.social")!, bearer: .token(jwt))
/// let car = try await bluesky.sync.getRepo(did: did)
/// for try await page in bluesky.sync.listBlobs(did: did) { print(page.cids) }
/// ```
///
/// The client is a value: copy it and change a field to get a variant
/// (another server, another bearer). Each call can also override the timeout,
/// the headers, the server and the retries with ``CallOptions``.
public struct Bluesky: Sendable {
    /// The host's base URL; calls go to `serverURL/xrpc/<nsid>`.
    public var serverURL: URL
    /// The `Authorization: Bearer` credential, if any.
    public var bearer: Bearer?
    /// The retries of each call, unless the call overrides them.
    public var retryConfig: RetryConfig
    /// The deadline of each attempt, unless the call overrides it.
    public var timeout: Duration
    /// What sends the requests.
    public var transport: any HTTPTransport
    /// The time source of retries.
    public var clock: any RetryClock
    /// The `User-Agent` header.
    public var userAgent: String

    /// A client for the host at `serverURL`.
    ///
    /// - Parameters:
    ///   - serverURL: the host, such as `https://bsky.social`.
    ///   - bearer: a static token, or a provider for tokens that refresh.
    ///   - retryConfig: the retries of every call (``RetryConfig/default``).
    ///   - timeout: the deadline of each attempt.
    ///   - transport: AsyncHTTPClient by default.
    ///   - clock: the time source of retries; tests pass a virtual one.
    public init(
        serverURL: URL, bearer: Bearer? = nil, retryConfig: RetryConfig = .default, timeout: Duration = .seconds(60),
        transport: any HTTPTransport = AsyncHTTPClientTransport(), clock: any RetryClock = SystemRetryClock()
    ) {
        self.serverURL = serverURL
        self.bearer = bearer
        self.retryConfig = retryConfig
        self.timeout = timeout
        self.transport = transport
        self.clock = clock
        self.userAgent = "bluesky-swift/0.1"
    }

    /// `com.atproto.sync.*`: repositories, blobs and crawling.
    public var sync: Sync { Sync(client: self) }
    /// `com.atproto.repo.*`: records and blobs in a repository you may write to.
    public var repo: Repo { Repo(client: self) }
    /// `com.atproto.server.*`: accounts and sessions.
    public var server: Server { Server(client: self) }
}

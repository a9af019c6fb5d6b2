/// A logged-in session that keeps its access token fresh.
///
/// ```swift
/// let session = try await Session.login(Bluesky(serverURL: pds), identifier: "alice.test", password: password)
/// let bluesky = session.client
/// try await bluesky.repo.putRecord(…)   // refreshes and repeats on ExpiredToken
/// ```
///
/// When a server answers `ExpiredToken`, the client asks the session to
/// refresh, and repeats the request once with the new token. Concurrent
/// requests that hit the expiry share one refresh.
public actor Session {
    /// The current tokens and account.
    public private(set) var info: SessionInfo
    private let base: Bluesky
    private let onUpdate: (@Sendable (SessionInfo) async -> Void)?
    private var refreshing: Task<SessionInfo, any Error>?

    /// Resumes a stored session.
    ///
    /// - Parameters:
    ///   - base: the client to call (its bearer is not used).
    ///   - onUpdate: called with the new tokens after each refresh, to store them.
    public init(resuming info: SessionInfo, base: Bluesky, onUpdate: (@Sendable (SessionInfo) async -> Void)? = nil) {
        self.info = info
        var base = base
        base.bearer = nil
        self.base = base
        self.onUpdate = onUpdate
    }

    /// Logs in with `com.atproto.server.createSession`.
    public static func login(
        _ base: Bluesky, identifier: String, password: String, onUpdate: (@Sendable (SessionInfo) async -> Void)? = nil
    ) async throws(BlueskyError) -> Session {
        var anonymous = base
        anonymous.bearer = nil
        let info = try await anonymous.server.createSession(identifier: identifier, password: password)
        await onUpdate?(info)
        return Session(resuming: info, base: base, onUpdate: onUpdate)
    }

    /// The bearer that hands out this session's access token and refreshes it.
    public nonisolated var bearer: Bearer {
        .provider({ await self.info.accessJwt }, refresh: { rejected in try await self.refresh(rejected: rejected) })
    }

    /// The base client with this session as its bearer.
    public nonisolated var client: Bluesky {
        var client = base
        client.bearer = bearer
        return client
    }

    /// Gets new tokens with the refresh token, unless the access token already
    /// changed since `rejected` was handed out.
    ///
    /// - Returns: whether there is a new token to try.
    @discardableResult
    public func refresh(rejected: String? = nil) async throws -> Bool {
        if let rejected, rejected != info.accessJwt { return true }
        if let refreshing {
            _ = try await refreshing.value
            return true
        }
        let task = Task { [base, info] () async throws -> SessionInfo in
            defer { self.refreshing = nil }
            let renewed = try await base.server.refreshSession(refreshToken: info.refreshJwt)
            // Installed before any waiter resumes, so that they all see the new token.
            self.info = renewed
            await self.onUpdate?(renewed)
            return renewed
        }
        refreshing = task
        _ = try await task.value
        return true
    }
}

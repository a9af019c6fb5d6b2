import Foundation

/// When and how a call is retried.
///
/// ```swift
/// let bluesky = Bluesky(serverURL: url, retryConfig: .backoff(initialInterval: .milliseconds(200)))
/// try await bluesky.sync.getRepo(did: did, options: .init(retries: .none))
/// ```
public struct RetryConfig: Sendable, Hashable {
    /// The backoff schedule, or `nil` for no retries.
    public var backoff: Backoff?
    /// Statuses that are retried. The default is 429, 500, 502, 503 and 504.
    public var statusCodes: Set<Int>
    /// Whether connection failures and transport timeouts are retried.
    public var retryConnectionErrors: Bool

    /// The statuses retried by default.
    public static let defaultStatusCodes: Set<Int> = [429, 500, 502, 503, 504]

    /// No retries.
    public static let none = RetryConfig(backoff: nil, statusCodes: [], retryConnectionErrors: false)

    /// The client's default: exponential backoff from 500 ms to 60 s, for at
    /// most 5 minutes, with connection errors retried.
    public static let `default` = RetryConfig.backoff()

    /// Exponential backoff with jitter.
    ///
    /// - Parameters:
    ///   - initialInterval: the first wait.
    ///   - maxInterval: the longest wait computed by the schedule.
    ///   - exponent: how much each wait grows.
    ///   - maxElapsedTime: no retry starts a wait that would end later than
    ///     this after the first attempt began.
    ///   - jitter: each wait is scaled by a random factor in `1 ± jitter`.
    ///   - statusCodes: the statuses to retry.
    ///   - retryConnectionErrors: whether to retry connection failures and timeouts.
    public static func backoff(
        initialInterval: Duration = .milliseconds(500), maxInterval: Duration = .seconds(60), exponent: Double = 1.5,
        maxElapsedTime: Duration = .seconds(300), jitter: Double = 0.25,
        statusCodes: Set<Int> = defaultStatusCodes, retryConnectionErrors: Bool = true
    ) -> RetryConfig {
        RetryConfig(
            backoff: Backoff(
                initialInterval: initialInterval, maxInterval: maxInterval, exponent: exponent,
                maxElapsedTime: maxElapsedTime, jitter: jitter),
            statusCodes: statusCodes, retryConnectionErrors: retryConnectionErrors)
    }

    /// A configuration with these fields.
    public init(backoff: Backoff?, statusCodes: Set<Int> = Self.defaultStatusCodes, retryConnectionErrors: Bool = true) {
        self.backoff = backoff
        self.statusCodes = statusCodes
        self.retryConnectionErrors = retryConnectionErrors
    }

    /// An exponential backoff schedule.
    public struct Backoff: Sendable, Hashable {
        /// The first wait.
        public var initialInterval: Duration
        /// The cap on a computed wait (a server's `Retry-After` may ask for more).
        public var maxInterval: Duration
        /// The growth factor between waits.
        public var exponent: Double
        /// The budget for all attempts and waits together.
        public var maxElapsedTime: Duration
        /// The random spread of each wait, from 0 (none) to 1.
        public var jitter: Double

        /// A schedule with these fields.
        public init(initialInterval: Duration, maxInterval: Duration, exponent: Double, maxElapsedTime: Duration, jitter: Double) {
            self.initialInterval = initialInterval
            self.maxInterval = maxInterval
            self.exponent = exponent
            self.maxElapsedTime = maxElapsedTime
            self.jitter = min(max(jitter, 0), 1)
        }

        /// The wait before retry number `attempt` (0 for the first retry);
        /// `random` is a value in `0..<1`.
        public func interval(attempt: Int, random: Double) -> Duration {
            let base = initialInterval.seconds * pow(exponent, Double(attempt))
            let capped = min(base, maxInterval.seconds)
            let spread = capped * (1 + jitter * (2 * random - 1))
            return .seconds(max(0, min(spread, maxInterval.seconds)))
        }
    }

    /// Whether `error` is worth another attempt under this configuration.
    public func shouldRetry(_ error: BlueskyError) -> Bool {
        guard backoff != nil else { return false }
        switch error.kind {
        case .transport(.cancelled), .decoding: return false
        case .transport: return retryConnectionErrors
        default: return error.status.map(statusCodes.contains) ?? false
        }
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}

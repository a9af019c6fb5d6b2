import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// A rate limit: at most `limit` calls per `window` seconds, per client address.
public struct RateLimitRule: Sendable, Hashable {
    /// Calls allowed in a window.
    public var limit: Int
    /// The window, in seconds.
    public var window: Int

    /// A rule with these values.
    public init(limit: Int, window: Int) {
        self.limit = max(1, limit)
        self.window = max(1, window)
    }
}

/// Fixed-window rate limits per bucket and client (a window opens with a client's first call), announced with the
/// `RateLimit-*` headers; an exhausted window answers 429 with `Retry-After`.
public final class RateLimiter: Sendable {
    private struct Window { var start: Int; var count: Int }
    private let windows = Mutex<[String: Window]>([:])

    /// A limiter with no calls counted yet.
    public init() {}

    /// Whether `key` has used up its window of `bucket` (without counting a call).
    public func isExhausted(_ bucket: String, rule: RateLimitRule, key: String, now: Date = Date()) -> Bool {
        let seconds = Int(now.timeIntervalSince1970)
        return windows.withLock { windows in
            guard let window = windows[bucket + "|" + key], window.start + rule.window > seconds else { return false }
            return window.count >= rule.limit
        }
    }

    /// Counts one call of `key` against `rule`; returns the headers to send.
    /// A client's window opens with its first call (not on a clock boundary,
    /// which would let a burst straddle two windows).
    public func take(_ bucket: String, rule: RateLimitRule, key: String, now: Date = Date()) throws(XRPCError) -> HTTPFields {
        let seconds = Int(now.timeIntervalSince1970)
        let (start, count) = windows.withLock { windows -> (Int, Int) in
            if windows.count > 50_000 { windows = windows.filter { $0.value.start + rule.window > seconds } }
            let id = bucket + "|" + key
            var window = windows[id].flatMap { $0.start + rule.window > seconds ? $0 : nil } ?? Window(start: seconds, count: 0)
            window.count += 1
            windows[id] = window
            return (window.start, window.count)
        }
        let reset = start + rule.window
        var headers = HTTPFields()
        headers[HTTPField.Name("RateLimit-Limit")!] = String(rule.limit)
        headers[HTTPField.Name("RateLimit-Remaining")!] = String(max(0, rule.limit - count))
        headers[HTTPField.Name("RateLimit-Reset")!] = String(reset)
        headers[HTTPField.Name("RateLimit-Policy")!] = "\(rule.limit);w=\(rule.window)"
        guard count <= rule.limit else {
            var error = XRPCError(.tooManyRequests, "RateLimitExceeded", "Rate Limit Exceeded")
            headers[.retryAfter] = String(max(1, reset - seconds))
            error.headers = headers
            throw error
        }
        return headers
    }
}

import Foundation
import HTTPTypes

extension HTTPField.Name {
    static let rateLimitLimit = HTTPField.Name("RateLimit-Limit")!
    static let rateLimitRemaining = HTTPField.Name("RateLimit-Remaining")!
    static let rateLimitReset = HTTPField.Name("RateLimit-Reset")!
    static let rateLimitPolicy = HTTPField.Name("RateLimit-Policy")!
}

/// The `RateLimit-*` headers of a response.
public struct RateLimit: Sendable, Hashable {
    /// `RateLimit-Limit`: requests allowed in the window.
    public var limit: Int?
    /// `RateLimit-Remaining`: requests left in the window.
    public var remaining: Int?
    /// `RateLimit-Reset`: when the window resets. atproto servers send Unix
    /// seconds; small values are read as seconds from now, as in the IETF draft.
    public var reset: Reset?
    /// `RateLimit-Policy`, as sent (for example `3000;w=300`).
    public var policy: String?

    /// When a rate-limit window resets.
    public enum Reset: Sendable, Hashable {
        /// An absolute time.
        case date(Date)
        /// Seconds after the response.
        case seconds(Int)

        /// The wait from `now` until the reset (zero when it has passed).
        public func delay(from now: Date) -> Duration {
            switch self {
            case .seconds(let s): .seconds(max(0, s))
            case .date(let d): .milliseconds(max(0, Int64((d.timeIntervalSince(now) * 1000).rounded(.up))))
            }
        }
    }

    /// The headers' values; `nil` when none of the four is present.
    public init?(_ headers: HTTPFields) {
        limit = headers[.rateLimitLimit].flatMap(Self.leadingInt)
        remaining = headers[.rateLimitRemaining].flatMap(Self.leadingInt)
        policy = headers[.rateLimitPolicy]
        reset = headers[.rateLimitReset].flatMap(Self.leadingInt).map {
            // Anything past 2001-09-09 is a timestamp, not a delta.
            $0 >= 1_000_000_000 ? .date(Date(timeIntervalSince1970: TimeInterval($0))) : .seconds($0)
        }
        if limit == nil, remaining == nil, reset == nil, policy == nil { return nil }
    }

    /// A value with these fields.
    public init(limit: Int? = nil, remaining: Int? = nil, reset: Reset? = nil, policy: String? = nil) {
        self.limit = limit
        self.remaining = remaining
        self.reset = reset
        self.policy = policy
    }

    private static func leadingInt(_ text: String) -> Int? {
        Int(text.prefix { $0 != ";" && $0 != "," }.trimmingCharacters(in: .whitespaces))
    }
}

/// A `Retry-After` header: delay seconds or an HTTP date.
public enum RetryAfter: Sendable, Hashable {
    /// `Retry-After: 120`.
    case seconds(Int)
    /// `Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`.
    case date(Date)

    /// Parses the header value; `nil` when it is neither form.
    public init?(headerValue value: String) {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(text), seconds >= 0 {
            self = .seconds(seconds)
        } else if let date = Self.httpDate(text) {
            self = .date(date)
        } else {
            return nil
        }
    }

    /// The wait from `now` (zero when the date has passed).
    public func delay(from now: Date) -> Duration {
        switch self {
        case .seconds(let s): .seconds(s)
        case .date(let d): .milliseconds(max(0, Int64((d.timeIntervalSince(now) * 1000).rounded(.up))))
        }
    }

    /// RFC 9110's IMF-fixdate, and the obsolete RFC 850 and asctime forms.
    private static func httpDate(_ text: String) -> Date? {
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}

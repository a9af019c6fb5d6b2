import Foundation
import HTTPTypes

/// What one call changes from the client's settings.
///
/// ```swift
/// try await bluesky.sync.getRepo(did: did, options: .init(timeout: .seconds(300), retries: .none))
/// ```
public struct CallOptions: Sendable {
    /// The deadline of each attempt, instead of the client's.
    public var timeout: Duration?
    /// Extra request headers; they replace the client's headers of the same name.
    public var headers: HTTPFields
    /// Another host for this call.
    public var serverURL: URL?
    /// The retries of this call, instead of the client's.
    public var retries: RetryConfig?
    /// The most bytes of the response body this call reads; past it, reading
    /// throws ``BlueskyError`` of kind ``BlueskyError/Kind/decoding`` and the
    /// connection is dropped. A guard against hosts that send without end.
    public var maxResponseBytes: Int?

    /// Options with these fields; the defaults change nothing.
    public init(
        timeout: Duration? = nil, headers: HTTPFields = [:], serverURL: URL? = nil, retries: RetryConfig? = nil, maxResponseBytes: Int? = nil
    ) {
        self.timeout = timeout
        self.headers = headers
        self.serverURL = serverURL
        self.retries = retries
        self.maxResponseBytes = maxResponseBytes
    }
}

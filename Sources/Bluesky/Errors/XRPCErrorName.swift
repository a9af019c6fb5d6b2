/// The `error` name of an XRPC error body, as a lexicon declares it.
///
/// An open set: the names the seed operations declare have constants, and any
/// other name a server sends is kept as it came.
///
/// ```swift
/// if error.kind == .xrpc(.repoNotFound) { … }
/// ```
public struct XRPCErrorName: RawRepresentable, Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The name, such as `RepoNotFound`.
    public let rawValue: String

    /// A name as the server sent it.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// A name as the server sent it.
    public init(stringLiteral value: String) { self.rawValue = value }

    public var description: String { rawValue }

    /// The repository is not hosted here.
    public static let repoNotFound: Self = "RepoNotFound"
    /// The repository was taken down.
    public static let repoTakendown: Self = "RepoTakendown"
    /// The repository is suspended.
    public static let repoSuspended: Self = "RepoSuspended"
    /// The repository is deactivated.
    public static let repoDeactivated: Self = "RepoDeactivated"
    /// A `swapRecord` or `swapCommit` did not match the current state.
    public static let invalidSwap: Self = "InvalidSwap"
    /// The access token has expired; refresh the session.
    public static let expiredToken: Self = "ExpiredToken"
    /// The token is not valid.
    public static let invalidToken: Self = "InvalidToken"
    /// The generic name for a request the server rejects.
    public static let invalidRequest: Self = "InvalidRequest"
    /// Authentication is required.
    public static let authenticationRequired: Self = "AuthenticationRequired"
    /// The record does not exist.
    public static let recordNotFound: Self = "RecordNotFound"
    /// The blob does not exist.
    public static let blobNotFound: Self = "BlobNotFound"
    /// The server does not implement the method.
    public static let methodNotImplemented: Self = "MethodNotImplemented"
    /// Too many requests.
    public static let rateLimitExceeded: Self = "RateLimitExceeded"
}

/// The JSON body of an XRPC error response: `{"error": …, "message": …}`.
public struct XRPCErrorBody: Sendable, Hashable, Codable {
    /// The error name.
    public var error: String?
    /// A human-readable explanation.
    public var message: String?

    /// A body with these fields.
    public init(error: String?, message: String?) {
        self.error = error
        self.message = message
    }
}

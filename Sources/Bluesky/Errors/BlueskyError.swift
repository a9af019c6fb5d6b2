import Foundation
import HTTPTypes

/// Every failure of a ``Bluesky`` call.
///
/// An error response is classified by its status code (``Kind``), and keeps
/// everything the server sent: the status, the headers, the parsed
/// `{error, message}` body and the raw bytes. Failures that never got a
/// response are ``Kind/transport(_:)``; a response the client could not read is
/// ``Kind/decoding``.
public struct BlueskyError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, following the status-code table of the XRPC seeds.
    public enum Kind: Sendable, Hashable {
        /// 400: the operation's lexicon error, by name (`RepoNotFound`,
        /// `InvalidSwap`, `ExpiredToken`, …). An unknown name is kept.
        case xrpc(XRPCErrorName)
        /// 401: authentication is missing.
        case authenticationRequired
        /// 403, 407, 511: the credentials do not allow this.
        case unauthorized
        /// 404, 501, 505: no such method or resource.
        case notFound
        /// 408, 504: the server or a gateway timed out.
        case timeout
        /// 413, 414, 415, 422, 431, 510: the request was malformed.
        case badRequest
        /// 429: too many requests; see ``BlueskyError/rateLimit`` and ``BlueskyError/retryAfter``.
        case rateLimited
        /// 500, 502, 503, 506, 507, 508: the server failed.
        case internalServerError
        /// Any other 4xx or 5xx status.
        case apiError
        /// No response arrived.
        case transport(TransportFailure)
        /// A response arrived but could not be read.
        case decoding
    }

    /// Why no response arrived.
    public enum TransportFailure: Sendable, Hashable {
        /// The connection failed or broke.
        case connection
        /// The call's timeout passed.
        case timeout
        /// The task was cancelled.
        case cancelled
    }

    /// The classification.
    public let kind: Kind
    /// The HTTP status, when a response arrived.
    public let status: Int?
    /// The response headers (empty without a response).
    public let headers: HTTPFields
    /// The parsed `{error, message}` body, when the body was one.
    public let body: XRPCErrorBody?
    /// The response body as it came (up to 1 MiB).
    public let rawBody: [UInt8]
    /// What the client or the transport adds: the cause of a transport or
    /// decoding failure.
    public let detail: String
    /// The error underneath a decoding failure: the `DataError`, `RepoError`
    /// or `CryptoError` of a repository that did not verify, say.
    public let underlying: (any Error & Sendable)?

    /// Creates an error. Clients build these from responses with
    /// ``init(status:headers:rawBody:)``.
    public init(
        kind: Kind, status: Int? = nil, headers: HTTPFields = [:], body: XRPCErrorBody? = nil, rawBody: [UInt8] = [],
        detail: String = "", underlying: (any Error & Sendable)? = nil
    ) {
        self.kind = kind
        self.status = status
        self.headers = headers
        self.body = body
        self.rawBody = rawBody
        self.detail = detail
        self.underlying = underlying
    }

    /// The error for a response with a 4xx or 5xx status.
    public init(status: Int, headers: HTTPFields, rawBody: [UInt8]) {
        let body = try? JSONDecoder().decode(XRPCErrorBody.self, from: Data(rawBody))
        self.init(
            kind: Kind(status: status, errorName: body?.error), status: status, headers: headers,
            body: body, rawBody: rawBody)
    }

    /// A transport failure.
    public static func transport(_ failure: TransportFailure, _ detail: String) -> BlueskyError {
        BlueskyError(kind: .transport(failure), detail: detail)
    }

    /// The error name the server sent, or else the kind's name: what the CLI prints.
    public var name: String {
        if let error = body?.error, !error.isEmpty { return error }
        switch kind {
        case .xrpc(let name): return name.rawValue
        case .authenticationRequired: return "AuthenticationRequired"
        case .unauthorized: return "Unauthorized"
        case .notFound: return "NotFound"
        case .timeout: return "Timeout"
        case .badRequest: return "BadRequest"
        case .rateLimited: return "RateLimited"
        case .internalServerError: return "InternalServerError"
        case .apiError: return "APIError"
        case .transport(.connection): return "ConnectionError"
        case .transport(.timeout): return "RequestTimeout"
        case .transport(.cancelled): return "Cancelled"
        case .decoding: return "ResponseDecodingError"
        }
    }

    /// The server's message, or the client's detail.
    public var message: String {
        if let message = body?.message, !message.isEmpty { return message }
        if !detail.isEmpty { return detail }
        if let status, body == nil, !rawBody.isEmpty {
            return "HTTP \(status): " + String(decoding: rawBody.prefix(200), as: UTF8.self)
        }
        return status.map { "HTTP \($0)" } ?? ""
    }

    /// The rate-limit headers of the response, when it had any.
    public var rateLimit: RateLimit? { RateLimit(headers) }

    /// The `Retry-After` header of the response, when it had a valid one.
    public var retryAfter: RetryAfter? { headers[.retryAfter].flatMap(RetryAfter.init(headerValue:)) }

    public var description: String { message.isEmpty ? name : "\(name): \(message)" }
}

extension BlueskyError.Kind {
    /// The kind for a 4xx or 5xx status, per the seeds' table; 400 uses the
    /// body's error name (`InvalidRequest` when there is none).
    public init(status: Int, errorName: String?) {
        switch status {
        case 400: self = .xrpc(XRPCErrorName(rawValue: errorName.flatMap { $0.isEmpty ? nil : $0 } ?? "InvalidRequest"))
        case 401: self = .authenticationRequired
        case 403, 407, 511: self = .unauthorized
        case 404, 501, 505: self = .notFound
        case 408, 504: self = .timeout
        case 413, 414, 415, 422, 431, 510: self = .badRequest
        case 429: self = .rateLimited
        case 500, 502, 503, 506, 507, 508: self = .internalServerError
        default: self = .apiError
        }
    }
}

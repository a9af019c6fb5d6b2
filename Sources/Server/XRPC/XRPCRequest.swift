import ATData
import ATSyntax
import Crypto
import Foundation
import Hummingbird
import NIOCore

/// One XRPC call as a handler sees it: typed access to the parameters, the
/// body and the bearer token, each failing with the right ``XRPCError``.
public struct XRPCRequest: Sendable {
    /// The HTTP request.
    public var request: Request
    /// Its context.
    public let context: PDSRequestContext
    /// The method's NSID.
    public let nsid: String

    /// The raw body, refused with 413 past `limit` bytes.
    public mutating func body(limit: Int) async throws -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { throw XRPCError.payloadTooLarge(limit) }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw XRPCError.payloadTooLarge(limit)
        }
    }

    /// Whether the request carries HTTP Basic credentials for `user` with
    /// `password`, compared in constant time. Failed attempts count against
    /// the client's `attempts` limit; past it, every attempt is refused with
    /// 429 before any comparison.
    ///
    /// - Throws: 429 `RateLimitExceeded` when the client has failed too often.
    public func isBasicAuth(user: String, password: String, limiter: RateLimiter, attempts: RateLimitRule) throws -> Bool {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("basic ") else { return false }
        let client = context.remoteAddress?.ipAddress ?? "unknown"
        if limiter.isExhausted("admin-failures", rule: attempts, key: client) {
            _ = try limiter.take("admin-failures", rule: attempts, key: client)
        }
        let decoded = Data(base64Encoded: String(header.dropFirst(6))) ?? Data()
        let matches = SHA256.hash(data: decoded) == SHA256.hash(data: Data((user + ":" + password).utf8))
        if !matches { _ = try? limiter.take("admin-failures", rule: attempts, key: client) }
        return matches
    }

    /// The bearer token, or 401 `AuthMissing`.
    public func bearer() throws -> String {
        guard let header = request.headers[.authorization], header.count > 7,
            header.prefix(7).lowercased() == "bearer "
        else { throw XRPCError.authMissing }
        // Trimmed by hand: Foundation's `trimmingCharacters` goes through NSString.
        var token = header.dropFirst(7)
        while let first = token.first, first == " " || first == "\t" { token.removeFirst() }
        while let last = token.last, last == " " || last == "\t" { token.removeLast() }
        return String(token)
    }
}

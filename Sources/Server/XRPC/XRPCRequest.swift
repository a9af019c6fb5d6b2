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

    /// The query parameter `name`, if present.
    public func parameter(_ name: String) -> String? {
        request.uri.queryParameters.get(name)
    }

    /// Every value of the repeated parameter `name`.
    public func parameters(_ name: String) -> [String] {
        request.uri.queryParameters.getAll(name)
    }

    /// A required parameter, parsed.
    public func require<T>(_ name: String, _ parse: (String) throws -> T) throws -> T {
        guard let text = parameter(name), !text.isEmpty else { throw XRPCError.invalidRequest("Error: Params must have the property \"\(name)\"") }
        do {
            return try parse(text)
        } catch {
            throw XRPCError.invalidRequest("Error: \(name) is invalid: \(error)")
        }
    }

    /// An optional parameter, parsed.
    public func optional<T>(_ name: String, _ parse: (String) throws -> T) throws -> T? {
        guard let text = parameter(name), !text.isEmpty else { return nil }
        do {
            return try parse(text)
        } catch {
            throw XRPCError.invalidRequest("Error: \(name) is invalid: \(error)")
        }
    }

    /// The `limit` parameter: an integer in `range`, or `defaultValue`.
    public func limit(default defaultValue: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = parameter("limit") else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw XRPCError.invalidRequest("Error: limit must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

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

    /// The JSON input in the atproto data model; an object is required.
    public mutating func input(limit: Int) async throws -> DataValue {
        let bytes = try await body(limit: limit)
        guard !bytes.isEmpty else { throw XRPCError.invalidRequest("Request body is required") }
        do {
            return try DataValue(json: Data(bytes))
        } catch {
            throw XRPCError.invalidRequest("Invalid JSON input: \(error.message)")
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
        return String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
    }
}

extension DataValue {
    /// A required string field of an input object.
    func field(_ name: String) throws -> String {
        guard let value = self[name]?.stringValue, !value.isEmpty else {
            throw XRPCError.invalidRequest("Input must have the property \"\(name)\"")
        }
        return value
    }

    /// A required field of an input object, parsed.
    func field<T>(_ name: String, _ parse: (String) throws -> T) throws -> T {
        let text = try field(name)
        do {
            return try parse(text)
        } catch {
            throw XRPCError.invalidRequest("Input/\(name) is invalid: \(error)")
        }
    }

    /// An optional string field, parsed; `nil` when absent or null.
    func optionalField<T>(_ name: String, _ parse: (String) throws -> T) throws -> T? {
        guard let value = self[name], value != .null else { return nil }
        guard let text = value.stringValue else { throw XRPCError.invalidRequest("Input/\(name) must be a string") }
        do {
            return try parse(text)
        } catch {
            throw XRPCError.invalidRequest("Input/\(name) is invalid: \(error)")
        }
    }
}

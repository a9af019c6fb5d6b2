import ATData
import Foundation
import Hummingbird

/// An XRPC error response: a status and a `{error, message}` body, with the
/// error names and statuses the reference PDS uses.
public struct XRPCError: Error, HTTPResponseError, CustomStringConvertible {
    /// The HTTP status.
    public let status: HTTPResponse.Status
    /// The error name, such as `InvalidRequest`.
    public let name: String
    /// A human-readable message.
    public let message: String
    /// Extra response headers (`Retry-After`, say).
    public var headers: HTTPFields = [:]

    /// An error with these parts.
    public init(_ status: HTTPResponse.Status, _ name: String, _ message: String) {
        self.status = status
        self.name = name
        self.message = message
    }

    /// 400 `InvalidRequest`.
    public static func invalidRequest(_ message: String) -> XRPCError { XRPCError(.badRequest, "InvalidRequest", message) }
    /// 400 with a lexicon error name.
    public static func named(_ name: String, _ message: String) -> XRPCError { XRPCError(.badRequest, name, message) }
    /// 401 `AuthMissing`.
    public static let authMissing = XRPCError(.unauthorized, "AuthMissing", "Authentication Required")
    /// 401 `AuthenticationRequired`: authenticated, but not as the repository's owner.
    public static func notYourRepo(_ message: String) -> XRPCError { XRPCError(.unauthorized, "AuthenticationRequired", message) }
    /// 400 `ExpiredToken`.
    public static let expiredToken = XRPCError(.badRequest, "ExpiredToken", "Token has expired")
    /// 400 `InvalidToken`.
    public static func invalidToken(_ message: String) -> XRPCError { XRPCError(.badRequest, "InvalidToken", message) }
    /// 501 `MethodNotImplemented`.
    public static func methodNotImplemented(_ nsid: String) -> XRPCError {
        XRPCError(.notImplemented, "MethodNotImplemented", "Method Not Implemented: \(nsid)")
    }
    /// 413 `PayloadTooLarge`.
    public static func payloadTooLarge(_ limit: Int) -> XRPCError {
        XRPCError(.contentTooLarge, "PayloadTooLarge", "request body is larger than \(limit) bytes")
    }
    /// 404 `NotFound` (outside XRPC: PLC documents, unknown paths).
    public static func notFound(_ message: String) -> XRPCError { XRPCError(.notFound, "NotFound", message) }
    /// 500 `InternalServerError`.
    public static func internalError(_ message: String = "Internal Server Error") -> XRPCError {
        XRPCError(.internalServerError, "InternalServerError", message)
    }

    public var description: String { "\(status.code) \(name): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body: DataValue = ["error": .string(name), "message": .string(message)]
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(data: body.jsonData())))
    }
}

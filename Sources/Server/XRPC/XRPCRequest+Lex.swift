import ATData
import ATProtoAPI
import Foundation
import Hummingbird
import NIOCore

extension XRPCRequest {
    /// The query parameters as the method's generated type. Empty values count
    /// as absent; a missing or bad one is 400 `InvalidRequest` naming it.
    public func parameters<P: LexParameters>(_ type: P.Type) throws(XRPCError) -> P {
        var items = [(String, String)]()
        for (name, value) in request.uri.queryParameters where !value.isEmpty { items.append((String(name), String(value))) }
        do {
            return try P(query: items, validating: true)
        } catch {
            let name = error.path.first ?? ""
            if error.message.hasPrefix("required parameter") { throw XRPCError.invalidRequest("Error: Params must have the property \"\(name)\"") }
            throw XRPCError.invalidRequest("Error: \(name) is invalid: \(error.message)")
        }
    }

    /// The JSON input as the method's generated type, checked against its
    /// lexicon; 400 `InvalidRequest` with the path of a bad value, 413 past `limit` bytes.
    public mutating func input<Input: LexValue>(_ type: Input.Type, limit: Int) async throws -> Input {
        let bytes = try await body(limit: limit)
        guard !bytes.isEmpty else { throw XRPCError.invalidRequest("Request body is required") }
        do {
            return try Input(json: bytes, validating: true)
        } catch {
            throw XRPCError.invalidInput(error)
        }
    }
}

extension XRPCError {
    /// 400 `InvalidRequest` for input that does not match its lexicon.
    static func invalidInput(_ error: LexError) -> XRPCError {
        let path = error.pathString.dropFirst(2).replacingOccurrences(of: ".", with: "/")
        if error.kind == .missingField, let field = error.path.last {
            let parent = error.path.dropLast().joined(separator: "/")
            return .invalidRequest("Input\(parent.isEmpty ? "" : "/" + parent) must have the property \"\(field)\"")
        }
        if error.kind == .malformed { return .invalidRequest("Invalid JSON input: \(error.message)") }
        return .invalidRequest("Input\(path.isEmpty ? "" : "/" + path): \(error.message)")
    }
}

extension Response {
    /// A 200 response with a generated type's value as JSON.
    static func lex(_ value: some LexValue, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: .ok, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: value.json())))
    }
}

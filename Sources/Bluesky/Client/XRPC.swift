import ATData
import Foundation
import HTTPTypes

/// One XRPC request: a query (GET) or a procedure (POST) by NSID.
struct XRPCCall: Sendable {
    enum Kind: Sendable { case query, procedure }

    var nsid: String
    var kind: Kind
    var parameters: [(String, String)] = []
    var body: [UInt8]?
    var contentType: String?
    var accept = "application/json"

    static func query(_ nsid: String, _ parameters: [(String, String?)] = []) -> XRPCCall {
        XRPCCall(nsid: nsid, kind: .query, parameters: parameters.compactMap { name, value in value.map { (name, $0) } })
    }

    static func procedure(_ nsid: String, json: DataValue? = nil) -> XRPCCall {
        XRPCCall(
            nsid: nsid, kind: .procedure, body: json.map { [UInt8]($0.jsonData()) },
            contentType: json == nil ? nil : "application/json")
    }
}

/// The largest JSON response the client reads.
let maxJSONResponse = 64 << 20
/// How much of an error body the client keeps.
let maxErrorBody = 1 << 20

extension Bluesky {
    /// Sends `call` with retries until a 2xx head arrives; the body streams.
    /// Retries cover only the head: once the body is handed over, a failure
    /// while reading it is the caller's.
    func open(_ call: XRPCCall, options: CallOptions) async throws(BlueskyError) -> TransportResponse {
        try await withSession(options) { () throws(BlueskyError) in
            try await withRetries(options.retries ?? retryConfig, clock: clock) { () throws(BlueskyError) in
                try await attempt(call, options: options)
            }
        }
    }

    /// Sends `call` and reads the whole body, retrying the exchange as a whole.
    func data(_ call: XRPCCall, options: CallOptions, limit: Int = maxJSONResponse) async throws(BlueskyError) -> (HTTPResponse, [UInt8]) {
        try await withSession(options) { () throws(BlueskyError) in
            try await withRetries(options.retries ?? retryConfig, clock: clock) { () throws(BlueskyError) in
                let response = try await attempt(call, options: options)
                return (response.head, try await response.body.collect(upTo: limit))
            }
        }
    }

    /// Sends `call` and ignores any output.
    func send(_ call: XRPCCall, options: CallOptions) async throws(BlueskyError) {
        _ = try await data(call, options: options)
    }

    /// Runs `body`, and once more after the bearer refreshes when the server
    /// says the token expired.
    private func withSession<T>(_ options: CallOptions, _ body: () async throws(BlueskyError) -> T) async throws(BlueskyError) -> T {
        // The token in use before the call: if it changes meanwhile, another
        // call has refreshed the session already.
        let before = bearer?.refresh == nil ? nil : try? await bearer?.current()
        do {
            return try await body()
        } catch {
            guard let refresh = bearer?.refresh, error.isExpiredToken else { throw error }
            let rejected = before
            let renewed: Bool
            do {
                renewed = try await refresh(rejected)
            } catch let failure as BlueskyError {
                throw failure
            } catch {
                throw BlueskyError(kind: .authenticationRequired, detail: "refreshing the session failed: \(error)")
            }
            guard renewed else { throw error }
            return try await body()
        }
    }

    /// One exchange: builds the request, sends it, and turns a 4xx or 5xx into an error.
    private func attempt(_ call: XRPCCall, options: CallOptions) async throws(BlueskyError) -> TransportResponse {
        var request = try request(for: call, options: options)
        if request.headerFields[.authorization] == nil, let bearer {
            let token: String?
            do {
                token = try await bearer.current()
            } catch let error as BlueskyError {
                throw error
            } catch {
                throw BlueskyError(kind: .authenticationRequired, detail: "the bearer provider failed: \(error)")
            }
            if let token { request.headerFields[.authorization] = "Bearer \(token)" }
        }
        let response = try await transport.send(request, body: call.body, timeout: options.timeout ?? timeout)
        let status = response.head.status.code
        if (200..<300).contains(status) {
            guard let cap = options.maxResponseBytes else { return response }
            return TransportResponse(head: response.head, body: response.body.limited(to: cap))
        }
        // Keep what the body says; a broken body still leaves the status.
        let raw = (try? await response.body.collect(upTo: maxErrorBody)) ?? []
        throw BlueskyError(status: status, headers: response.head.headerFields, rawBody: raw)
    }

    private func request(for call: XRPCCall, options: CallOptions) throws(BlueskyError) -> HTTPRequest {
        let base = options.serverURL ?? serverURL
        var text = base.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        text += "/xrpc/" + call.nsid
        if !call.parameters.isEmpty {
            text += "?" + call.parameters.map { "\(Self.escape($0))=\(Self.escape($1))" }.joined(separator: "&")
        }
        guard let url = URL(string: text), let scheme = url.scheme, scheme == "http" || scheme == "https" else {
            throw BlueskyError(kind: .transport(.connection), detail: "not an http(s) URL: \(text)")
        }
        var request = HTTPRequest(method: call.kind == .query ? .get : .post, url: url)
        request.headerFields[.accept] = call.accept
        request.headerFields[.userAgent] = userAgent
        if let contentType = call.contentType { request.headerFields[.contentType] = contentType }
        for field in options.headers {
            request.headerFields[field.name] = nil
        }
        request.headerFields.append(contentsOf: options.headers)
        return request
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:")

    private static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }
}

extension BlueskyError {
    /// Whether the server rejected the access token as expired.
    var isExpiredToken: Bool {
        (status == 400 || status == 401) && body?.error == XRPCErrorName.expiredToken.rawValue
    }
}

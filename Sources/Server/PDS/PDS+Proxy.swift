import AsyncHTTPClient
import ATSyntax
import Bluesky
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1

/// Where a proxied call goes: the service's XRPC base URL and its DID (the
/// audience of the token it gets).
struct ProxyTarget: Sendable, Hashable {
    var url: URL
    var did: String
}

extension PDS {
    /// Request headers a proxied call carries on, besides its body's.
    static let forwardedRequestHeaders = ["accept-language", "atproto-accept-labelers", "x-bsky-topics"]
    /// Response headers passed back to the client, besides the body's.
    static let forwardedResponseHeaders = ["atproto-repo-rev", "atproto-content-labelers", "content-language", "retry-after"]

    /// Answers a call of a method the PDS does not serve itself by
    /// forwarding it, as the reference PDS does: to the service an
    /// `atproto-proxy: did#service_id` header names (found in that DID's
    /// document), else `app.bsky.*` to the configured AppView and
    /// `chat.bsky.*` to the chat service. The call must be authenticated; the
    /// service gets a fresh service-auth token (`aud` its DID, `lxm` the
    /// method) instead of the client's. Bodies stream both ways; the
    /// service's status and body come back as they are.
    ///
    /// - Throws: 501 `MethodNotImplemented` (naming the missing option) when
    ///   no service is configured for the method; 400 `InvalidRequest` for a
    ///   bad header, an unresolvable service or a refused address; 502
    ///   `UpstreamFailure` and 504 `UpstreamTimeout` when the service fails.
    func proxy(_ call: inout XRPCRequest) async throws -> Response {
        guard let method = try? NSID(call.nsid) else { throw XRPCError.methodNotImplemented(call.nsid) }
        let request = call.request
        guard [.get, .head, .post].contains(request.method) else {
            throw XRPCError.invalidRequest("XRPC requests only support GET and POST")
        }
        if Self.protectedMethods.contains(method.description) { throw XRPCError.invalidToken("Bad token method") }
        let target = try await proxyTarget(for: method, header: request.headers[HTTPField.Name("atproto-proxy")!])
        let credentials = try await credentials(call)
        // Chat is for full sessions and privileged app passwords, as the reference has it.
        if credentials.scope == .appPass, method.description.hasPrefix("chat.bsky.") { throw XRPCError.invalidToken("Bad token method") }
        let did = credentials.did
        let token = try await serviceAuthToken(for: did, audience: target.did, method: method, expires: nil)

        var base = target.url.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        let query = request.uri.query.map { "?" + $0 } ?? ""
        guard let url = URL(string: base + "/xrpc/" + method.description + query) else {
            throw XRPCError.invalidRequest("no URL for \(method) at \(target.url)")
        }
        var outbound = HTTPClientRequest(url: url.absoluteString)
        outbound.method = request.method == .post ? NIOHTTP1.HTTPMethod.POST : request.method == .head ? .HEAD : .GET
        outbound.headers.add(name: "authorization", value: "Bearer " + token)
        outbound.headers.add(name: "accept-encoding", value: "identity")
        for name in Self.forwardedRequestHeaders {
            if let field = HTTPField.Name(name), let value = request.headers[field] { outbound.headers.add(name: name, value: value) }
        }
        if request.method == .post {
            for name in ["content-type", "content-encoding"] {
                if let field = HTTPField.Name(name), let value = request.headers[field] { outbound.headers.add(name: name, value: value) }
            }
            let length = request.headers[.contentLength].flatMap(Int64.init)
            outbound.body = .stream(request.body, length: length.map { .known($0) } ?? .unknown)
        }

        let upstream: HTTPClientResponse
        do {
            upstream = try await proxyTransport.execute(outbound, url: url, deadline: .seconds(config.proxyTimeout))
        } catch let error as XRPCError {
            throw XRPCError.invalidRequest("cannot proxy to \(target.did): \(error.message)")
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw XRPCError(.gatewayTimeout, "UpstreamTimeout", "\(target.did) did not answer in \(Int(config.proxyTimeout)) s")
        } catch {
            throw XRPCError(.badGateway, "UpstreamFailure", "\(target.did) could not be reached: \(error)")
        }
        var headers = HTTPFields()
        for (name, value) in upstream.headers {
            let lower = name.lowercased()
            guard lower == "content-type" || lower == "content-length" || lower == "content-encoding"
                || Self.forwardedResponseHeaders.contains(lower), let field = HTTPField.Name(lower)
            else { continue }
            headers.append(HTTPField(name: field, value: value))
        }
        let length = upstream.headers.first(name: "content-length").flatMap(Int.init)
        let body = upstream.body
        return Response(
            status: .init(code: Int(upstream.status.code), reasonPhrase: upstream.status.reasonPhrase), headers: headers,
            body: ResponseBody(contentLength: length) { writer in
                for try await chunk in body { try await writer.write(chunk) }
                try await writer.finish(nil)
            })
    }

    /// The service for `method`: the one `header` names, else the default
    /// for its namespace.
    func proxyTarget(for method: NSID, header: String?) async throws -> ProxyTarget {
        if let header {
            let parts = header.split(separator: "#", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !header.contains(" "), let did = try? DID(String(parts[0])) else {
                throw XRPCError.invalidRequest("atproto-proxy must be a DID and a service id: did:…#service_id")
            }
            let serviceID = String(parts[1])
            // The configured services, without resolving their DIDs.
            if let appview = config.appview, header == appview.did + "#bsky_appview" { return ProxyTarget(url: appview.url, did: appview.did) }
            if let chat = config.chat, header == chat.did + "#bsky_chat" { return ProxyTarget(url: chat.url, did: chat.did) }
            let document: DIDDocument
            do {
                document = try await serviceResolver.resolve(did)
            } catch {
                throw XRPCError.invalidRequest("could not resolve the proxy DID \(did): \(error.detail)")
            }
            guard let entry = document.service?.first(where: { $0.id == "#" + serviceID || $0.id == did.description + "#" + serviceID }),
                let url = URL(string: entry.serviceEndpoint), url.scheme == "https" || url.scheme == "http", url.host != nil
            else {
                throw XRPCError.invalidRequest("the DID document of \(did) has no service #\(serviceID) with an http(s) endpoint")
            }
            return ProxyTarget(url: url, did: did.description)
        }
        let name = method.description
        if name.hasPrefix("app.bsky.") {
            guard let appview = config.appview else {
                throw XRPCError(.notImplemented, "MethodNotImplemented", "\(name) goes to an AppView, and none is configured: start the server with --appview-url and --appview-did")
            }
            return ProxyTarget(url: appview.url, did: appview.did)
        }
        if name.hasPrefix("chat.bsky.") {
            guard let chat = config.chat else {
                throw XRPCError(.notImplemented, "MethodNotImplemented", "\(name) goes to a chat service, and none is configured: start the server with --chat-url and --chat-did")
            }
            return ProxyTarget(url: chat.url, did: chat.did)
        }
        throw XRPCError.methodNotImplemented(name)
    }
}

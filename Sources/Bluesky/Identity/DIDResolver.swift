import ATSyntax
import Foundation
import HTTPTypes

/// Finds DID documents: `did:plc` from a PLC directory, `did:web` from the
/// host's `/.well-known/did.json` (over HTTPS; over HTTP for `localhost`,
/// which may carry a port: `did:web:localhost%3A8080`).
public struct DIDResolver: Sendable {
    /// The PLC directory.
    public var plcURL: URL
    /// Whether `did:web` documents are fetched over plain HTTP (for loopback tests).
    public var insecureWeb: Bool
    /// What sends the requests.
    public var transport: any HTTPTransport
    /// The deadline of each request.
    public var timeout: Duration

    /// A resolver using `plcURL` (by default `https://plc.directory`).
    public init(
        plcURL: URL = URL(string: "https://plc.directory")!, insecureWeb: Bool = false,
        transport: any HTTPTransport = AsyncHTTPClientTransport(), timeout: Duration = .seconds(15)
    ) {
        self.plcURL = plcURL
        self.insecureWeb = insecureWeb
        self.transport = transport
        self.timeout = timeout
    }

    /// The document of `did`.
    ///
    /// - Throws: ``BlueskyError`` of kind ``BlueskyError/Kind/notFound`` when
    ///   there is none, ``BlueskyError/Kind/decoding`` when it is not a DID
    ///   document of this DID, and ``BlueskyError/Kind/badRequest`` for a DID
    ///   method other than `plc` and `web`.
    public func resolve(_ did: DID) async throws(BlueskyError) -> DIDDocument {
        let url: URL?
        switch did.method {
        case "plc":
            var base = plcURL.absoluteString
            while base.hasSuffix("/") { base.removeLast() }
            url = URL(string: base + "/" + did.description)
        case "web":
            let host = did.identifier.replacingOccurrences(of: "%3A", with: ":").replacingOccurrences(of: "%3a", with: ":")
            // `localhost` is reached over plain HTTP, with a port if given, as the reference resolver does.
            let local = host == "localhost" || host.hasPrefix("localhost:")
            guard !host.contains(":") || insecureWeb || local else {
                throw BlueskyError(kind: .badRequest, detail: "did:web with a path or port is not supported: \(did)")
            }
            url = URL(string: "\(insecureWeb || local ? "http" : "https")://\(host)/.well-known/did.json")
        default:
            throw BlueskyError(kind: .badRequest, detail: "cannot resolve the DID method \(did.method) of \(did)")
        }
        guard let url else { throw BlueskyError(kind: .badRequest, detail: "no URL for \(did)") }
        var request = HTTPRequest(method: .get, url: url)
        request.headerFields[.accept] = "application/did+ld+json, application/json"
        let response = try await transport.send(request, body: nil, timeout: timeout)
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.head.status.code < 400 else {
            throw BlueskyError(status: response.head.status.code, headers: response.head.headerFields, rawBody: body)
        }
        let document: DIDDocument
        do {
            document = try JSONDecoder().decode(DIDDocument.self, from: Data(body))
        } catch {
            throw BlueskyError(kind: .decoding, status: response.head.status.code, rawBody: body, detail: "not a DID document: \(error)")
        }
        guard document.id == did.description else {
            throw BlueskyError(kind: .decoding, rawBody: body, detail: "the document at \(url) is for \(document.id), not \(did)")
        }
        return document
    }
}

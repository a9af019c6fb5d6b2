import ATCrypto
import ATSyntax
import Foundation
import HTTPTypes
import Synchronization

/// Who an identifier names: the DID, its handle and whether the handle
/// checks out both ways, the PDS and the signing key.
public struct ResolvedIdentity: Sendable {
    /// The account's DID.
    public var did: DID
    /// The handle the DID document claims, if any.
    public var handle: Handle?
    /// Whether `handle` resolves back to `did`. An unverified handle must
    /// not be shown as the account's (the reference shows `handle.invalid`).
    public var handleVerified: Bool
    /// The DID document.
    public var document: DIDDocument
    /// The PDS, from the document's `#atproto_pds` service.
    public var pds: URL? { document.pdsEndpoint }
    /// The repository signing key, from the document's `#atproto` key.
    public var signingKey: (any PublicKey)? { try? document.signingKey() }
}

/// Resolves handles and DIDs as the identity spec describes, with a cache.
///
/// - A handle resolves through DNS first, a `TXT` record `did=<DID>` at
///   `_atproto.<handle>`, then over HTTPS, `https://<handle>/.well-known/atproto-did`.
///   More than one different DID in DNS is an error, not a choice.
/// - A DID resolves to its document through the PLC directory or `did:web`
///   (``DIDResolver``).
/// - ``resolve(_:)`` checks the handle both ways: the handle must resolve to
///   the DID, and the DID's document must claim the handle.
/// - Answers are kept for `handleTTL` and `documentTTL`, by the injected clock.
public final class IdentityResolver: Sendable {
    /// The DNS lookups.
    public let dns: any DNSResolver
    /// The DID document lookups.
    public let didResolver: DIDResolver
    /// What fetches `/.well-known/atproto-did`.
    public let transport: any HTTPTransport
    /// Where a handle's DID is served over HTTP(S); by default
    /// `https://<handle>/.well-known/atproto-did`.
    public let wellKnownURL: @Sendable (Handle) -> URL?
    /// How long a handle's DID is kept.
    public let handleTTL: TimeInterval
    /// How long a DID document is kept.
    public let documentTTL: TimeInterval
    /// The clock of the cache.
    public let now: @Sendable () -> Date
    private let handles = Mutex<[Handle: (did: DID, until: Date)]>([:])
    private let documents = Mutex<[DID: (document: DIDDocument, until: Date)]>([:])

    /// A resolver over these lookups.
    public init(
        dns: any DNSResolver = SystemDNSResolver(), didResolver: DIDResolver = DIDResolver(),
        transport: any HTTPTransport = AsyncHTTPClientTransport(),
        wellKnownURL: @escaping @Sendable (Handle) -> URL? = { URL(string: "https://\($0)/.well-known/atproto-did") },
        handleTTL: TimeInterval = 600, documentTTL: TimeInterval = 3600, now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.dns = dns
        self.didResolver = didResolver
        self.transport = transport
        self.wellKnownURL = wellKnownURL
        self.handleTTL = handleTTL
        self.documentTTL = documentTTL
        self.now = now
    }

    /// The DID `handle` names: DNS first, then HTTPS.
    ///
    /// - Throws: ``BlueskyError`` of kind ``BlueskyError/Kind/notFound``
    ///   when neither names a DID, ``BlueskyError/Kind/badRequest`` when
    ///   DNS names more than one.
    public func resolveHandle(_ handle: Handle, fresh: Bool = false) async throws(BlueskyError) -> DID {
        let time = now()
        if !fresh, let kept = handles.withLock({ $0[handle] }), kept.until > time { return kept.did }
        let did = try await lookUpHandle(handle)
        handles.withLock { $0[handle] = (did, time.addingTimeInterval(handleTTL)) }
        return did
    }

    private func lookUpHandle(_ handle: Handle) async throws(BlueskyError) -> DID {
        var dnsFailure: BlueskyError?
        var dids = Set<DID>()
        do {
            let records = try await dns.txt("_atproto." + handle.description)
            dids = Set(records.compactMap { record -> DID? in
                guard record.hasPrefix("did=") else { return nil }
                return try? DID(String(record.dropFirst(4)).trimmingCharacters(in: .whitespaces))
            })
        } catch {
            dnsFailure = error
        }
        if dids.count > 1 { throw BlueskyError(kind: .badRequest, detail: "DNS names \(dids.count) different DIDs for \(handle)") }
        if let did = dids.first { return did }
        guard let url = wellKnownURL(handle) else {
            throw BlueskyError(kind: .notFound, detail: "no DID for the handle \(handle)")
        }
        var request = HTTPRequest(method: .get, url: url)
        request.headerFields[.accept] = "text/plain"
        do throws(BlueskyError) {
            let response = try await transport.send(request, body: nil, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 2048)
            guard response.head.status.code == 200 else {
                throw BlueskyError(kind: .notFound, status: response.head.status.code, rawBody: body, detail: "\(url) answered \(response.head.status.code)")
            }
            let text = String(decoding: body, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            guard let did = try? DID(text.trimmingCharacters(in: .whitespaces)) else {
                throw BlueskyError(kind: .notFound, rawBody: body, detail: "\(url) does not hold a DID")
            }
            return did
        } catch {
            let why = dnsFailure.map { "; DNS: \($0.detail)" } ?? ""
            throw BlueskyError(kind: .notFound, detail: "no DID for the handle \(handle): \(error.detail)\(why)")
        }
    }

    /// The document of `did`.
    public func resolveDID(_ did: DID, fresh: Bool = false) async throws(BlueskyError) -> DIDDocument {
        let time = now()
        if !fresh, let kept = documents.withLock({ $0[did] }), kept.until > time { return kept.document }
        let document = try await didResolver.resolve(did)
        documents.withLock { $0[did] = (document, time.addingTimeInterval(documentTTL)) }
        return document
    }

    /// The identity `identifier` names, with its handle checked both ways.
    ///
    /// - Throws: what ``resolveHandle(_:fresh:)`` and ``resolveDID(_:fresh:)`` throw.
    public func resolve(_ identifier: ATIdentifier, fresh: Bool = false) async throws(BlueskyError) -> ResolvedIdentity {
        switch identifier {
        case .handle(let handle):
            let did = try await resolveHandle(handle, fresh: fresh)
            let document = try await resolveDID(did, fresh: fresh)
            let claimed = document.handle.flatMap { try? Handle($0) }
            return ResolvedIdentity(did: did, handle: claimed ?? handle, handleVerified: claimed == handle, document: document)
        case .did(let did):
            let document = try await resolveDID(did, fresh: fresh)
            guard let claimed = document.handle.flatMap({ try? Handle($0) }) else {
                return ResolvedIdentity(did: did, handle: nil, handleVerified: false, document: document)
            }
            let back = try? await resolveHandle(claimed, fresh: fresh)
            return ResolvedIdentity(did: did, handle: claimed, handleVerified: back == did, document: document)
        }
    }

    /// Forgets what is kept about `handle` and `did`, after a change of handle say.
    public func forget(handle: Handle? = nil, did: DID? = nil) {
        if let handle { handles.withLock { _ = $0.removeValue(forKey: handle) } }
        if let did { documents.withLock { _ = $0.removeValue(forKey: did) } }
    }
}

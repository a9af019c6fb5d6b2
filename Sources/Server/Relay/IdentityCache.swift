import ATCrypto
import ATSyntax
import Bluesky
import Foundation
import Synchronization

/// What the relay needs of an identity: the key commits are signed with, and
/// the host that speaks for the repository.
struct Identity: Sendable {
    /// The repository's signing key.
    var key: any PublicKey
    /// The host of its PDS endpoint (`host[:port]`), if it has one.
    var host: String?
    /// When it was resolved.
    var resolved: Date
}

/// DID documents resolved through the PLC directory (or `did:web`), kept
/// for a while and refreshed when a commit does not verify with them.
final class IdentityCache: Sendable {
    private let resolver: DIDResolver
    private let entries = Mutex<[DID: Identity]>([:])
    private let lifetime: TimeInterval

    init(resolver: DIDResolver, lifetime: TimeInterval = 600) {
        self.resolver = resolver
        self.lifetime = lifetime
    }

    /// The identity of `did`, from the cache when fresh (or `refresh` is false).
    func identity(of did: DID, refresh: Bool = false) async throws -> Identity {
        if !refresh, let known = entries.withLock({ $0[did] }), known.resolved.timeIntervalSinceNow > -lifetime { return known }
        let document = try await resolver.resolve(did)
        let host = try? document.pdsEndpoint.map { try CrawlHost($0.absoluteString).description }
        let identity = Identity(key: try document.signingKey(), host: host ?? nil, resolved: Date())
        entries.withLock { entries in
            if entries.count > 100_000 { entries.removeAll() }
            entries[did] = identity
        }
        return identity
    }

    /// Forgets `did` (after an `#identity` event).
    func forget(_ did: DID) {
        _ = entries.withLock { $0.removeValue(forKey: did) }
    }
}

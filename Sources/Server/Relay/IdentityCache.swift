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
///
/// A host names whatever DIDs it likes, so resolution is bounded: one
/// lookup of a DID runs at a time and every caller shares it, a failed
/// lookup is remembered for ``failureLifetime`` (a negative cache), and a
/// refresh within ``refreshInterval`` of the last lookup reuses it.
final class IdentityCache: Sendable {
    private struct State {
        var entries = [DID: Identity]()
        var failures = [DID: Date]()
        var inflight = [DID: Task<Identity, any Error>]()
    }
    private let resolver: DIDResolver
    private let state = Mutex(State())
    private let lifetime: TimeInterval
    /// How long a failed lookup is not tried again.
    let failureLifetime: TimeInterval
    /// The shortest time between two lookups of one DID.
    let refreshInterval: TimeInterval

    init(resolver: DIDResolver, lifetime: TimeInterval = 600, failureLifetime: TimeInterval = 60, refreshInterval: TimeInterval = 30) {
        self.resolver = resolver
        self.lifetime = lifetime
        self.failureLifetime = failureLifetime
        self.refreshInterval = refreshInterval
    }

    /// What a failed lookup throws while it is remembered.
    struct RecentFailure: Error, CustomStringConvertible {
        let did: DID
        var description: String { "\(did) did not resolve a moment ago" }
    }

    /// The identity of `did`, from the cache when fresh (or `refresh` is false).
    func identity(of did: DID, refresh: Bool = false) async throws -> Identity {
        let now = Date()
        // A fresh entry is returned as it is, without a task to wait for.
        enum Lookup {
            case known(Identity)
            case running(Task<Identity, any Error>)
        }
        let lookup = try state.withLock { state -> Lookup in
            if let failed = state.failures[did] {
                if now.timeIntervalSince(failed) < failureLifetime { throw RecentFailure(did: did) }
                state.failures[did] = nil
            }
            if let known = state.entries[did], now.timeIntervalSince(known.resolved) < (refresh ? refreshInterval : lifetime) {
                return .known(known)
            }
            if let running = state.inflight[did] { return .running(running) }
            let task = Task { [resolver] in try await Self.lookUp(did, resolver: resolver) }
            state.inflight[did] = task
            return .running(task)
        }
        let task: Task<Identity, any Error>
        switch lookup {
        case .known(let known): return known
        case .running(let running): task = running
        }
        do {
            let identity = try await task.value
            state.withLock { state in
                state.inflight[did] = nil
                if state.entries.count > 100_000 { state.entries.removeAll() }
                state.entries[did] = identity
            }
            return identity
        } catch {
            state.withLock { state in
                state.inflight[did] = nil
                if state.failures.count > 100_000 { state.failures.removeAll() }
                state.failures[did] = Date()
            }
            throw error
        }
    }

    private static func lookUp(_ did: DID, resolver: DIDResolver) async throws -> Identity {
        let document = try await resolver.resolve(did)
        let host = try? document.pdsEndpoint.map { try CrawlHost($0.absoluteString).description }
        return Identity(key: try document.signingKey(), host: host ?? nil, resolved: Date())
    }

    /// Forgets `did`'s document (after an `#identity` event); a recent
    /// failure is still remembered.
    func forget(_ did: DID) {
        _ = state.withLock { $0.entries.removeValue(forKey: did) }
    }
}

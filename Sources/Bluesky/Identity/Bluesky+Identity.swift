import ATRepo
import ATSyntax
import Foundation

extension Bluesky {
    /// A client for the PDS that hosts `identifier` (a handle or a DID), as
    /// its DID document names it, with this client's other settings.
    ///
    /// - Throws: ``BlueskyError`` when the identity cannot be resolved or its
    ///   document names no PDS.
    public func atPDS(of identifier: ATIdentifier, resolver: IdentityResolver) async throws(BlueskyError) -> (client: Bluesky, identity: ResolvedIdentity) {
        let identity = try await resolver.resolve(identifier)
        guard let pds = identity.pds else {
            throw BlueskyError(kind: .notFound, detail: "the DID document of \(identity.did) names no PDS")
        }
        var client = self
        client.serverURL = pds
        return (client, identity)
    }
}

extension Session {
    /// Logs in to the PDS of `handle`, found through its DID document:
    /// no server needs to be known beforehand.
    public static func login(
        handle: Handle, password: String, resolver: IdentityResolver, base: Bluesky? = nil,
        onUpdate: (@Sendable (SessionInfo) async -> Void)? = nil
    ) async throws(BlueskyError) -> Session {
        let template = base ?? Bluesky(serverURL: URL(string: "https://bsky.social")!)
        let (client, identity) = try await template.atPDS(of: .handle(handle), resolver: resolver)
        guard identity.handleVerified else {
            throw BlueskyError(kind: .badRequest, detail: "the handle \(handle) does not check out: \(identity.did)'s document does not claim it")
        }
        return try await login(client, identifier: identity.did.description, password: password, onUpdate: onUpdate)
    }
}

extension Bluesky.Sync {
    /// The verified repository of `identifier`, a handle or a DID, fetched
    /// from the PDS its DID document names (not from this client's host)
    /// and checked with the document's signing key.
    ///
    /// - Throws: what ``IdentityResolver/resolve(_:fresh:)`` and
    ///   ``repository(did:key:resolver:options:)`` throw; a handle that does
    ///   not check out both ways is ``BlueskyError/Kind/badRequest``.
    public func repository(
        of identifier: ATIdentifier, resolver: IdentityResolver, options: CallOptions = .init()
    ) async throws(BlueskyError) -> Repository {
        let (host, identity) = try await client.atPDS(of: identifier, resolver: resolver)
        if case .handle(let handle) = identifier, !identity.handleVerified {
            throw BlueskyError(kind: .badRequest, detail: "the handle \(handle) does not check out for \(identity.did)")
        }
        guard let key = identity.signingKey else {
            throw BlueskyError(kind: .decoding, detail: "the DID document of \(identity.did) has no usable signing key")
        }
        return try await host.sync.repository(did: identity.did, key: key, options: options)
    }
}

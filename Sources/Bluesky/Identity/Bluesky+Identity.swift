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

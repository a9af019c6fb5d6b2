import ATProtoAPI
import ATSyntax
import Bluesky
import Foundation

extension PDS {
    /// Methods no service-auth token may be minted for, as the reference PDS
    /// has them: a token that another service holds must not reach the
    /// account's credentials, identity or existence.
    static let protectedMethods: Set<String> = [
        "com.atproto.admin.sendEmail",
        "com.atproto.identity.requestPlcOperationSignature",
        "com.atproto.identity.signPlcOperation",
        "com.atproto.identity.updateHandle",
        "com.atproto.server.activateAccount",
        "com.atproto.server.confirmEmail",
        "com.atproto.server.createAppPassword",
        "com.atproto.server.deactivateAccount",
        "com.atproto.server.getAccountInviteCodes",
        "com.atproto.server.getSession",
        "com.atproto.server.listAppPasswords",
        "com.atproto.server.requestAccountDelete",
        "com.atproto.server.requestEmailConfirmation",
        "com.atproto.server.requestEmailUpdate",
        "com.atproto.server.revokeAppPassword",
        "com.atproto.server.updateEmail",
    ]

    /// A service-auth token of `did` for `audience` and `method`, signed with
    /// the account's repository key (``ServiceAuth/mint(issuer:audience:method:key:expires:now:)``).
    ///
    /// - Throws: 400 `BadExpiration` for an expiry that cannot be asked for,
    ///   400 `InvalidRequest` for a protected method or an audience that is not a DID.
    func serviceAuthToken(for did: DID, audience: String, method: NSID?, expires: Date?, now: Date = Date()) async throws -> String {
        let audienceDID = String(audience.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0])
        guard (try? DID(audienceDID)) != nil else { throw XRPCError.invalidRequest("aud must be a DID, not '\(audience)'") }
        if let method, Self.protectedMethods.contains(method.description) {
            throw XRPCError.invalidRequest("cannot request a service auth token for the protected method \(method)")
        }
        do {
            return try ServiceAuth.mint(issuer: did, audience: audience, method: method, key: try await keys.signingKey(for: did), expires: expires, now: now)
        } catch let error as ServiceAuthError {
            throw XRPCError.named(error.name, error.message)
        }
    }
}

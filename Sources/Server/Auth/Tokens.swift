import ATSyntax
import Foundation
import Crypto
import JWTKit
import Synchronization

/// Access and refresh tokens: HS256 JWTs, as the reference PDS issues them.
///
/// An access token (`com.atproto.access`) lives two hours; a refresh token
/// (`com.atproto.refresh`) ninety days, and its `jti` is stored so that it is
/// used once and can be revoked.
public struct TokenIssuer: Sendable {
    let keys: JWTKeyCollection
    let audience: String
    private let verified = VerifiedTokens()
    /// How long access tokens live.
    public var accessLifetime: TimeInterval = 2 * 3600
    /// How long refresh tokens live.
    public var refreshLifetime: TimeInterval = 90 * 86400

    /// An issuer signing with `secret`, for tokens addressed to `audience` (the server's DID).
    public init(secret: [UInt8], audience: String) async {
        keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(key: SymmetricKey(data: secret)), digestAlgorithm: .sha256)
        self.audience = audience
    }

    /// The scopes: full access, app-password access (privileged or not), refresh.
    public enum Scope: String, Sendable, CaseIterable {
        case access = "com.atproto.access"
        case appPass = "com.atproto.appPass"
        case appPassPrivileged = "com.atproto.appPassPrivileged"
        case refresh = "com.atproto.refresh"

        /// The scopes of access tokens.
        public static let accessScopes: Set<Scope> = [.access, .appPass, .appPassPrivileged]
    }

    struct Claims: JWTPayload, Sendable {
        var scope: String
        var sub: SubjectClaim
        var aud: AudienceClaim
        var iat: IssuedAtClaim
        var exp: ExpirationClaim
        var jti: IDClaim?
        /// The app password the session was opened with, if any.
        var apn: String?

        // Expiry is checked by the issuer, so that it can say "expired".
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    /// A new token for `did`; for a refresh token, also its id. `appPassword`
    /// names the app password of the session, if it was opened with one.
    public func issue(_ scope: Scope, for did: DID, appPassword: String? = nil, now: Date = Date()) async throws -> (token: String, id: String?, expires: Date) {
        let now = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))  // whole seconds, as JWTs carry them
        let lifetime = scope == .refresh ? refreshLifetime : accessLifetime
        let id = scope == .refresh ? UUID().uuidString : nil
        let expires = now.addingTimeInterval(lifetime)
        let claims = Claims(
            scope: scope.rawValue, sub: .init(value: did.description), aud: .init(value: audience), iat: .init(value: now),
            exp: .init(value: expires), jti: id.map { .init(value: $0) }, apn: appPassword)
        return (try await keys.sign(claims), id, expires)
    }

    /// Why a token was refused.
    public enum Failure: Error, Sendable {
        /// Past its expiry.
        case expired
        /// Not a token of this server, or of another scope.
        case invalid(String)
    }

    /// The DID and (for refresh tokens) the id of a valid token of `scope`.
    public func verify(_ token: String, scope: Scope, now: Date = Date()) async throws(Failure) -> (did: DID, id: String?) {
        let verified = try await verify(token, scopes: [scope], now: now)
        return (verified.did, verified.id)
    }

    /// What a valid token of one of `scopes` says: whose, its scope, its id,
    /// and the app password of its session.
    public func verify(
        _ token: String, scopes: Set<Scope>, now: Date = Date()
    ) async throws(Failure) -> (did: DID, scope: Scope, id: String?, appPassword: String?) {
        let claims: Claims
        if let known = verified.claims(for: token) {
            claims = known
        } else {
            do {
                claims = try await keys.verify(token, as: Claims.self)
            } catch {
                throw .invalid("the token does not verify")
            }
            verified.remember(token, claims)
        }
        guard claims.exp.value > now else { throw .expired }
        guard let scope = Scope(rawValue: claims.scope), scopes.contains(scope) else {
            throw .invalid("the token's scope is \(claims.scope), not \(scopes.map(\.rawValue).sorted().joined(separator: " or "))")
        }
        guard claims.aud.value.contains(audience) else { throw .invalid("the token is for another server") }
        guard let did = try? DID(claims.sub.value) else { throw .invalid("the token's subject is not a DID") }
        return (did, scope, claims.jti?.value, claims.apn)
    }
}

/// Tokens whose signature was checked, so that a client's every request
/// does not pay for parsing and HMAC again; expiry and scope are still
/// checked each time.
private final class VerifiedTokens: Sendable {
    private let cache = Mutex<[String: TokenIssuer.Claims]>([:])

    func claims(for token: String) -> TokenIssuer.Claims? { cache.withLock { $0[token] } }

    func remember(_ token: String, _ claims: TokenIssuer.Claims) {
        cache.withLock { cache in
            if cache.count >= 10_000 { cache.removeAll(keepingCapacity: true) }
            cache[token] = claims
        }
    }
}

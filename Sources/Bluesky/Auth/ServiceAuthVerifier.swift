import ATCrypto
import ATSyntax
import Foundation
import Synchronization

/// Checks incoming service-auth tokens (see ``ServiceAuth``), as a service
/// that accounts' PDSs call on their behalf does.
///
/// A token passes when:
/// - it is a compact JWT whose `alg` matches the issuer's key (`ES256K` or
///   `ES256`) and whose `typ`, if any, is not that of an access, refresh or
///   DPoP token;
/// - `aud` is this service, `exp` is not past, and `lxm` names the method
///   called (when the caller asks for one);
/// - its signature verifies with the `#atproto` key of the issuer's DID
///   document, resolved afresh once if the cached key fails (a rotated key);
/// - its `jti` has not been seen before, until it expires.
public struct ServiceAuthVerifier: Sendable {
    /// The DID (with `#fragment`, if tokens carry one) that tokens must be addressed to.
    public var audience: String
    /// Finds the issuer's signing key; `true` asks it to skip any cache.
    public var signingKey: @Sendable (DID, Bool) async throws -> any PublicKey
    /// Seconds of clock difference forgiven on `exp`.
    public var leeway: TimeInterval = 5
    private let seen = SeenNonces()

    /// A verifier for tokens addressed to `audience`, finding keys with `signingKey`.
    public init(audience: String, signingKey: @escaping @Sendable (DID, Bool) async throws -> any PublicKey) {
        self.audience = audience
        self.signingKey = signingKey
    }

    /// A verifier that finds keys through `resolver`.
    public init(audience: String, resolver: DIDResolver) {
        self.init(audience: audience) { did, _ in try await resolver.resolve(did).signingKey() }
    }

    /// The claims of `token` if it passes, for a call of `method` (or of any
    /// method when `nil`), at `now`.
    ///
    /// - Throws: ``ServiceAuthError`` naming what is wrong.
    public func verify(_ token: String, method: NSID?, now: Date = Date()) async throws(ServiceAuthError) -> ServiceAuthClaims {
        let parsed = try ServiceAuth.decode(token)
        let claims = parsed.claims
        if let type = parsed.type, ["at+jwt", "refresh+jwt", "dpop+jwt"].contains(type.lowercased()) {
            throw ServiceAuthError(.badAlgorithm, "a token of type \(type) is not a service-auth token")
        }
        guard claims.audience == audience else {
            throw ServiceAuthError(.badAudience, "the token is for \(claims.audience), not \(audience)")
        }
        guard TimeInterval(claims.expires) + leeway > now.timeIntervalSince1970 else {
            throw ServiceAuthError(.expired, "the token expired")
        }
        if let method, claims.method != method.description {
            throw ServiceAuthError(.badMethod, "the token is for \(claims.method ?? "no method"), not \(method)")
        }
        guard let issuer = claims.issuerDID else { throw ServiceAuthError(.malformed, "the issuer \(claims.issuer) is not a DID") }
        let message = Array(parsed.signingInput.utf8)
        var verified = false
        for fresh in [false, true] {
            let key: any PublicKey
            do {
                key = try await signingKey(issuer, fresh)
            } catch {
                throw ServiceAuthError(.unknownIssuer, "no signing key for \(issuer): \(error)")
            }
            guard parsed.algorithm == key.curve.jwtAlgorithm else {
                if fresh { throw ServiceAuthError(.badAlgorithm, "alg \(parsed.algorithm) does not match the issuer's \(key.curve.jwtAlgorithm) key") }
                continue
            }
            if key.isValidSignature(parsed.signature, for: message) {
                verified = true
                break
            }
        }
        guard verified else { throw ServiceAuthError(.badSignature, "the signature does not verify with the key of \(issuer)") }
        if let nonce = claims.nonce {
            guard seen.insert(nonce, until: TimeInterval(claims.expires) + leeway, now: now.timeIntervalSince1970) else {
                throw ServiceAuthError(.replayed, "the token was used before")
            }
        }
        return claims
    }
}

/// Nonces of tokens seen, each kept until its token expires.
final class SeenNonces: Sendable {
    private let nonces = Mutex([String: TimeInterval]())

    /// Records `nonce`; `false` if it is already there.
    func insert(_ nonce: String, until expiry: TimeInterval, now: TimeInterval) -> Bool {
        nonces.withLock { nonces in
            if nonces.count > 10_000 { nonces = nonces.filter { $0.value > now } }
            if let kept = nonces[nonce], kept > now { return false }
            nonces[nonce] = expiry
            return true
        }
    }
}

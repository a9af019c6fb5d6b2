import ATCrypto
import ATData
import ATSyntax
import Foundation

/// Inter-service authentication: short-lived JWTs that an account's PDS
/// signs with the account's repository key, so that another service (an
/// AppView, a feed generator, a labeler) knows who calls it and for what.
///
/// The token is `header.payload.signature`, base64url without padding. The
/// header's `alg` is `ES256K` for a K-256 key and `ES256` for a P-256 key; the
/// signature is the 64-byte `r || s` over the SHA-256 of `header.payload`.
/// The claims are those of ``ServiceAuthClaims``.
public enum ServiceAuth {
    /// The longest lifetime a token may ask for: one hour, as the reference PDS allows.
    public static let maxLifetime: TimeInterval = 3600
    /// The longest lifetime of a token bound to no method: one minute.
    public static let maxLifetimeWithoutMethod: TimeInterval = 60
    /// The lifetime when none is asked for: one minute.
    public static let defaultLifetime: TimeInterval = 60

    /// A token for `issuer` to call `audience` (a DID, optionally with a
    /// `#service` fragment), for the method `method` when one is given,
    /// expiring at `expires` (by default a minute after `now`).
    ///
    /// - Throws: ``ServiceAuthError`` with reason ``ServiceAuthError/Reason/badExpiration``
    ///   when `expires` is past, more than an hour away, or more than a minute
    ///   away for a token without a method; `CryptoError` if signing fails.
    public static func mint(
        issuer: DID, audience: String, method: NSID?, key: any PrivateKey, expires: Date? = nil, now: Date = Date()
    ) throws -> String {
        let issued = Int(now.timeIntervalSince1970.rounded(.down))
        let expiry = expires.map { Int($0.timeIntervalSince1970.rounded(.down)) } ?? issued + Int(defaultLifetime)
        let lifetime = TimeInterval(expiry - issued)
        guard lifetime > 0 else { throw ServiceAuthError(.badExpiration, "the expiry is in the past") }
        guard lifetime <= maxLifetime else { throw ServiceAuthError(.badExpiration, "a token may live at most an hour") }
        guard method != nil || lifetime <= maxLifetimeWithoutMethod else {
            throw ServiceAuthError(.badExpiration, "a token bound to no method may live at most a minute")
        }
        var nonce = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for i in nonce.indices { nonce[i] = UInt8.random(in: 0...255, using: &generator) }
        let claims = ServiceAuthClaims(
            issuer: issuer.description, audience: audience, expires: expiry, issuedAt: issued, method: method?.description,
            nonce: nonce.map { String($0, radix: 16).leftPaddedHex }.joined())
        let header = #"{"typ":"JWT","alg":"\#(key.curve.jwtAlgorithm)"}"#
        let signingInput = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(try claims.json())
        let signature = try key.sign(Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }

    /// The parts of a token, decoded but not verified.
    ///
    /// - Throws: ``ServiceAuthError`` (``ServiceAuthError/Reason/malformed``)
    ///   unless it is three base64url parts with a JSON header and claims.
    public static func decode(_ token: String) throws(ServiceAuthError) -> (algorithm: String, type: String?, claims: ServiceAuthClaims, signingInput: String, signature: [UInt8]) {
        guard token.utf8.count <= 8192 else { throw ServiceAuthError(.malformed, "the token is longer than 8 KiB") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64URL.decode(parts[0]), let payload = Base64URL.decode(parts[1]),
            let signature = Base64URL.decode(parts[2])
        else { throw ServiceAuthError(.malformed, "not three base64url parts") }
        guard let header = try? JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any],
            let algorithm = header["alg"] as? String
        else { throw ServiceAuthError(.malformed, "the header is not a JSON object with an alg") }
        let claims: ServiceAuthClaims
        do {
            claims = try JSONDecoder().decode(ServiceAuthClaims.self, from: Data(payload))
        } catch {
            throw ServiceAuthError(.malformed, "the claims are not those of a service-auth token")
        }
        return (algorithm, header["typ"] as? String, claims, String(parts[0]) + "." + String(parts[1]), signature)
    }
}

/// The claims of a service-auth token.
public struct ServiceAuthClaims: Sendable, Hashable, Codable {
    /// `iss`: the calling account's DID, or a service DID with a `#fragment`.
    public var issuer: String
    /// `aud`: the DID of the service called, optionally with a `#fragment`.
    public var audience: String
    /// `exp`: seconds since 1970 after which the token is refused.
    public var expires: Int
    /// `iat`: when it was made.
    public var issuedAt: Int?
    /// `lxm`: the only method the token may call, when it names one.
    public var method: String?
    /// `jti`: a random nonce; a verifier refuses it twice.
    public var nonce: String?

    /// Claims with these values.
    public init(issuer: String, audience: String, expires: Int, issuedAt: Int?, method: String?, nonce: String?) {
        self.issuer = issuer
        self.audience = audience
        self.expires = expires
        self.issuedAt = issuedAt
        self.method = method
        self.nonce = nonce
    }

    enum CodingKeys: String, CodingKey {
        case issuer = "iss", audience = "aud", expires = "exp", issuedAt = "iat", method = "lxm", nonce = "jti"
    }

    /// The issuer's DID, without a `#fragment`.
    public var issuerDID: DID? {
        try? DID(String(issuer.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]))
    }

    func json() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }
}

/// Why a service-auth token was refused or could not be made. The reasons
/// carry the error names the reference implementation answers with.
public struct ServiceAuthError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong.
    public enum Reason: String, Sendable, Hashable {
        /// Not a well-formed token.
        case malformed = "BadJwt"
        /// Signed with an algorithm atproto does not use, or of a forbidden `typ`.
        case badAlgorithm = "BadJwtAlgorithm"
        /// Past its `exp`.
        case expired = "JwtExpired"
        /// Addressed to another service.
        case badAudience = "BadJwtAudience"
        /// Bound to another method, or to none where one is required.
        case badMethod = "BadJwtLexiconMethod"
        /// The signature does not verify with the issuer's current key.
        case badSignature = "BadJwtSignature"
        /// The issuer's key could not be found.
        case unknownIssuer = "BadJwtIssuer"
        /// Its `jti` was seen before.
        case replayed = "JwtReplayed"
        /// An expiry that cannot be asked for.
        case badExpiration = "BadExpiration"
    }

    /// What is wrong.
    public let reason: Reason
    /// A sentence for people.
    public let message: String

    /// An error for `reason`.
    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    /// The XRPC error name.
    public var name: String { reason.rawValue }

    public var description: String { "\(reason.rawValue): \(message)" }
}

extension String {
    fileprivate var leftPaddedHex: String { utf8.count == 1 ? "0" + self : self }
}

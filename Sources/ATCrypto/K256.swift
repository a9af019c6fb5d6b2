import CSecp256k1
import Crypto

/// A secp256k1 public key.
///
/// ``verify(signature:for:)`` goes through libsecp256k1. The native verifier
/// (``Secp256k1``) is kept beside it, reached through ``verifyNatively(signature:for:)``,
/// so that the two independent implementations check each other in the tests.
public struct K256PublicKey: PublicKey, Hashable {
    public var curve: Curve { .k256 }
    public let compressedBytes: [UInt8]
    private let parsed: secp256k1_pubkey

    /// A key from a compressed (33-byte) or uncompressed (65-byte) SEC1 point;
    /// the point must be on the curve.
    public init(bytes: [UInt8]) throws(CryptoError) {
        guard bytes.count == 33 || bytes.count == 65 else {
            throw CryptoError(.invalidKey, "a K-256 public key is a 33- or 65-byte SEC1 point, not \(bytes.count) bytes")
        }
        guard let parsed = Libsecp256k1.parsePublicKey(bytes) else { throw CryptoError(.invalidKey, "not a point on secp256k1") }
        self.parsed = parsed
        compressedBytes = Libsecp256k1.serialize(parsed)
    }

    public static func == (lhs: K256PublicKey, rhs: K256PublicKey) -> Bool { lhs.compressedBytes == rhs.compressedBytes }
    public func hash(into hasher: inout Hasher) { hasher.combine(compressedBytes) }

    public func verify(signature: [UInt8], for message: [UInt8]) throws(CryptoError) {
        try LowS.check(signature, curve: .k256)
        guard Libsecp256k1.verify(digest: Array(SHA256.hash(data: message)), signature: signature, key: parsed) else {
            throw CryptoError(.badSignature, "K-256 signature does not verify")
        }
    }

    /// The same check as ``verify(signature:for:)`` through the native
    /// verifier; ``nativeVerifier`` keeps its tables for many checks.
    public func verifyNatively(signature: [UInt8], for message: [UInt8]) throws(CryptoError) {
        try nativeVerifier.verify(signature: signature, for: message)
    }

    /// The native verifier for this key, with the tables of the key's
    /// multiples built once.
    /// Throws if the native code does not take the point that libsecp256k1
    /// took (the tests show that they agree).
    public var nativeVerifier: NativeVerifier {
        get throws(CryptoError) {
            guard let point = Secp256k1.AffinePoint(sec1: compressedBytes) else {
                throw CryptoError(.invalidKey, "the native code does not take this point")
            }
            return NativeVerifier(key: Secp256k1.VerificationKey(point))
        }
    }

    /// secp256k1 verification implemented in Swift, independent of
    /// libsecp256k1. Its inputs are all public, so it need not be constant-time.
    public struct NativeVerifier: Sendable {
        let key: Secp256k1.VerificationKey

        /// Checks `signature` (compact, low-S) over the SHA-256 of `message`.
        public func verify(signature: [UInt8], for message: [UInt8]) throws(CryptoError) {
            try LowS.check(signature, curve: .k256)
            // LowS.check has bounded r and s to 1..<n.
            guard let r = Secp256k1.GroupScalar(exactly: signature[0..<32]), let s = Secp256k1.GroupScalar(exactly: signature[32..<64]),
                  Secp256k1.verify(digest: SHA256.hash(data: message), r: r, s: s, key: key)
            else { throw CryptoError(.badSignature, "K-256 signature does not verify") }
        }
    }
}

/// A secp256k1 private key; signing goes through libsecp256k1: constant-time,
/// deterministic (RFC 6979) and low-S.
public struct K256PrivateKey: PrivateKey {
    public var curve: Curve { .k256 }
    public let rawBytes: [UInt8]
    private let publicKeyValue: K256PublicKey
    public var publicKey: any PublicKey { publicKeyValue }

    /// A new random key.
    public init() throws(CryptoError) {
        var bytes = [UInt8](repeating: 0, count: 32)
        var rng = SystemRandomNumberGenerator()
        repeat {
            for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
        } while !Libsecp256k1.isValidSecret(bytes)
        try self.init(rawBytes: bytes)
    }

    /// A key from its 32-byte secret scalar, which must be in 1..<n.
    public init(rawBytes: [UInt8]) throws(CryptoError) {
        guard let point = Libsecp256k1.publicKey(secret: rawBytes) else {
            throw CryptoError(.invalidKey, "a K-256 private key is 32 bytes in 1..<n")
        }
        self.rawBytes = rawBytes
        publicKeyValue = try K256PublicKey(bytes: point)
    }

    public func sign(_ message: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard let signature = Libsecp256k1.sign(digest: Array(SHA256.hash(data: message)), secret: rawBytes) else {
            throw CryptoError(.internalFailure, "libsecp256k1 could not sign")
        }
        return signature
    }
}

/// A public key that checks atproto signatures.
///
/// Verification is strict: the signature must be the 64-byte compact `r || s`
/// form with a low `s`; DER and high-S signatures are rejected.
public protocol PublicKey: Sendable, CustomStringConvertible {
    /// The curve.
    var curve: Curve { get }
    /// The SEC1 compressed point, 33 bytes.
    var compressedBytes: [UInt8] { get }
    /// Checks `signature` over the SHA-256 of `message`.
    func verify(signature: [UInt8], for message: [UInt8]) throws(CryptoError)
}

/// A private key that makes atproto signatures.
public protocol PrivateKey: Sendable {
    /// The curve.
    var curve: Curve { get }
    /// The 32-byte secret scalar.
    var rawBytes: [UInt8] { get }
    /// The matching public key.
    var publicKey: any PublicKey { get }
    /// Signs the SHA-256 of `message`: 64 bytes of `r || s`, with a low `s`.
    func sign(_ message: [UInt8]) throws(CryptoError) -> [UInt8]
}

extension PublicKey {
    /// Whether `signature` over `message` verifies.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        (try? verify(signature: signature, for: message)) != nil
    }

    /// The `did:key` form, such as `did:key:zQ3sh…`.
    public var didKey: String { "did:key:" + multibase }

    /// The Multikey `publicKeyMultibase` form: base58btc of the multicodec
    /// prefix and the compressed point.
    public var multibase: String { DIDKey.encode(code: curve.publicMulticodec, bytes: compressedBytes) }

    public var description: String { didKey }
}

extension PrivateKey {
    /// The Multikey form of the private key: base58btc of the multicodec
    /// prefix and the secret scalar.
    public var multibase: String { DIDKey.encode(code: curve.privateMulticodec, bytes: rawBytes) }
}

/// Making and reading keys of either curve.
public enum Keys {
    /// A new random private key.
    public static func generate(_ curve: Curve) throws(CryptoError) -> any PrivateKey {
        switch curve {
        case .k256: try K256PrivateKey()
        case .p256: P256PrivateKey()
        }
    }

    /// A private key from its 32-byte secret scalar.
    public static func privateKey(_ curve: Curve, rawBytes: [UInt8]) throws(CryptoError) -> any PrivateKey {
        switch curve {
        case .k256: try K256PrivateKey(rawBytes: rawBytes)
        case .p256: try P256PrivateKey(rawBytes: rawBytes)
        }
    }

    /// A public key from a compressed (33-byte) or uncompressed (65-byte) point.
    public static func publicKey(_ curve: Curve, bytes: [UInt8]) throws(CryptoError) -> any PublicKey {
        switch curve {
        case .k256: try K256PublicKey(bytes: bytes)
        case .p256: try P256PublicKey(bytes: bytes)
        }
    }

    /// A public key from `did:key:z…` or a Multikey `z…` string.
    public static func publicKey(didKey: String) throws(CryptoError) -> any PublicKey {
        let (code, bytes) = try DIDKey.decode(didKey)
        switch code {
        case Curve.k256.publicMulticodec: return try K256PublicKey(bytes: bytes)
        case Curve.p256.publicMulticodec: return try P256PublicKey(bytes: bytes)
        default:
            throw CryptoError(.invalidDIDKey, "unsupported key type 0x\(String(code, radix: 16))")
        }
    }

    /// A private key from its Multikey `z…` string.
    public static func privateKey(multibase: String) throws(CryptoError) -> any PrivateKey {
        let (code, bytes) = try DIDKey.decode(multibase)
        switch code {
        case Curve.k256.privateMulticodec: return try K256PrivateKey(rawBytes: bytes)
        case Curve.p256.privateMulticodec: return try P256PrivateKey(rawBytes: bytes)
        default:
            throw CryptoError(.invalidDIDKey, "unsupported private key type 0x\(String(code, radix: 16))")
        }
    }
}

import Crypto
import Foundation

/// A NIST P-256 public key, checked through swift-crypto.
public struct P256PublicKey: PublicKey, Hashable {
    public var curve: Curve { .p256 }
    public let compressedBytes: [UInt8]
    private let key: P256.Signing.PublicKey

    /// A key from a compressed (33-byte) or uncompressed (65-byte) SEC1 point.
    public init(bytes: [UInt8]) throws(CryptoError) {
        do {
            switch bytes.count {
            case 33: key = try P256.Signing.PublicKey(compressedRepresentation: bytes)
            case 65: key = try P256.Signing.PublicKey(x963Representation: bytes)
            default: throw CryptoError(.invalidKey, "a P-256 public key is a 33- or 65-byte SEC1 point, not \(bytes.count) bytes")
            }
        } catch let error as CryptoError {
            throw error
        } catch {
            throw CryptoError(.invalidKey, "not a point on P-256")
        }
        compressedBytes = Array(key.compressedRepresentation)
    }

    init(key: P256.Signing.PublicKey) {
        self.key = key
        compressedBytes = Array(key.compressedRepresentation)
    }

    public func verify(signature: [UInt8], for message: [UInt8]) throws(CryptoError) {
        try LowS.check(signature, curve: .p256)
        guard let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature),
              key.isValidSignature(ecdsa, for: message)
        else { throw CryptoError(.badSignature, "P-256 signature does not verify") }
    }

    public static func == (lhs: P256PublicKey, rhs: P256PublicKey) -> Bool { lhs.compressedBytes == rhs.compressedBytes }
    public func hash(into hasher: inout Hasher) { hasher.combine(compressedBytes) }
}

/// A NIST P-256 private key; signing goes through swift-crypto.
public struct P256PrivateKey: PrivateKey {
    public var curve: Curve { .p256 }
    private let key: P256.Signing.PrivateKey
    private let publicKeyValue: P256PublicKey
    public var rawBytes: [UInt8] { Array(key.rawRepresentation) }
    public var publicKey: any PublicKey { publicKeyValue }

    /// A new random key.
    public init() {
        key = P256.Signing.PrivateKey()
        publicKeyValue = P256PublicKey(key: key.publicKey)
    }

    /// A key from its 32-byte secret scalar.
    public init(rawBytes: [UInt8]) throws(CryptoError) {
        do {
            key = try P256.Signing.PrivateKey(rawRepresentation: rawBytes)
        } catch {
            throw CryptoError(.invalidKey, "a P-256 private key is 32 bytes in 1..<n")
        }
        publicKeyValue = P256PublicKey(key: key.publicKey)
    }

    public func sign(_ message: [UInt8]) throws(CryptoError) -> [UInt8] {
        let signature: P256.Signing.ECDSASignature
        do {
            signature = try key.signature(for: message)
        } catch {
            throw CryptoError(.internalFailure, "P-256 signing failed: \(error)")
        }
        return LowS.normalize(Array(signature.rawRepresentation), curve: .p256)
    }
}

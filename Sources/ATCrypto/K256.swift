import COpenSSL
import Crypto
import Foundation
import Synchronization

/// An OpenSSL `EC_KEY` kept for the life of a key, so that signing and
/// verifying do not rebuild it (and recompute the public point) every time.
/// Calls are serialised: OpenSSL does not promise that one `EC_KEY` may be
/// used from two threads at once.
final class ECKeyHandle: Sendable {
    private let handle: Mutex<OpaquePointerBox>

    struct OpaquePointerBox: @unchecked Sendable { let pointer: OpaquePointer }

    init(_ key: OpaquePointer) { handle = Mutex(OpaquePointerBox(pointer: key)) }

    func withKey<T: Sendable>(_ body: (OpaquePointer) throws(CryptoError) -> T) throws(CryptoError) -> T {
        let result = handle.withLock { box -> Result<T, CryptoError> in
            do throws(CryptoError) { return .success(try body(box.pointer)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    deinit { handle.withLock { EC_KEY_free($0.pointer) } }
}

/// A secp256k1 public key.
///
/// Verification is native (``Secp256k1``, with precomputed multiples of the
/// key made once): its inputs are all public, so it need not be constant-time,
/// and it runs about eleven times faster than OpenSSL 3's generic prime-curve
/// code, which still does the signing.
public struct K256PublicKey: PublicKey, Hashable {
    public var curve: Curve { .k256 }
    public let compressedBytes: [UInt8]
    private let key: Secp256k1.VerificationKey

    /// A key from a compressed (33-byte) or uncompressed (65-byte) SEC1 point;
    /// the point must be on the curve.
    public init(bytes: [UInt8]) throws(CryptoError) {
        guard bytes.count == 33 || bytes.count == 65 else {
            throw CryptoError(.invalidKey, "a K-256 public key is a 33- or 65-byte SEC1 point, not \(bytes.count) bytes")
        }
        guard let point = Secp256k1.AffinePoint(sec1: bytes) else { throw CryptoError(.invalidKey, "not a point on secp256k1") }
        key = Secp256k1.VerificationKey(point)
        compressedBytes = point.compressed
    }

    /// The same check as ``verify(signature:for:)``, through OpenSSL's
    /// libcrypto: slower, for cross-checking the native code.
    public func verifyWithOpenSSL(signature: [UInt8], for message: [UInt8]) throws(CryptoError) {
        try LowS.check(signature, curve: .k256)
        let handle = ECKeyHandle(try OpenSSLK256.publicKey(compressedBytes))
        let digest = Array(SHA256.hash(data: message))
        let ok = try handle.withKey { key throws(CryptoError) -> Bool in
            guard let sig = ECDSA_SIG_new() else { throw CryptoError(.internalFailure, "ECDSA_SIG_new") }
            defer { ECDSA_SIG_free(sig) }
            let r = signature[0..<32].withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, 32, nil) }
            let s = signature[32..<64].withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, 32, nil) }
            guard let r, let s, ECDSA_SIG_set0(sig, r, s) == 1 else {
                throw CryptoError(.internalFailure, "ECDSA_SIG_set0")
            }
            return digest.withUnsafeBufferPointer { ECDSA_do_verify($0.baseAddress, 32, sig, key) } == 1
        }
        guard ok else { throw CryptoError(.badSignature, "K-256 signature does not verify") }
    }

    public static func == (lhs: K256PublicKey, rhs: K256PublicKey) -> Bool { lhs.compressedBytes == rhs.compressedBytes }
    public func hash(into hasher: inout Hasher) { hasher.combine(compressedBytes) }

    public func verify(signature: [UInt8], for message: [UInt8]) throws(CryptoError) {
        try LowS.check(signature, curve: .k256)
        // LowS.check has bounded r and s to 1..<n.
        guard let r = Secp256k1.GroupScalar(exactly: signature[0..<32]), let s = Secp256k1.GroupScalar(exactly: signature[32..<64]),
              Secp256k1.verify(digest: SHA256.hash(data: message), r: r, s: s, key: key)
        else { throw CryptoError(.badSignature, "K-256 signature does not verify") }
    }
}

/// A secp256k1 private key; signing goes through OpenSSL's libcrypto.
public struct K256PrivateKey: PrivateKey {
    public var curve: Curve { .k256 }
    public let rawBytes: [UInt8]
    private let publicKeyValue: K256PublicKey
    private let handle: ECKeyHandle
    public var publicKey: any PublicKey { publicKeyValue }

    /// A new random key.
    public init() throws(CryptoError) {
        var bytes = [UInt8](repeating: 0, count: 32)
        repeat {
            var rng = SystemRandomNumberGenerator()
            for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
        } while (try? K256PrivateKey(rawBytes: bytes)) == nil
        try self.init(rawBytes: bytes)
    }

    /// A key from its 32-byte secret scalar, which must be in 1..<n.
    public init(rawBytes: [UInt8]) throws(CryptoError) {
        guard rawBytes.count == 32, !Scalar.isZero(rawBytes[...]), Scalar.compare(rawBytes[...], Scalar.k256Order[...]) < 0 else {
            throw CryptoError(.invalidKey, "a K-256 private key is 32 bytes in 1..<n")
        }
        self.rawBytes = rawBytes
        handle = ECKeyHandle(try OpenSSLK256.privateKey(rawBytes))
        let point = try handle.withKey { key throws(CryptoError) in try OpenSSLK256.compressedPoint(of: key) }
        publicKeyValue = try K256PublicKey(bytes: point)
    }

    public func sign(_ message: [UInt8]) throws(CryptoError) -> [UInt8] {
        let digest = Array(SHA256.hash(data: message))
        let signature = try handle.withKey { key throws(CryptoError) -> [UInt8] in
            guard let sig = digest.withUnsafeBufferPointer({ ECDSA_do_sign($0.baseAddress, 32, key) }) else {
                throw CryptoError(.internalFailure, "ECDSA_do_sign failed")
            }
            defer { ECDSA_SIG_free(sig) }
            var out = [UInt8](repeating: 0, count: 64)
            out.withUnsafeMutableBufferPointer { buffer in
                _ = BN_bn2binpad(ECDSA_SIG_get0_r(sig), buffer.baseAddress, 32)
                _ = BN_bn2binpad(ECDSA_SIG_get0_s(sig), buffer.baseAddress! + 32, 32)
            }
            return out
        }
        return LowS.normalize(signature, curve: .k256)
    }
}

/// OpenSSL EC_KEY objects for secp256k1; the caller owns what these return.
enum OpenSSLK256 {
    static func publicKey(_ bytes: [UInt8]) throws(CryptoError) -> OpaquePointer {
        guard bytes.count == 33 || bytes.count == 65 else {
            throw CryptoError(.invalidKey, "a K-256 public key is a 33- or 65-byte SEC1 point, not \(bytes.count) bytes")
        }
        guard let key = EC_KEY_new_by_curve_name(NID_secp256k1) else { throw CryptoError(.internalFailure, "EC_KEY_new") }
        guard let point = EC_POINT_new(EC_KEY_get0_group(key)) else {
            EC_KEY_free(key)
            throw CryptoError(.internalFailure, "EC_POINT_new")
        }
        defer { EC_POINT_free(point) }
        let decoded = bytes.withUnsafeBufferPointer { EC_POINT_oct2point(EC_KEY_get0_group(key), point, $0.baseAddress, $0.count, nil) }
        guard decoded == 1, EC_POINT_is_on_curve(EC_KEY_get0_group(key), point, nil) == 1, EC_KEY_set_public_key(key, point) == 1 else {
            EC_KEY_free(key)
            throw CryptoError(.invalidKey, "not a point on secp256k1")
        }
        return key
    }

    static func privateKey(_ raw: [UInt8]) throws(CryptoError) -> OpaquePointer {
        guard let key = EC_KEY_new_by_curve_name(NID_secp256k1) else { throw CryptoError(.internalFailure, "EC_KEY_new") }
        guard let secret = raw.withUnsafeBufferPointer({ BN_bin2bn($0.baseAddress, 32, nil) }) else {
            EC_KEY_free(key)
            throw CryptoError(.internalFailure, "BN_bin2bn")
        }
        defer { BN_clear_free(secret) }
        let group = EC_KEY_get0_group(key)
        guard let point = EC_POINT_new(group) else {
            EC_KEY_free(key)
            throw CryptoError(.internalFailure, "EC_POINT_new")
        }
        defer { EC_POINT_free(point) }
        // Precomputed multiples of the generator make each signature's k·G cheap.
        guard EC_KEY_set_private_key(key, secret) == 1, EC_POINT_mul(group, point, secret, nil, nil, nil) == 1,
              EC_KEY_set_public_key(key, point) == 1, EC_KEY_precompute_mult(key, nil) == 1
        else {
            EC_KEY_free(key)
            throw CryptoError(.invalidKey, "not a valid K-256 private key")
        }
        return key
    }

    static func compressedPoint(of key: OpaquePointer) throws(CryptoError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 33)
        let written = out.withUnsafeMutableBufferPointer {
            EC_POINT_point2oct(EC_KEY_get0_group(key), EC_KEY_get0_public_key(key), POINT_CONVERSION_COMPRESSED, $0.baseAddress, 33, nil)
        }
        guard written == 33 else { throw CryptoError(.internalFailure, "EC_POINT_point2oct") }
        return out
    }
}

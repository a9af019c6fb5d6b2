import COpenSSL
import Crypto

/// OpenSSL's libcrypto for secp256k1: a third implementation, independent of
/// libsecp256k1 and of the native verifier, that the tests check both
/// against and that the benchmarks time as an anchor. The library itself no
/// longer uses it: libsecp256k1 signs in constant time and faster.
public enum OpenSSLK256 {
    /// Whether the compact `r || s` signature over SHA-256(`message`) is valid
    /// for the SEC1 `publicKey`. OpenSSL accepts a high `s`; atproto's low-S
    /// rule is the caller's to apply.
    public static func verify(publicKey: [UInt8], signature: [UInt8], message: [UInt8]) -> Bool {
        guard signature.count == 64, let key = self.publicKey(publicKey) else { return false }
        defer { EC_KEY_free(key) }
        guard let sig = ECDSA_SIG_new() else { return false }
        defer { ECDSA_SIG_free(sig) }
        let r = signature[0..<32].withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, 32, nil) }
        let s = signature[32..<64].withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, 32, nil) }
        guard let r, let s, ECDSA_SIG_set0(sig, r, s) == 1 else { return false }
        let digest = Array(SHA256.hash(data: message))
        return digest.withUnsafeBufferPointer { ECDSA_do_verify($0.baseAddress, 32, sig, key) } == 1
    }

    /// A compact `r || s` signature over SHA-256(`message`) with a random
    /// nonce, as OpenSSL makes it (its `s` may be high).
    public static func sign(secret: [UInt8], message: [UInt8]) -> [UInt8]? {
        guard let key = EC_KEY_new_by_curve_name(NID_secp256k1) else { return nil }
        defer { EC_KEY_free(key) }
        guard let bn = secret.withUnsafeBufferPointer({ BN_bin2bn($0.baseAddress, 32, nil) }) else { return nil }
        defer { BN_clear_free(bn) }
        guard EC_KEY_set_private_key(key, bn) == 1 else { return nil }
        let digest = Array(SHA256.hash(data: message))
        guard let sig = digest.withUnsafeBufferPointer({ ECDSA_do_sign($0.baseAddress, 32, key) }) else { return nil }
        defer { ECDSA_SIG_free(sig) }
        var out = [UInt8](repeating: 0, count: 64)
        out.withUnsafeMutableBufferPointer { buffer in
            _ = BN_bn2binpad(ECDSA_SIG_get0_r(sig), buffer.baseAddress, 32)
            _ = BN_bn2binpad(ECDSA_SIG_get0_s(sig), buffer.baseAddress! + 32, 32)
        }
        return out
    }

    /// An `EC_KEY` for a SEC1 point on the curve; the caller frees it.
    static func publicKey(_ bytes: [UInt8]) -> OpaquePointer? {
        guard let key = EC_KEY_new_by_curve_name(NID_secp256k1) else { return nil }
        guard let point = EC_POINT_new(EC_KEY_get0_group(key)) else {
            EC_KEY_free(key)
            return nil
        }
        defer { EC_POINT_free(point) }
        let decoded = bytes.withUnsafeBufferPointer { EC_POINT_oct2point(EC_KEY_get0_group(key), point, $0.baseAddress, $0.count, nil) }
        guard decoded == 1, EC_POINT_is_on_curve(EC_KEY_get0_group(key), point, nil) == 1, EC_KEY_set_public_key(key, point) == 1 else {
            EC_KEY_free(key)
            return nil
        }
        return key
    }
}

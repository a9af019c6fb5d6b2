import CSecp256k1

/// Bitcoin Core's libsecp256k1: K-256 key derivation, signing and
/// verification.
///
/// Signing is constant-time, with RFC 6979 deterministic nonces, and always
/// gives a low `s`. One context serves every thread: the calls used here take
/// it as `const`, which the library documents as safe to share. It is
/// randomised once, at creation, as the library recommends against side
/// channels.
enum Libsecp256k1 {
    /// The shared context.
    final class Context: @unchecked Sendable {
        let pointer: OpaquePointer

        init() {
            // Creation fails only on a flags error, which a constant rules out.
            pointer = secp256k1_context_create(csecp256k1_context_none)!
            var seed = [UInt8](repeating: 0, count: 32)
            var rng = SystemRandomNumberGenerator()
            for i in seed.indices { seed[i] = UInt8.random(in: 0...255, using: &rng) }
            _ = secp256k1_context_randomize(pointer, seed)
        }

        deinit { secp256k1_context_destroy(pointer) }
    }

    static let shared = Context()

    /// Whether `secret` is a valid secret key: 32 bytes in 1..<n.
    static func isValidSecret(_ secret: [UInt8]) -> Bool {
        secret.count == 32 && secp256k1_ec_seckey_verify(shared.pointer, secret) == 1
    }

    /// The compressed public point of a valid secret key.
    static func publicKey(secret: [UInt8]) -> [UInt8]? {
        var key = secp256k1_pubkey()
        guard isValidSecret(secret), secp256k1_ec_pubkey_create(shared.pointer, &key, secret) == 1 else { return nil }
        return serialize(key)
    }

    /// A parsed public key from a 33- or 65-byte SEC1 point on the curve.
    static func parsePublicKey(_ bytes: [UInt8]) -> secp256k1_pubkey? {
        // The hybrid forms (0x06, 0x07) that the library accepts are not SEC1's usual ones.
        guard (bytes.count == 33 && (bytes[0] == 2 || bytes[0] == 3)) || (bytes.count == 65 && bytes[0] == 4) else { return nil }
        var key = secp256k1_pubkey()
        guard secp256k1_ec_pubkey_parse(shared.pointer, &key, bytes, bytes.count) == 1 else { return nil }
        return key
    }

    static func serialize(_ key: secp256k1_pubkey) -> [UInt8] {
        var key = key
        var out = [UInt8](repeating: 0, count: 33)
        var length = 33
        _ = secp256k1_ec_pubkey_serialize(shared.pointer, &out, &length, &key, csecp256k1_ec_compressed)
        return out
    }

    /// The compact `r || s` signature of a 32-byte digest: low-S, with an
    /// RFC 6979 nonce.
    static func sign(digest: [UInt8], secret: [UInt8]) -> [UInt8]? {
        var signature = secp256k1_ecdsa_signature()
        guard digest.count == 32, secp256k1_ecdsa_sign(shared.pointer, &signature, digest, secret, nil, nil) == 1 else { return nil }
        var out = [UInt8](repeating: 0, count: 64)
        _ = secp256k1_ecdsa_signature_serialize_compact(shared.pointer, &out, &signature)
        return out
    }

    /// Whether the compact `r || s` signature is valid for the digest. The
    /// library refuses a high `s`, and `r` or `s` of zero or at least `n`.
    static func verify(digest: [UInt8], signature: [UInt8], key: secp256k1_pubkey) -> Bool {
        var parsed = secp256k1_ecdsa_signature()
        var key = key
        guard digest.count == 32, signature.count == 64,
              secp256k1_ecdsa_signature_parse_compact(shared.pointer, &parsed, signature) == 1
        else { return false }
        return secp256k1_ecdsa_verify(shared.pointer, &parsed, digest, &key) == 1
    }
}

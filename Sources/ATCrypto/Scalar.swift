import ATData

/// 256-bit big-endian scalars: just what low-S normalisation needs.
enum Scalar {
    // Constants, so the multibase (base16) decode cannot fail.
    static let k256Order = try! Multibase.decode("ffffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
    static let p256Order = try! Multibase.decode("fffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")

    /// Compares two 32-byte big-endian numbers.
    static func compare(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Int {
        for (x, y) in zip(a, b) where x != y { return x < y ? -1 : 1 }
        return 0
    }

    /// `n - s` for 32-byte big-endian numbers with s < n.
    static func subtract(_ n: [UInt8], _ s: ArraySlice<UInt8>) -> [UInt8] {
        let s = Array(s)
        var out = [UInt8](repeating: 0, count: 32)
        var borrow = 0
        for i in stride(from: 31, through: 0, by: -1) {
            var d = Int(n[i]) - Int(s[i]) - borrow
            borrow = d < 0 ? 1 : 0
            if d < 0 { d += 256 }
            out[i] = UInt8(d)
        }
        return out
    }

    /// `n / 2`, rounded down.
    static func half(_ n: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var carry: UInt8 = 0
        for i in 0..<32 {
            out[i] = (n[i] >> 1) | (carry << 7)
            carry = n[i] & 1
        }
        return out
    }

    static func isZero(_ a: ArraySlice<UInt8>) -> Bool { a.allSatisfy { $0 == 0 } }
}

/// Low-S rules shared by both curves: signatures are 64 bytes of `r || s`,
/// with `0 < r, s < n` and `s <= n / 2`.
enum LowS {
    /// Checks the compact form and the low-S rule.
    static func check(_ signature: [UInt8], curve: Curve) throws(CryptoError) {
        guard signature.count == 64 else {
            throw CryptoError(.invalidSignatureFormat, "a signature is 64 bytes of r || s, not \(signature.count) bytes (DER is not accepted)")
        }
        let n = curve.order
        let r = signature[0..<32], s = signature[32..<64]
        guard !Scalar.isZero(r), !Scalar.isZero(s), Scalar.compare(r, n[...]) < 0, Scalar.compare(s, n[...]) < 0 else {
            throw CryptoError(.invalidSignatureFormat, "r and s must be in 1..<n")
        }
        guard Scalar.compare(s, Scalar.half(n)[...]) <= 0 else {
            throw CryptoError(.highS, "s is in the upper half of the curve order")
        }
    }

    /// `signature` with `s` replaced by `n - s` when it is high.
    static func normalize(_ signature: [UInt8], curve: Curve) -> [UInt8] {
        let n = curve.order
        let s = signature[32..<64]
        guard Scalar.compare(s, Scalar.half(n)[...]) > 0 else { return signature }
        return Array(signature[0..<32]) + Scalar.subtract(n, s)
    }
}

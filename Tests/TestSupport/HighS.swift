/// The orders of the signing curves and the high-S twin of a signature, for
/// tests that must show high-S signatures are refused. Written out here rather
/// than borrowed from ATCrypto, so that the tests do not check the library
/// with its own arithmetic.
public enum HighS {
    /// secp256k1's group order n, big-endian.
    public static let k256Order = hexBytes("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
    /// P-256's group order n, big-endian.
    public static let p256Order = hexBytes("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")

    /// `(r, n - s)`: the same signature in its high-S form.
    public static func twin(of signature: [UInt8], order n: [UInt8]) -> [UInt8] {
        var s = [UInt8](repeating: 0, count: 32)
        var borrow = 0
        for i in stride(from: 31, through: 0, by: -1) {
            var d = Int(n[i]) - Int(signature[32 + i]) - borrow
            borrow = d < 0 ? 1 : 0
            if d < 0 { d += 256 }
            s[i] = UInt8(d)
        }
        return Array(signature[0..<32]) + s
    }
}

/// Word arithmetic shared by the secp256k1 field and scalar code: 256-bit
/// numbers are four little-endian 64-bit limbs.
enum Limbs {
    /// A 256-bit number, least significant limb first.
    typealias Word4 = (UInt64, UInt64, UInt64, UInt64)
    /// A 512-bit product, least significant limb first.
    typealias Word8 = (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    /// `a + b`, with the carry out of 256 bits.
    @inline(__always)
    static func add(_ a: Word4, _ b: Word4) -> (Word4, UInt64) {
        var r0, r1, r2, r3, k: UInt64
        (r0, k) = adc(a.0, b.0, 0)
        (r1, k) = adc(a.1, b.1, k)
        (r2, k) = adc(a.2, b.2, k)
        (r3, k) = adc(a.3, b.3, k)
        return ((r0, r1, r2, r3), k)
    }

    /// `a - b` modulo 2²⁵⁶, with the borrow out.
    @inline(__always)
    static func subtract(_ a: Word4, _ b: Word4) -> (Word4, UInt64) {
        var r0, r1, r2, r3, k: UInt64
        (r0, k) = sbb(a.0, b.0, 0)
        (r1, k) = sbb(a.1, b.1, k)
        (r2, k) = sbb(a.2, b.2, k)
        (r3, k) = sbb(a.3, b.3, k)
        return ((r0, r1, r2, r3), k)
    }
    /// `a * b + acc + carry` as (low, high); it cannot overflow 128 bits.
    @inline(__always)
    static func mac(_ a: UInt64, _ b: UInt64, _ acc: UInt64, _ carry: UInt64) -> (UInt64, UInt64) {
        let t = UInt128(a) &* UInt128(b) &+ UInt128(acc) &+ UInt128(carry)
        return (UInt64(truncatingIfNeeded: t), UInt64(truncatingIfNeeded: t &>> 64))
    }

    /// `a + b + carry` as (sum, carry out).
    @inline(__always)
    static func adc(_ a: UInt64, _ b: UInt64, _ carry: UInt64) -> (UInt64, UInt64) {
        let t = UInt128(a) &+ UInt128(b) &+ UInt128(carry)
        return (UInt64(truncatingIfNeeded: t), UInt64(truncatingIfNeeded: t &>> 64))
    }

    /// `a - b - borrow` as (difference, borrow out).
    @inline(__always)
    static func sbb(_ a: UInt64, _ b: UInt64, _ borrow: UInt64) -> (UInt64, UInt64) {
        let t = UInt128(a) &- UInt128(b) &- UInt128(borrow)
        return (UInt64(truncatingIfNeeded: t), UInt64(truncatingIfNeeded: t &>> 64) & 1)
    }

    /// The full 512-bit product of two 256-bit numbers, as eight limbs.
    @inline(__always)
    static func multiply(
        _ a: Word4, _ b: Word4
    ) -> Word8 {
        var r0, r1, r2, r3, r4, r5, r6, r7, c: UInt64
        (r0, c) = mac(a.0, b.0, 0, 0)
        (r1, c) = mac(a.0, b.1, 0, c)
        (r2, c) = mac(a.0, b.2, 0, c)
        (r3, r4) = mac(a.0, b.3, 0, c)
        (r1, c) = mac(a.1, b.0, r1, 0)
        (r2, c) = mac(a.1, b.1, r2, c)
        (r3, c) = mac(a.1, b.2, r3, c)
        (r4, r5) = mac(a.1, b.3, r4, c)
        (r2, c) = mac(a.2, b.0, r2, 0)
        (r3, c) = mac(a.2, b.1, r3, c)
        (r4, c) = mac(a.2, b.2, r4, c)
        (r5, r6) = mac(a.2, b.3, r5, c)
        (r3, c) = mac(a.3, b.0, r3, 0)
        (r4, c) = mac(a.3, b.1, r4, c)
        (r5, c) = mac(a.3, b.2, r5, c)
        (r6, r7) = mac(a.3, b.3, r6, c)
        return (r0, r1, r2, r3, r4, r5, r6, r7)
    }

    /// The 512-bit square of a 256-bit number: the six cross products once,
    /// doubled, plus the four squares.
    @inline(__always)
    static func square(_ a: Word4) -> Word8 {
        var r1, r2, r3, r4, r5, r6, c: UInt64
        (r1, c) = mac(a.0, a.1, 0, 0)
        (r2, c) = mac(a.0, a.2, 0, c)
        (r3, r4) = mac(a.0, a.3, 0, c)
        (r3, c) = mac(a.1, a.2, r3, 0)
        (r4, r5) = mac(a.1, a.3, r4, c)
        (r5, r6) = mac(a.2, a.3, r5, 0)
        // Double the cross products (bits 64...447).
        let r7 = r6 >> 63
        r6 = (r6 << 1) | (r5 >> 63)
        r5 = (r5 << 1) | (r4 >> 63)
        r4 = (r4 << 1) | (r3 >> 63)
        r3 = (r3 << 1) | (r2 >> 63)
        r2 = (r2 << 1) | (r1 >> 63)
        r1 <<= 1
        // Add the squares on the diagonal.
        var s0, s1, s2, s3, s4, s5, s6, s7: UInt64
        var hi: UInt64
        (s0, hi) = mac(a.0, a.0, 0, 0)
        (s1, c) = adc(r1, hi, 0)
        (s2, hi) = mac(a.1, a.1, r2, c)
        (s3, c) = adc(r3, hi, 0)
        (s4, hi) = mac(a.2, a.2, r4, c)
        (s5, c) = adc(r5, hi, 0)
        (s6, hi) = mac(a.3, a.3, r6, c)
        s7 = r7 &+ hi
        return (s0, s1, s2, s3, s4, s5, s6, s7)
    }

    /// Reads 32 big-endian bytes.
    static func read(_ bytes: some Sequence<UInt8>) -> Word4 {
        var words: [UInt64] = [0, 0, 0, 0]
        for (i, byte) in bytes.enumerated() {
            let limb = 3 - i / 8
            words[limb] = words[limb] << 8 | UInt64(byte)
        }
        return (words[0], words[1], words[2], words[3])
    }

    /// Writes 32 big-endian bytes.
    static func write(_ l: Word4) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let words = [l.3, l.2, l.1, l.0]
        for (w, word) in words.enumerated() {
            for b in 0..<8 { out[w * 8 + b] = UInt8(truncatingIfNeeded: word >> (56 - 8 * b)) }
        }
        return out
    }

    /// Whether `a < b`.
    @inline(__always)
    static func less(_ a: Word4, _ b: Word4) -> Bool {
        if a.3 != b.3 { return a.3 < b.3 }
        if a.2 != b.2 { return a.2 < b.2 }
        if a.1 != b.1 { return a.1 < b.1 }
        return a.0 < b.0
    }
}

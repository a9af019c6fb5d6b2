/// secp256k1, implemented natively for verification: the inputs are public
/// (key, message, signature), so nothing here needs to run in constant time.
/// Signing and the verification that keys use go through libsecp256k1;
/// this is the independent check of it.
enum Secp256k1 {}

extension Secp256k1 {
    /// An element of the base field GF(p), p = 2²⁵⁶ − 2³² − 977, as four
    /// little-endian 64-bit limbs, always fully reduced (less than p).
    struct FieldElement: Equatable {
        var l0, l1, l2, l3: UInt64

        /// 2²⁵⁶ mod p: multiplying the high half of a product by it folds the
        /// product back below 2²⁵⁶.
        static let c: UInt64 = 0x1_0000_03D1
        static let zero = FieldElement(l0: 0, l1: 0, l2: 0, l3: 0)
        static let one = FieldElement(l0: 1, l1: 0, l2: 0, l3: 0)
        /// The curve's b in y² = x³ + 7.
        static let seven = FieldElement(l0: 7, l1: 0, l2: 0, l3: 0)

        @inline(__always)
        init(l0: UInt64, l1: UInt64, l2: UInt64, l3: UInt64) {
            self.l0 = l0
            self.l1 = l1
            self.l2 = l2
            self.l3 = l3
        }

        /// A field element from 32 big-endian bytes; nil unless less than p.
        init?(bytes: some Collection<UInt8>) {
            guard bytes.count == 32 else { return nil }
            let l = Limbs.read(bytes)
            guard !Self.atLeastP(l.0, l.1, l.2, l.3) else { return nil }
            self.init(l0: l.0, l1: l.1, l2: l.2, l3: l.3)
        }

        /// 32 big-endian bytes.
        var bytes: [UInt8] { Limbs.write(limbs) }
        var isZero: Bool { (l0 | l1 | l2 | l3) == 0 }
        var isOdd: Bool { l0 & 1 == 1 }

        @inline(__always)
        static func atLeastP(_ l0: UInt64, _ l1: UInt64, _ l2: UInt64, _ l3: UInt64) -> Bool {
            (l3 & l2 & l1) == .max && l0 >= 0xFFFF_FFFE_FFFF_FC2F
        }

        @inline(__always)
        init(_ l: Limbs.Word4) { self.init(l0: l.0, l1: l.1, l2: l.2, l3: l.3) }

        var limbs: Limbs.Word4 { (l0, l1, l2, l3) }

        /// `l + c` modulo 2²⁵⁶: subtracts p from a value in p..<2²⁵⁶, or
        /// reduces a sum that carried out of 256 bits.
        @inline(__always)
        static func addC(_ l0: UInt64, _ l1: UInt64, _ l2: UInt64, _ l3: UInt64) -> FieldElement {
            FieldElement(Limbs.add((l0, l1, l2, l3), (c, 0, 0, 0)).0)
        }

        @inline(__always)
        static func + (a: FieldElement, b: FieldElement) -> FieldElement {
            let (r, k) = Limbs.add(a.limbs, b.limbs)
            if k != 0 || atLeastP(r.0, r.1, r.2, r.3) { return addC(r.0, r.1, r.2, r.3) }
            return FieldElement(r)
        }

        @inline(__always)
        static func - (a: FieldElement, b: FieldElement) -> FieldElement {
            let (r, k) = Limbs.subtract(a.limbs, b.limbs)
            guard k != 0 else { return FieldElement(r) }
            // a - b + 2²⁵⁶ is more than c, so adding p (subtracting c) cannot borrow out.
            return FieldElement(Limbs.subtract(r, (c, 0, 0, 0)).0)
        }

        @inline(__always)
        static prefix func - (a: FieldElement) -> FieldElement { .zero - a }

        @inline(__always)
        static func * (a: FieldElement, b: FieldElement) -> FieldElement {
            reduce(Limbs.multiply(a.limbs, b.limbs))
        }

        /// `self²`.
        @inline(__always)
        var squared: FieldElement { Self.reduce(Limbs.square(limbs)) }

        /// `self · k` for a small k.
        @inline(__always)
        func times(_ k: UInt64) -> FieldElement {
            var r0, r1, r2, r3, hi: UInt64
            (r0, hi) = Limbs.mac(l0, k, 0, 0)
            (r1, hi) = Limbs.mac(l1, k, 0, hi)
            (r2, hi) = Limbs.mac(l2, k, 0, hi)
            (r3, hi) = Limbs.mac(l3, k, 0, hi)
            return Self.fold(r0, r1, r2, r3, hi)
        }

        /// Reduces a 512-bit product: high · c + low, twice, then a final
        /// subtraction of p.
        @inline(__always)
        static func reduce(_ t: Limbs.Word8) -> FieldElement {
            var r0, r1, r2, r3, hi: UInt64
            (r0, hi) = Limbs.mac(t.4, c, t.0, 0)
            (r1, hi) = Limbs.mac(t.5, c, t.1, hi)
            (r2, hi) = Limbs.mac(t.6, c, t.2, hi)
            (r3, hi) = Limbs.mac(t.7, c, t.3, hi)
            return fold(r0, r1, r2, r3, hi)
        }

        /// Reduces `top · 2²⁵⁶ + r` for a top word of at most 64 bits.
        @inline(__always)
        static func fold(_ l0: UInt64, _ l1: UInt64, _ l2: UInt64, _ l3: UInt64, _ top: UInt64) -> FieldElement {
            var r0, r1, r2, r3, k: UInt64
            (r0, k) = Limbs.mac(top, c, l0, 0)
            (r1, k) = Limbs.adc(l1, k, 0)
            (r2, k) = Limbs.adc(l2, 0, k)
            (r3, k) = Limbs.adc(l3, 0, k)
            // A carry leaves a value below 2⁹⁸, so adding c once more cannot carry.
            if k != 0 || atLeastP(r0, r1, r2, r3) { return addC(r0, r1, r2, r3) }
            return FieldElement(l0: r0, l1: r1, l2: r2, l3: r3)
        }

        /// `self` raised to a 256-bit exponent given as 32 big-endian bytes.
        func power(_ exponent: [UInt8]) -> FieldElement {
            var result = FieldElement.one
            for byte in exponent {
                for bit in stride(from: 7, through: 0, by: -1) {
                    result = result.squared
                    if (byte >> UInt8(bit)) & 1 == 1 { result = result * self }
                }
            }
            return result
        }

        /// The multiplicative inverse (zero for zero), by Fermat: self^(p−2).
        var inverse: FieldElement { power(Self.pMinus2) }

        /// A square root, if there is one: p ≡ 3 (mod 4), so it is self^((p+1)/4).
        var squareRoot: FieldElement? {
            let root = power(Self.pPlus1Over4)
            return root.squared == self ? root : nil
        }

        static let pMinus2 = Limbs.write((0xFFFF_FFFE_FFFF_FC2D, .max, .max, .max))
        static let pPlus1Over4 = Limbs.write((0xFFFF_FFFF_BFFF_FF0C, .max, .max, 0x3FFF_FFFF_FFFF_FFFF))
    }
}

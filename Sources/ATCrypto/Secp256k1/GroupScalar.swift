extension Secp256k1 {
    /// An integer modulo the group order n, as four little-endian 64-bit
    /// limbs, fully reduced. Products go through Montgomery multiplication;
    /// a verification needs only a few hundred of them (one inversion).
    struct GroupScalar: Equatable {
        var l0, l1, l2, l3: UInt64

        static let n = GroupScalar(l0: 0xBFD2_5E8C_D036_4141, l1: 0xBAAE_DCE6_AF48_A03B, l2: 0xFFFF_FFFF_FFFF_FFFE, l3: .max)
        /// −n⁻¹ mod 2⁶⁴, for Montgomery reduction.
        static let nPrime: UInt64 = 0x4B0D_FF66_5588_B13F
        /// R² mod n with R = 2²⁵⁶: converts into the Montgomery domain.
        static let r2 = GroupScalar(l0: 0x896C_F214_67D7_D140, l1: 0x7414_96C2_0E7C_F878, l2: 0xE697_F5E4_5BCD_07C6, l3: 0x9D67_1CD5_81C6_9BC5)
        static let zero = GroupScalar(l0: 0, l1: 0, l2: 0, l3: 0)
        static let one = GroupScalar(l0: 1, l1: 0, l2: 0, l3: 0)

        init(l0: UInt64, l1: UInt64, l2: UInt64, l3: UInt64) {
            self.l0 = l0
            self.l1 = l1
            self.l2 = l2
            self.l3 = l3
        }

        init(_ l: Limbs.Word4) { self.init(l0: l.0, l1: l.1, l2: l.2, l3: l.3) }

        /// A scalar from 32 big-endian bytes, reduced modulo n (a SHA-256
        /// digest may exceed n; at most one subtraction is needed).
        init(reducing bytes: some Sequence<UInt8>) {
            self.init(Limbs.read(bytes))
            if !Limbs.less(limbs, Self.n.limbs) { self = Self.subtract(self, Self.n) }
        }

        /// A scalar from 32 big-endian bytes; nil unless less than n.
        init?(exactly bytes: some Collection<UInt8>) {
            guard bytes.count == 32 else { return nil }
            let l = Limbs.read(bytes)
            guard Limbs.less(l, Self.n.limbs) else { return nil }
            self.init(l)
        }

        var limbs: Limbs.Word4 { (l0, l1, l2, l3) }
        var isZero: Bool { (l0 | l1 | l2 | l3) == 0 }
        var bytes: [UInt8] { Limbs.write(limbs) }

        /// Whether the value is above n / 2, that is, "negative".
        var isHigh: Bool { Limbs.less(Self.halfN.limbs, limbs) }
        static let halfN = GroupScalar(l0: 0xDFE9_2F46_681B_20A0, l1: 0x5D57_6E73_57A4_501D, l2: .max, l3: 0x7FFF_FFFF_FFFF_FFFF)

        /// `a - b` for a ≥ b as plain 256-bit numbers.
        static func subtract(_ a: GroupScalar, _ b: GroupScalar) -> GroupScalar {
            GroupScalar(Limbs.subtract(a.limbs, b.limbs).0)
        }

        static func + (a: GroupScalar, b: GroupScalar) -> GroupScalar {
            let (r, k) = Limbs.add(a.limbs, b.limbs)
            let sum = GroupScalar(r)
            // With a carry, the wrapped difference is the right residue.
            return k != 0 || !Limbs.less(sum.limbs, n.limbs) ? subtract(sum, n) : sum
        }

        static prefix func - (a: GroupScalar) -> GroupScalar { a.isZero ? a : subtract(n, a) }

        /// `a · b · R⁻¹ mod n`: the full product, then Montgomery reduction
        /// one limb at a time, each round's carry entering the next.
        static func montgomery(_ a: GroupScalar, _ b: GroupScalar) -> GroupScalar {
            let t = Limbs.multiply(a.limbs, b.limbs)
            var (t1, t2, t3, t4, t5, t6, t7) = (t.1, t.2, t.3, t.4, t.5, t.6, t.7)
            var carry: UInt64 = 0
            round(t.0, &t1, &t2, &t3, &t4, &carry)
            round(t1, &t2, &t3, &t4, &t5, &carry)
            round(t2, &t3, &t4, &t5, &t6, &carry)
            round(t3, &t4, &t5, &t6, &t7, &carry)
            let r = GroupScalar((t4, t5, t6, t7))
            return carry != 0 || !Limbs.less(r.limbs, n.limbs) ? subtract(r, n) : r
        }

        /// Adds m · n to the window (x0, x1, x2, x3, x4) so that x0 becomes
        /// zero, with m = x0 · n′; `carry` comes from the round before and
        /// leaves for the next one.
        @inline(__always)
        private static func round(
            _ x0: UInt64, _ x1: inout UInt64, _ x2: inout UInt64, _ x3: inout UInt64, _ x4: inout UInt64, _ carry: inout UInt64
        ) {
            let m = x0 &* nPrime
            var k: UInt64
            (_, k) = Limbs.mac(m, n.l0, x0, 0)
            (x1, k) = Limbs.mac(m, n.l1, x1, k)
            (x2, k) = Limbs.mac(m, n.l2, x2, k)
            (x3, k) = Limbs.mac(m, n.l3, x3, k)
            (x4, carry) = Limbs.adc(x4, k, carry)
        }

        /// `a · b mod n`.
        static func * (a: GroupScalar, b: GroupScalar) -> GroupScalar {
            montgomery(montgomery(a, b), r2)
        }

        /// The inverse modulo n (zero for zero), by Fermat: self^(n−2),
        /// computed in the Montgomery domain with a 4-bit window.
        var inverse: GroupScalar {
            let base = Self.montgomery(self, Self.r2)
            var table = [Self.montgomery(Self.one, Self.r2)]
            for i in 1..<16 { table.append(Self.montgomery(table[i - 1], base)) }
            var result = table[0]
            func step(_ nibble: UInt8) {
                for _ in 0..<4 { result = Self.montgomery(result, result) }
                if nibble != 0 { result = Self.montgomery(result, table[Int(nibble)]) }
            }
            for byte in Self.nMinus2 {
                step(byte >> 4)
                step(byte & 0xF)
            }
            return Self.montgomery(result, Self.one)
        }

        static let nMinus2 = Limbs.write((0xBFD2_5E8C_D036_413F, 0xBAAE_DCE6_AF48_A03B, 0xFFFF_FFFF_FFFF_FFFE, .max))

        /// The low and high 128 bits, each as a scalar.
        var halves: (low: GroupScalar, high: GroupScalar) {
            (GroupScalar(l0: l0, l1: l1, l2: 0, l3: 0), GroupScalar(l0: l2, l1: l3, l2: 0, l3: 0))
        }
    }
}

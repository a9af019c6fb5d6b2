extension Secp256k1 {
    /// The GLV endomorphism: λ·(x, y) = (β·x, y), where β and λ are cube
    /// roots of unity modulo p and n. It splits a 256-bit scalar k into
    /// k₁ + k₂·λ with k₁ and k₂ of about 128 bits, which halves the doublings.
    /// The constants come from the reduced lattice basis of (n, λ)
    /// (extended Euclid, "Guide to Elliptic Curve Cryptography", 3.74).
    enum Endomorphism {
        static let beta = FieldElement(bytes: Limbs.write(
            (0xC139_6C28_7195_01EE, 0x9CF0_4975_12F5_8995, 0x6E64_479E_AC34_34E9, 0x7AE9_6A2B_657C_0710)
        ))!
        static let lambda = GroupScalar(l0: 0xDF02_967C_1B23_BD72, l1: 0x122E_22EA_2081_6678, l2: 0xA526_1C02_8812_645A, l3: 0x5363_AD4C_C05C_30E0)
        /// −b₁ and −b₂ modulo n, for the basis vectors (a₁, b₁) and (a₂, b₂).
        static let minusB1 = GroupScalar(l0: 0x6F54_7FA9_0ABF_E4C3, l1: 0xE443_7ED6_010E_8828, l2: 0, l3: 0)
        static let minusB2 = -GroupScalar(l0: 0xE86C_90E4_9284_EB15, l1: 0x3086_D221_A7D4_6BCD, l2: 0, l3: 0)
        /// round(2³⁸⁴ · b₂ / n) and round(2³⁸⁴ · (−b₁) / n).
        static let g1: Limbs.Word4 = (0xE893_209A_45DB_B031, 0x3DAA_8A14_71E8_CA7F, 0xE86C_90E4_9284_EB15, 0x3086_D221_A7D4_6BCD)
        static let g2: Limbs.Word4 = (0x1571_B4AE_8AC4_7F71, 0x2212_08AC_9DF5_06C6, 0x6F54_7FA9_0ABF_E4C4, 0xE443_7ED6_010E_8828)

        /// λ·p.
        static func apply(_ p: AffinePoint) -> AffinePoint { AffinePoint(x: p.x * beta, y: p.y) }

        /// k = k₁ + k₂·λ (mod n), each part as a sign and a magnitude.
        static func split(_ k: GroupScalar) -> (SignedScalar, SignedScalar) {
            let c1 = roundedShift384(Limbs.multiply(k.limbs, g1))
            let c2 = roundedShift384(Limbs.multiply(k.limbs, g2))
            let k2 = c1 * minusB1 + c2 * minusB2
            let k1 = k + -(k2 * lambda)
            return (SignedScalar(k1), SignedScalar(k2))
        }

        /// ⌊t / 2³⁸⁴⌉ of a 512-bit number: at most 128 bits.
        private static func roundedShift384(_ t: Limbs.Word8) -> GroupScalar {
            let (low, carry) = Limbs.adc(t.6, t.5 >> 63, 0)
            let (high, _) = Limbs.adc(t.7, 0, carry)
            return GroupScalar(l0: low, l1: high, l2: 0, l3: 0)
        }
    }

    /// A scalar taken as a signed number in (−n/2, n/2]: a magnitude and
    /// whether the point it multiplies must be negated.
    struct SignedScalar {
        let magnitude: GroupScalar
        let negative: Bool

        init(_ k: GroupScalar) {
            negative = k.isHigh
            magnitude = negative ? -k : k
        }
    }
}

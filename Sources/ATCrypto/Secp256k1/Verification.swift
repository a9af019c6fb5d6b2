extension Secp256k1 {
    /// Width of the signed-window (wNAF) digits over the generator's tables.
    static let generatorWindow = 10
    /// Width of the signed-window digits over a public key's table.
    static let keyWindow = 6

    /// Odd multiples 1·P, 3·P, …, (2^(w−1) − 1)·P of a point, in affine form.
    static func oddMultiples(of p: AffinePoint, window: Int) -> [AffinePoint] {
        let twice = JacobianPoint(p).doubled
        var points = [JacobianPoint(p)]
        for _ in 1..<(1 << (window - 2)) { points.append(points[points.count - 1].adding(twice)) }
        return JacobianPoint.normalize(points)
    }

    /// The generator's tables, built on first use: odd multiples of G and of
    /// 2¹²⁸·G, so that a 256-bit u₁ is two 128-bit halves.
    static let generatorTables: (low: [AffinePoint], high: [AffinePoint]) = {
        var h = JacobianPoint(AffinePoint.generator)
        for _ in 0..<128 { h = h.doubled }
        let high = JacobianPoint.normalize([h])[0]
        return (oddMultiples(of: .generator, window: generatorWindow), oddMultiples(of: high, window: generatorWindow))
    }()

    /// A public key made ready for verification: the odd multiples of Q and
    /// of λ·Q, computed once per key.
    struct VerificationKey: Sendable {
        let multiples: [AffinePoint]
        let lambdaMultiples: [AffinePoint]

        init(_ point: AffinePoint) {
            multiples = Secp256k1.oddMultiples(of: point, window: Secp256k1.keyWindow)
            lambdaMultiples = multiples.map(Endomorphism.apply)
        }
    }

    /// ECDSA verification: R = (e·s⁻¹)·G + (r·s⁻¹)·Q must not be the point
    /// at infinity, and its x coordinate modulo n must equal r. The caller
    /// has checked that r and s are in 1..<n.
    static func verify(digest: some Sequence<UInt8>, r: GroupScalar, s: GroupScalar, key: VerificationKey) -> Bool {
        let w = s.inverse
        let u1 = GroupScalar(reducing: digest) * w
        let u2 = r * w
        let (k1, k2) = Endomorphism.split(u2)
        let (g1, g2) = u1.halves
        let tables = generatorTables
        let terms = [
            Term(digits: NAF(k1.magnitude, window: keyWindow), table: key.multiples, negate: k1.negative),
            Term(digits: NAF(k2.magnitude, window: keyWindow), table: key.lambdaMultiples, negate: k2.negative),
            Term(digits: NAF(g1, window: generatorWindow), table: tables.low, negate: false),
            Term(digits: NAF(g2, window: generatorWindow), table: tables.high, negate: false),
        ]
        let point = multiplyAndAdd(terms)
        guard !point.isInfinity else { return false }
        // x = X / Z²; compare X with r·Z² rather than invert. x is below p,
        // so x mod n = r also when x = r + n (possible while r + n < p).
        let zz = point.z.squared
        let rField = FieldElement(r.limbs)
        if point.x == rField * zz { return true }
        guard Limbs.less(r.limbs, pMinusN) else { return false }
        return point.x == (rField + FieldElement(GroupScalar.n.limbs)) * zz
    }

    /// p − n: r + n is a field element only for r below it.
    static let pMinusN: Limbs.Word4 = (0x402D_A172_2FC9_BAEE, 0x4551_2319_50B7_5FC4, 1, 0)

    /// One k·P of a sum: k's signed digits and P's odd multiples.
    struct Term {
        let digits: NAF
        let table: [AffinePoint]
        let negate: Bool
    }

    /// Σ kᵢ·Pᵢ with shared doublings (Straus–Shamir).
    static func multiplyAndAdd(_ terms: [Term]) -> JacobianPoint {
        let length = terms.map(\.digits.count).max() ?? 0
        var result = JacobianPoint.infinity
        for i in stride(from: length - 1, through: 0, by: -1) {
            result = result.doubled
            for term in terms where i < term.digits.count {
                let digit = term.digits.values[i]
                guard digit != 0 else { continue }
                let point = term.table[Int(digit.magnitude) >> 1]
                result = result.adding((digit < 0) != term.negate ? point.negated : point)
            }
        }
        return result
    }

    /// The width-w non-adjacent form of a non-negative number: odd digits in
    /// (−2^(w−1), 2^(w−1)), least significant first, each non-zero digit
    /// followed by at least w − 1 zeros.
    struct NAF {
        private(set) var values: [Int16]
        var count: Int { values.count }

        init(_ k: GroupScalar, window: Int) {
            let limbs = [k.l0, k.l1, k.l2, k.l3]
            let bitLength = limbs.indices.reversed().first { limbs[$0] != 0 }.map { $0 * 64 + 64 - limbs[$0].leadingZeroBitCount } ?? 0
            func bits(_ at: Int, _ count: Int) -> Int {
                guard at < 256 else { return 0 }
                var word = limbs[at / 64] >> UInt64(at % 64)
                if at % 64 + count > 64, at / 64 + 1 < 4 { word |= limbs[at / 64 + 1] << UInt64(64 - at % 64) }
                return Int(word & ((1 << UInt64(count)) - 1))
            }
            values = [Int16](repeating: 0, count: bitLength + window)
            var carry = 0
            var i = 0
            while i < bitLength || carry != 0 {
                if bits(i, 1) == carry {
                    i += 1
                    continue
                }
                var word = bits(i, window) + carry
                carry = (word >> (window - 1)) & 1
                word -= carry << window
                values[i] = Int16(word)
                i += window
            }
            while values.last == 0 { values.removeLast() }
        }
    }
}

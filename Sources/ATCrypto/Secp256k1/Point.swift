extension Secp256k1 {
    /// A point on y² = x³ + 7 in affine coordinates (never the point at infinity).
    struct AffinePoint: Equatable {
        var x, y: FieldElement

        static let generator = AffinePoint(
            x: FieldElement(bytes: Limbs.write((0x59F2_815B_16F8_1798, 0x029B_FCDB_2DCE_28D9, 0x55A0_6295_CE87_0B07, 0x79BE_667E_F9DC_BBAC)))!,
            y: FieldElement(bytes: Limbs.write((0x9C47_D08F_FB10_D4B8, 0xFD17_B448_A685_5419, 0x5DA4_FBFC_0E11_08A8, 0x483A_DA77_26A3_C465)))!
        )

        /// A point from a SEC1 encoding: compressed (33 bytes, 02/03) or
        /// uncompressed (65 bytes, 04). Nil unless it is on the curve.
        init?(sec1 bytes: [UInt8]) {
            switch (bytes.count, bytes.first) {
            case (33, 0x02), (33, 0x03):
                guard let x = FieldElement(bytes: bytes[1...]),
                      var y = (x.squared * x + .seven).squareRoot
                else { return nil }
                if y.isOdd != (bytes[0] == 0x03) { y = -y }
                self.init(x: x, y: y)
            case (65, 0x04):
                guard let x = FieldElement(bytes: bytes[1..<33]), let y = FieldElement(bytes: bytes[33...]),
                      y.squared == x.squared * x + .seven
                else { return nil }
                self.init(x: x, y: y)
            default:
                return nil
            }
        }

        init(x: FieldElement, y: FieldElement) {
            self.x = x
            self.y = y
        }

        /// The compressed SEC1 encoding.
        var compressed: [UInt8] { [y.isOdd ? 0x03 : 0x02] + x.bytes }

        var negated: AffinePoint { AffinePoint(x: x, y: -y) }
    }

    /// A point in Jacobian coordinates (x/z², y/z³); z = 0 is the point at infinity.
    struct JacobianPoint {
        var x, y, z: FieldElement

        static let infinity = JacobianPoint(x: .one, y: .one, z: .zero)

        init(x: FieldElement, y: FieldElement, z: FieldElement) {
            self.x = x
            self.y = y
            self.z = z
        }

        init(_ p: AffinePoint) { self.init(x: p.x, y: p.y, z: .one) }

        var isInfinity: Bool { z.isZero }

        /// 2·self (dbl-2009-l, for a = 0: 2M + 5S).
        var doubled: JacobianPoint {
            let a = x.squared, b = y.squared, c = b.squared
            let d = ((x + b).squared - a - c).times(2)
            let e = a.times(3)
            let x3 = e.squared - d.times(2)
            return JacobianPoint(x: x3, y: e * (d - x3) - c.times(8), z: (y * z).times(2))
        }

        /// self + q for an affine q (madd-2007-bl: 7M + 4S).
        func adding(_ q: AffinePoint) -> JacobianPoint {
            if isInfinity { return JacobianPoint(q) }
            let z1z1 = z.squared
            let u2 = q.x * z1z1, s2 = q.y * z * z1z1
            let h = u2 - x, r = (s2 - y).times(2)
            if h.isZero { return r.isZero ? doubled : .infinity }
            let hh = h.squared, i = hh.times(4), j = h * i, v = x * i
            let x3 = r.squared - j - v.times(2)
            return JacobianPoint(x: x3, y: r * (v - x3) - (y * j).times(2), z: (z + h).squared - z1z1 - hh)
        }

        /// self + q (add-2007-bl: 11M + 5S).
        func adding(_ q: JacobianPoint) -> JacobianPoint {
            if isInfinity { return q }
            if q.isInfinity { return self }
            let z1z1 = z.squared, z2z2 = q.z.squared
            let u1 = x * z2z2, u2 = q.x * z1z1
            let s1 = y * q.z * z2z2, s2 = q.y * z * z1z1
            let h = u2 - u1, r = (s2 - s1).times(2)
            if h.isZero { return r.isZero ? doubled : .infinity }
            let i = h.times(2).squared, j = h * i, v = u1 * i
            let x3 = r.squared - j - v.times(2)
            return JacobianPoint(
                x: x3, y: r * (v - x3) - (s1 * j).times(2), z: ((z + q.z).squared - z1z1 - z2z2) * h
            )
        }

        /// Affine forms of many points with one field inversion (Montgomery's
        /// trick); none of them may be the point at infinity.
        static func normalize(_ points: [JacobianPoint]) -> [AffinePoint] {
            guard !points.isEmpty else { return [] }
            var prefix = [FieldElement]()
            prefix.reserveCapacity(points.count)
            var running = FieldElement.one
            for p in points {
                running = running * p.z
                prefix.append(running)
            }
            var inverse = running.inverse
            var out = [AffinePoint](repeating: AffinePoint(x: .zero, y: .zero), count: points.count)
            for i in stride(from: points.count - 1, through: 0, by: -1) {
                let zInverse = i == 0 ? inverse : inverse * prefix[i - 1]
                inverse = inverse * points[i].z
                let zz = zInverse.squared
                out[i] = AffinePoint(x: points[i].x * zz, y: points[i].y * zz * zInverse)
            }
            return out
        }
    }
}

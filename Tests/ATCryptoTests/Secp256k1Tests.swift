@testable import ATCrypto
import Testing
import OpenSSLOracle
import TestSupport

/// The native secp256k1 verifier: its arithmetic against values computed
/// independently (Python integers), and its verdicts against libsecp256k1's
/// (the keys' `verify`) and OpenSSL's.
@Suite("secp256k1 (native verification)")
struct Secp256k1Tests {
    typealias F = Secp256k1.FieldElement
    typealias S = Secp256k1.GroupScalar

    /// (a, b, a·b, a+b, a−b) mod p, from Python.
    static let fieldVectors: [(String, String, String, String, String)] = [
        ("fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2e", "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2d", "0000000000000000000000000000000000000000000000000000000000000002", "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2c", "0000000000000000000000000000000000000000000000000000000000000001"),
        ("fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2d", "8000000000000000000000000000000000000000000000000000000000000000", "fffffffffffffffffffffffffffffffffffffffffffffffffffffffdfffff85e", "7ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe", "7ffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2d"),
        ("fffffffffffffefffffffffffffffffffffffffffffffffffffffffefffffc2e", "d23f0824128b2f330c5c7fd0a6a3a4506513270e269e0d37f2a74de452e6b438", "867312b6c7b55257da62a25dcdbab8dbf37d3c96402412e3573e78c67ca6c194", "d23f0824128b2e330c5c7fd0a6a3a4506513270e269e0d37f2a74de452e6b437", "2dc0f7dbed74cfccf3a3802f595c5baf9aecd8f1d961f2c80d58b21aad1947f6"),
        ("0000000000000000000000000000000000000000000000000000000000000001", "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2e", "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2e", "0000000000000000000000000000000000000000000000000000000000000000", "0000000000000000000000000000000000000000000000000000000000000002"),
        ("8000000000000000000000000000000000000000000000000000000000000000", "0000000000000000000000000000000000000000000000000000000000000001", "8000000000000000000000000000000000000000000000000000000000000000", "8000000000000000000000000000000000000000000000000000000000000001", "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
        ("000000000000000000000000000000000000000000000000ffffffffffffffff", "0000000000000000000000000000000100000000000000000000000000003039", "0000000000000000ffffffffffffffff0000000000003038ffffffffffffcfc7", "0000000000000000000000000000000100000000000000010000000000003038", "ffffffffffffffffffffffffffffffff0000000000000000fffffffeffffcbf5"),
        ("0000000000000000000000000000000100000000000000000000000000003039", "8d116ece1738f7d93d9c172411e20b8f6b0d549b6f03675a1600a35a099950d8", "18b5a4d9492b524612188dbcf42a38c1cc95d3cc3928e267375bb7a3225f07da", "8d116ece1738f7d93d9c172411e20b906b0d549b6f03675a1600a35a09998111", "72ee9131e8c70826c263e8dbee1df47194f2ab6490fc98a5e9ff5ca4f666db90"),
        ("d23f0824128b2f330c5c7fd0a6a3a4506513270e269e0d37f2a74de452e6b438", "fffffffffffffefffffffffffffffffffffffffffffffffffffffffefffffc2e", "867312b6c7b55257da62a25dcdbab8dbf37d3c96402412e3573e78c67ca6c194", "d23f0824128b2e330c5c7fd0a6a3a4506513270e269e0d37f2a74de452e6b437", "d23f0824128b30330c5c7fd0a6a3a4506513270e269e0d37f2a74de452e6b439"),
        ("36f675cc81e74ef5e8e25d940ed904759531985d5d9dc9f81818e811892f902b", "000000000000000000000000000000000000000000000000ffffffffffffffff", "b1ebe7c78cf1b57fac4f3ac94ec4c58282e74fb462883cd12c65f85f3a94c4da", "36f675cc81e74ef5e8e25d940ed904759531985d5d9dc9f91818e811892f902a", "36f675cc81e74ef5e8e25d940ed904759531985d5d9dc9f71818e811892f902c"),
        ("8d116ece1738f7d93d9c172411e20b8f6b0d549b6f03675a1600a35a099950d8", "36f675cc81e74ef5e8e25d940ed904759531985d5d9dc9f81818e811892f902b", "acaf6802cc06019b55ace5f402272552067abea1dd4ebd43a1193560ec081c95", "c407e49a992046cf267e74b820bb1005003eecf8cca131522e198b6b92c8e103", "561af9019551a8e354b9b99003090719d5dbbc3e11659d61fde7bb488069c0ad"),
    ]

    /// (a, b, a·b, a⁻¹) mod n, from Python.
    static let scalarVectors: [(String, String, String, String)] = [
        ("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140", "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd036413f", "0000000000000000000000000000000000000000000000000000000000000002", "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140"),
        ("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd036413f", "0000000000000000000000000000000000000000000000000000000000000001", "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd036413f", "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0"),
        ("8000000000000000000000000000000000000000000000000000000000000000", "a170b33839263059f28c105d1fb17c2390c192cfd3ac94af0f21ddb66cad4a26", "0bc7ec94a911e48168bef0185af9764627411e1c1709c367eb667b305070b8f0", "b3d1121ac929df2712fe61824f9f56bbbcc8cbc65001783d4227e69a30f93eeb"),
        ("0000000000000000000000000000000000000000000000000000000000000001", "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140", "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140", "0000000000000000000000000000000000000000000000000000000000000001"),
        ("0000000000000100000000000000000000000000000000000000000000000007", "8000000000000000000000000000000000000000000000000000000000000000", "96d0b997e4df604eb38e6ac0e34de2f6fef024b07f178d1c7163c5feec8ab21d", "4f15e3a0aa457763c78e8c11b93d9fce308fe1b0987d8c9936b319079cc194f6"),
        ("a170b33839263059f28c105d1fb17c2390c192cfd3ac94af0f21ddb66cad4a26", "0000000000000100000000000000000000000000000000000000000000000007", "9557bddfc6f1728d31ad9bde01a367cf51762f54feece58a224f3d3794f1d1e8", "61c061b53ba0ffbe7bba40ba83b0174f97abe250725ec5b7907f0728ff73aeea"),
        ("0cb1e29c658cda1495e60af593bd04cf0fd630f1f29d0da9953f48f1a09f76b5", "0cb1e29c658cda1495e60af593bd04cf0fd630f1f29d0da9953f48f1a09f76b5", "c017dd2d5dbe26aec58c53ee94e5d6ccd19d5ac21fae8031a9d5292aadeab9ce", "c69563f18535f0d0377e4356e9207b2096b2bac96254ac9f74ab330f789e0973"),
    ]

    @Test func fieldArithmeticMatchesIndependentValues() throws {
        for (a, b, product, sum, difference) in Self.fieldVectors {
            let x = try #require(F(bytes: hexBytes(a))), y = try #require(F(bytes: hexBytes(b)))
            #expect((x * y).bytes == hexBytes(product), "\(a) · \(b)")
            #expect((y * x).bytes == hexBytes(product))
            #expect((x + y).bytes == hexBytes(sum), "\(a) + \(b)")
            #expect((x - y).bytes == hexBytes(difference), "\(a) − \(b)")
            #expect(x.squared == x * x)
            #expect(x.times(8) == x * F(l0: 8, l1: 0, l2: 0, l3: 0))
            if !x.isZero { #expect(x * x.inverse == .one) }
            #expect(x + -x == .zero)
        }
        // Values of p and above are not field elements.
        #expect(F(bytes: hexBytes("fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f")) == nil)
    }

    @Test func squareRootsExistExactlyForSquares() throws {
        for (a, _, _, _, _) in Self.fieldVectors {
            let x = try #require(F(bytes: hexBytes(a)))
            let root = try #require(x.squared.squareRoot)
            #expect(root == x || root == -x)
        }
        // −1 is not a square modulo p (p ≡ 3 mod 4).
        #expect((-F.one).squareRoot == nil)
    }

    @Test func scalarArithmeticMatchesIndependentValues() throws {
        for (a, b, product, inverse) in Self.scalarVectors {
            let x = try #require(S(exactly: hexBytes(a))), y = try #require(S(exactly: hexBytes(b)))
            #expect((x * y).bytes == hexBytes(product), "\(a) · \(b)")
            #expect(x.inverse.bytes == hexBytes(inverse), "\(a)⁻¹")
            #expect(x + -x == .zero)
        }
        #expect(S(exactly: HighS.k256Order) == nil)
        // A digest at or above n is reduced.
        #expect(S(reducing: HighS.k256Order) == .zero)
    }

    @Test func endomorphismSplitsRecombineToTheScalar() throws {
        var rng = SystemRandomNumberGenerator()
        let lambda = Secp256k1.Endomorphism.lambda
        for _ in 0..<500 {
            let k = S(reducing: (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
            let (k1, k2) = Secp256k1.Endomorphism.split(k)
            #expect(k1.magnitude.l2 == 0 && k1.magnitude.l3 == 0 && k2.magnitude.l2 == 0 && k2.magnitude.l3 == 0)
            let v1 = k1.negative ? -k1.magnitude : k1.magnitude, v2 = k2.negative ? -k2.magnitude : k2.magnitude
            #expect(v1 + v2 * lambda == k)
        }
        // λ·G computed with the endomorphism is β·x: λ³ = 1 and β³ = 1.
        #expect(lambda * lambda * lambda == .one)
        let beta = Secp256k1.Endomorphism.beta
        #expect(beta * beta * beta == .one)
        let lambdaG = multiply(lambda, .generator)
        #expect(lambdaG == Secp256k1.Endomorphism.apply(.generator))
    }

    @Test func nonAdjacentFormsSumToTheirNumber() {
        var rng = SystemRandomNumberGenerator()
        for window in [2, 5, 6, 10] {
            for _ in 0..<200 {
                let k = S(l0: rng.next(), l1: rng.next(), l2: rng.next() >> 1, l3: 0)
                let naf = Secp256k1.NAF(k, window: window)
                var sum = S.zero, power = S.one
                var lastNonZero = -window
                for (i, digit) in naf.values.enumerated() {
                    if digit != 0 {
                        #expect(digit % 2 != 0 && Int(digit.magnitude) < 1 << (window - 1))
                        #expect(i - lastNonZero >= window)
                        lastNonZero = i
                        let magnitude = S(l0: UInt64(digit.magnitude), l1: 0, l2: 0, l3: 0)
                        sum = sum + (digit < 0 ? -(magnitude * power) : magnitude * power)
                    }
                    power = power + power
                }
                #expect(sum == k)
            }
        }
    }

    @Test func publicKeysParseLikeOpenSSL() async throws {
        for _ in 0..<20 {
            await Task.yield()
            let key = try Keys.generate(.k256)
            let point = try #require(Secp256k1.AffinePoint(sec1: key.publicKey.compressedBytes))
            #expect(point.compressed == key.publicKey.compressedBytes)
            let uncompressed = [0x04] + point.x.bytes + point.y.bytes
            #expect(try K256PublicKey(bytes: uncompressed).compressedBytes == key.publicKey.compressedBytes)
            var offCurve = uncompressed
            offCurve[64] ^= 1
            #expect(throws: CryptoError.self) { try K256PublicKey(bytes: offCurve) }
            var hybrid = uncompressed
            hybrid[0] = 0x06
            #expect(throws: CryptoError.self) { try K256PublicKey(bytes: hybrid) }
        }
        // x = 5 gives x³ + 7 = 132, not a square modulo p: no point.
        #expect(throws: CryptoError.self) { try K256PublicKey(bytes: [0x02] + [UInt8](repeating: 0, count: 31) + [5]) }
        // x = p is out of range.
        #expect(throws: CryptoError.self) {
            try K256PublicKey(bytes: [0x02] + hexBytes("fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f"))
        }
    }

    /// Long-running in a debug build, so it yields between signatures: the
    /// cooperative threads are shared with the suites that keep time.
    @Test func verdictsAgreeAcrossThreeImplementations() async throws {
        var rng = SystemRandomNumberGenerator()
        var accepted = 0, rejected = 0
        // Small keys (1, 2, n − 1: Q = G, 2G, −G) make the sums hit the
        // doubling and cancelling branches of point addition.
        var keys: [any PrivateKey] = try [1, 2].map { try K256PrivateKey(rawBytes: [UInt8](repeating: 0, count: 31) + [$0]) }
        keys.append(try K256PrivateKey(rawBytes: hexBytes("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140")))
        for _ in 0..<12 { keys.append(try Keys.generate(.k256)) }
        for key in keys {
            let publicKey = try #require(key.publicKey as? K256PublicKey)
            let native = try publicKey.nativeVerifier
            for _ in 0..<8 {
                await Task.yield()
                let message = (0..<Int.random(in: 0...100, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let signature = try key.sign(message)
                #expect(publicKey.isValidSignature(signature, for: message))
                try native.verify(signature: signature, for: message)
                #expect(OpenSSLK256.verify(publicKey: publicKey.compressedBytes, signature: signature, message: message))
                accepted += 1
                // A flipped bit anywhere in the message or signature: both refuse.
                var badMessage = message + [0]
                badMessage[Int.random(in: 0..<badMessage.count, using: &rng)] ^= 1 << UInt8.random(in: 0...7, using: &rng)
                var badSignature = signature
                badSignature[Int.random(in: 0..<64, using: &rng)] ^= 1 << UInt8.random(in: 0...7, using: &rng)
                for (sig, msg) in [(signature, badMessage), (badSignature, message)] {
                    let libsecp256k1 = publicKey.isValidSignature(sig, for: msg)
                    let swift = (try? native.verify(signature: sig, for: msg)) != nil
                    let openSSL = OpenSSLK256.verify(publicKey: publicKey.compressedBytes, signature: sig, message: msg)
                    #expect(!libsecp256k1 && !swift && !openSSL)
                    rejected += 1
                }
            }
        }
        #expect(accepted == 120 && rejected == 240)
    }

    @Test func signaturesMadeNativelyCoverDigestEdgeCases() throws {
        var rng = SystemRandomNumberGenerator()
        let d = S(reducing: (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
        let key = Secp256k1.VerificationKey(multiply(d, .generator))
        // Digests of zero (u₁ = 0), n (reduced to zero), n + 5 and all ones.
        let digests = [[UInt8](repeating: 0, count: 32), HighS.k256Order, add(HighS.k256Order, 5), [UInt8](repeating: 0xFF, count: 32)]
        for digest in digests {
            let e = S(reducing: digest)
            let k = S(reducing: (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
            let big = multiply(k, .generator)
            let r = S(reducing: big.x.bytes)
            let s = k.inverse * (e + r * d)
            #expect(Secp256k1.verify(digest: digest, r: r, s: s, key: key))
            #expect(!Secp256k1.verify(digest: digest, r: r, s: s + .one, key: key))
        }
        // e = −r·d makes u₁·G + u₂·Q the point at infinity: refused.
        let r = S(reducing: (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
        let s = S(reducing: (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
        #expect(!Secp256k1.verify(digest: (-(r * d)).bytes, r: r, s: s, key: key))
    }

    /// k·P through the verifier's own sum, for building test signatures.
    private func multiply(_ k: S, _ p: Secp256k1.AffinePoint) -> Secp256k1.AffinePoint {
        let term = Secp256k1.Term(digits: Secp256k1.NAF(k, window: 5), table: Secp256k1.oddMultiples(of: p, window: 5), negate: false)
        return Secp256k1.JacobianPoint.normalize([Secp256k1.multiplyAndAdd([term])])[0]
    }

    private func add(_ bytes: [UInt8], _ small: UInt8) -> [UInt8] {
        var out = bytes
        var carry = Int(small)
        for i in stride(from: 31, through: 0, by: -1) where carry != 0 {
            let sum = Int(out[i]) + carry
            out[i] = UInt8(sum & 0xFF)
            carry = sum >> 8
        }
        return out
    }
}

import ATCrypto
import Foundation
import OpenSSLOracle
import Testing
import TestSupport

/// Project Wycheproof's ECDSA vectors (SHA-256) against the library's strict
/// atproto verification: a signature is accepted exactly when Wycheproof
/// calls it valid and its `s` is low. K-256 runs through libsecp256k1 (the
/// keys' `verify`) and the native verifier; P-256 through swift-crypto.
@Suite("Wycheproof ECDSA vectors")
struct WycheproofTests {
    struct File: Decodable {
        let numberOfTests: Int
        let testGroups: [Group]
    }

    struct Group: Decodable {
        let publicKey: Key
        let tests: [Vector]
    }

    struct Key: Decodable {
        let uncompressed: String
    }

    struct Vector: Decodable {
        let tcId: Int
        let comment: String
        let flags: [String]
        let msg: String
        let sig: String
        let result: String
    }

    /// Tallies of one file's run, for the counts the test checks.
    struct Tally {
        var accepted = 0, refused = 0, validHighS = 0, badKeys = 0
    }

    /// The IEEE P1363 (`r || s`) vectors: the atproto form. Wycheproof's
    /// valid high-S signatures must be refused, and their low-S twins accepted.
    @Test(arguments: [("ecdsa_secp256k1_sha256_p1363_test.json", Curve.k256), ("ecdsa_secp256r1_sha256_p1363_test.json", Curve.p256)])
    func p1363Vectors(_ name: String, _ curve: Curve) throws {
        let file = try Fixtures.rows(File.self, "wycheproof/" + name)
        let order = curve == .k256 ? HighS.k256Order : HighS.p256Order
        var tally = Tally(), total = 0
        for group in file.testGroups {
            let key: any PublicKey
            do {
                key = try Keys.publicKey(curve, bytes: hexBytes(group.publicKey.uncompressed))
            } catch {
                // Every group's key is a valid point; a refusal would skip its vectors.
                Issue.record("key \(group.publicKey.uncompressed) refused: \(error)")
                tally.badKeys += 1
                continue
            }
            for vector in group.tests {
                total += 1
                let signature = hexBytes(vector.sig), message = hexBytes(vector.msg)
                let highS = signature.count == 64 && half(order).lexicographicallyPrecedes(signature[32...])
                let expected = vector.result == "valid" && !highS
                let verdict = verdicts(key, signature, message)
                #expect(verdict.allSatisfy { $0 == expected }, "tcId \(vector.tcId) (\(vector.comment), \(vector.flags)): \(verdict), expected \(expected)")
                if expected { tally.accepted += 1 } else { tally.refused += 1 }
                if vector.result == "valid" && highS {
                    tally.validHighS += 1
                    // Malleability: the low-S twin of a valid high-S signature is valid.
                    let twin = HighS.twin(of: signature, order: order)
                    #expect(verdicts(key, twin, message).allSatisfy { $0 }, "tcId \(vector.tcId): the low-S twin")
                }
                if curve == .k256 && signature.count == 64 {
                    // OpenSSL, which ignores the low-S rule, agrees with Wycheproof itself.
                    #expect(OpenSSLK256.verify(publicKey: key.compressedBytes, signature: signature, message: message) == (vector.result == "valid"),
                            "tcId \(vector.tcId): OpenSSL")
                }
            }
        }
        #expect(total == file.numberOfTests)
        #expect(tally.badKeys == 0)
        // Both sets hold valid high-S signatures, which atproto refuses, and valid low-S ones.
        #expect(tally.validHighS > 10 && tally.accepted > 10)
    }

    /// The "bitcoin" set: DER signatures, where a high `s` is already invalid.
    /// Strict DER is unpacked here, then checked as an atproto signature.
    @Test func bitcoinVectors() throws {
        let file = try Fixtures.rows(File.self, "wycheproof/ecdsa_secp256k1_sha256_bitcoin_test.json")
        var total = 0, accepted = 0, badEncodings = 0
        for group in file.testGroups {
            let key = try K256PublicKey(bytes: hexBytes(group.publicKey.uncompressed))
            for vector in group.tests {
                total += 1
                let expected = vector.result == "valid"
                guard let signature = Self.compact(der: hexBytes(vector.sig)) else {
                    badEncodings += 1
                    #expect(!expected, "tcId \(vector.tcId) (\(vector.comment)): a valid signature's DER did not parse")
                    continue
                }
                let verdict = verdicts(key, signature, hexBytes(vector.msg))
                #expect(verdict.allSatisfy { $0 == expected }, "tcId \(vector.tcId) (\(vector.comment), \(vector.flags)): \(verdict)")
                if expected { accepted += 1 }
            }
        }
        #expect(total == file.numberOfTests)
        #expect(accepted == 162 && badEncodings > 50)
    }

    /// Deterministic (RFC 6979) and low-S: the same message signs the same
    /// way every time, and every signature's `s` is in the lower half.
    @Test func k256SignaturesAreDeterministicAndLowS() throws {
        let key = try K256PrivateKey()
        for i in 0..<200 {
            let message = Array("message \(i)".utf8)
            let signature = try key.sign(message)
            #expect(try key.sign(message) == signature)
            #expect(!half(HighS.k256Order).lexicographicallyPrecedes(signature[32...]))
        }
    }

    /// The verdicts of every implementation the library has for `key`.
    private func verdicts(_ key: any PublicKey, _ signature: [UInt8], _ message: [UInt8]) -> [Bool] {
        var verdicts = [key.isValidSignature(signature, for: message)]
        if let k256 = key as? K256PublicKey {
            verdicts.append((try? k256.verifyNatively(signature: signature, for: message)) != nil)
        }
        return verdicts
    }

    /// ⌊n / 2⌋: `s` is high when above it (both 32 bytes, big-endian).
    private func half(_ n: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32), carry = 0
        for i in 0..<32 {
            let value = carry << 8 | Int(n[i])
            out[i] = UInt8(value >> 1)
            carry = value & 1
        }
        return out
    }

    /// `r || s` from a strict DER `SEQUENCE { INTEGER r, INTEGER s }`: short
    /// lengths, minimal non-negative integers, nothing after. Nil otherwise.
    static func compact(der: [UInt8]) -> [UInt8]? {
        guard der.count >= 8, der[0] == 0x30, der[1] < 0x80, Int(der[1]) == der.count - 2 else { return nil }
        var at = 2
        var out = [UInt8]()
        for _ in 0..<2 {
            guard at + 2 <= der.count, der[at] == 0x02, der[at + 1] < 0x80 else { return nil }
            let length = Int(der[at + 1])
            at += 2
            guard length > 0, at + length <= der.count else { return nil }
            var value = Array(der[at..<at + length])
            at += length
            guard value[0] & 0x80 == 0 else { return nil }  // negative
            if value.count > 1 && value[0] == 0 {
                guard value[1] & 0x80 != 0 else { return nil }  // not minimal
                value.removeFirst()
            }
            guard value.count <= 32 else { return nil }
            out += [UInt8](repeating: 0, count: 32 - value.count) + value
        }
        return at == der.count ? out : nil
    }
}

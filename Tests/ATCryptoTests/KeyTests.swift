import ATCrypto
import ATData
import Foundation
import Testing
import TestSupport

@Suite("Keys and signatures")
struct KeyTests {
    @Test(arguments: Curve.allCases)
    func signAndVerify(_ curve: Curve) throws {
        let key = try Keys.generate(curve)
        #expect(key.rawBytes.count == 32)
        #expect(key.publicKey.compressedBytes.count == 33)
        for i in 0..<100 {
            let message = Array("message \(i)".utf8)
            let signature = try key.sign(message)
            #expect(signature.count == 64)
            try key.publicKey.verify(signature: signature, for: message)
            #expect(!key.publicKey.isValidSignature(signature, for: message + [0]))
        }
    }

    @Test(arguments: Curve.allCases)
    func keysRoundTripThroughTheirTextForms(_ curve: Curve) throws {
        let key = try Keys.generate(curve)
        let again = try Keys.privateKey(multibase: key.multibase)
        #expect(again.rawBytes == key.rawBytes)
        #expect(again.publicKey.didKey == key.publicKey.didKey)
        let fromRaw = try Keys.privateKey(curve, rawBytes: key.rawBytes)
        #expect(fromRaw.publicKey.compressedBytes == key.publicKey.compressedBytes)
        let parsed = try Keys.publicKey(didKey: key.publicKey.didKey)
        #expect(parsed.curve == curve)
        #expect(parsed.compressedBytes == key.publicKey.compressedBytes)
        #expect(key.publicKey.didKey.hasPrefix(curve == .k256 ? "did:key:zQ3s" : "did:key:zDna"))
    }

    @Test(arguments: Curve.allCases)
    func highSAndMalformedSignaturesAreRejected(_ curve: Curve) throws {
        let key = try Keys.generate(curve)
        let message = Array("hello".utf8)
        let signature = try key.sign(message)
        let high = HighS.twin(of: signature, order: curve == .k256 ? HighS.k256Order : HighS.p256Order)
        #expect(throws: CryptoError(.highS, "s is in the upper half of the curve order")) {
            try key.publicKey.verify(signature: high, for: message)
        }
        #expect(throws: CryptoError.self) { try key.publicKey.verify(signature: Array(signature.prefix(63)), for: message) }
        do {
            try key.publicKey.verify(signature: [UInt8](repeating: 0, count: 64), for: message)
            Issue.record("zero signature accepted")
        } catch {
            #expect(error.code == .invalidSignatureFormat)
        }
        var flipped = signature
        flipped[5] ^= 1
        do {
            try key.publicKey.verify(signature: flipped, for: message)
            Issue.record("flipped signature accepted")
        } catch {
            #expect(error.code == .badSignature || error.code == .highS)
        }
    }

    @Test func invalidKeysAreRejected() {
        for curve in Curve.allCases {
            #expect(throws: CryptoError.self) { try Keys.privateKey(curve, rawBytes: [UInt8](repeating: 0, count: 32)) }
            #expect(throws: CryptoError.self) { try Keys.privateKey(curve, rawBytes: [1, 2, 3]) }
            #expect(throws: CryptoError.self) { try Keys.privateKey(curve, rawBytes: [UInt8](repeating: 0xFF, count: 32)) }
            #expect(throws: CryptoError.self) { try Keys.publicKey(curve, bytes: [0x02] + [UInt8](repeating: 0xFF, count: 32)) }
            #expect(throws: CryptoError.self) { try Keys.publicKey(curve, bytes: [0x05] + [UInt8](repeating: 1, count: 32)) }
        }
        for text in ["", "did:key:", "did:key:abc", "did:key:z", "did:key:z0OIl", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"] {
            #expect(throws: CryptoError.self, "\(text)") { try Keys.publicKey(didKey: text) }
        }
    }

    @Test func uncompressedPointsAreAccepted() throws {
        // The P-256 generator point, uncompressed.
        let g = try Multibase.decode("f046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")
        let key = try Keys.publicKey(.p256, bytes: g)
        #expect(key.compressedBytes.first == 0x03)
        let k = try Keys.generate(.k256)
        #expect(try Keys.publicKey(didKey: k.publicKey.didKey).compressedBytes == k.publicKey.compressedBytes)
    }
}

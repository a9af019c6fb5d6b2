import ATCrypto
import ATData
import Foundation
import Testing
import TestSupport

/// The `crypto/*` interop fixtures.
@Suite("Crypto interop fixtures")
struct SignatureFixtureTests {
    struct SignatureRow: Decodable, Sendable {
        let comment: String
        let messageBase64: String
        let algorithm: String
        let publicKeyDid: String
        let publicKeyMultibase: String
        let signatureBase64: String
        let validSignature: Bool
        let tags: [String]
    }

    struct K256Row: Decodable, Sendable {
        let privateKeyBytesHex: String
        let publicDidKey: String
    }

    struct P256Row: Decodable, Sendable {
        let privateKeyBytesBase58: String
        let publicDidKey: String
    }

    static let signatures = (try? Fixtures.rows([SignatureRow].self, "crypto/signature-fixtures.json")) ?? []
    static let k256 = (try? Fixtures.rows([K256Row].self, "crypto/w3c_didkey_K256.json")) ?? []
    static let p256 = (try? Fixtures.rows([P256Row].self, "crypto/w3c_didkey_P256.json")) ?? []

    static func base64(_ s: String) -> [UInt8] {
        Array(Data(base64Encoded: s + String(repeating: "=", count: (4 - s.count % 4) % 4))!)
    }

    @Test func fixturesLoaded() {
        #expect(Self.signatures.count == 6)
        #expect(Self.k256.count >= 5)
        #expect(Self.p256.count == 1)
    }

    @Test(arguments: 0..<6)
    func signatureFixture(_ index: Int) throws {
        let row = Self.signatures[index]
        let key = try Keys.publicKey(didKey: row.publicKeyDid)
        #expect(key.curve.jwtAlgorithm == row.algorithm)
        #expect(key.didKey == row.publicKeyDid)
        // The legacy publicKeyMultibase is base58btc of the bare compressed point.
        #expect(Multibase.encode(key.compressedBytes, as: .base58btc) == row.publicKeyMultibase)
        let message = Self.base64(row.messageBase64)
        let signature = Self.base64(row.signatureBase64)
        do {
            try key.verify(signature: signature, for: message)
            #expect(row.validSignature, "\(row.comment)")
        } catch {
            #expect(!row.validSignature, "\(row.comment): \(error)")
            if row.tags.contains("high-s") { #expect(error.code == .highS) }
            if row.tags.contains("der-encoded") { #expect(error.code == .invalidSignatureFormat) }
        }
    }

    @Test(arguments: 0..<5)
    func k256DIDKey(_ index: Int) throws {
        let row = Self.k256[index]
        let key = try Keys.privateKey(.k256, rawBytes: try Multibase.decode("f" + row.privateKeyBytesHex))
        #expect(key.publicKey.didKey == row.publicDidKey)
        #expect(try Keys.publicKey(didKey: row.publicDidKey).compressedBytes == key.publicKey.compressedBytes)
    }

    @Test func p256DIDKey() throws {
        let row = try #require(Self.p256.first)
        let key = try Keys.privateKey(.p256, rawBytes: try Multibase.decode("z" + row.privateKeyBytesBase58))
        #expect(key.publicKey.didKey == row.publicDidKey)
    }
}

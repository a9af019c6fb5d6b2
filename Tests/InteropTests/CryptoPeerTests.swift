import ATCrypto
import ATData
import Foundation
import Testing
import TestSupport

/// Signatures cross-checked against the `cryptography` package, the atproto
/// Python SDK's verifier, and the pure-Python `ecdsa` package's RFC 6979.
@Suite("Crypto with third-party peers", .serialized)
struct CryptoPeerTests {
    struct Row: Codable {
        let did_key: String
        let message: String
        let signature: String
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
    static func unhex(_ text: String) throws -> [UInt8] { try Multibase.decode("f" + text) }

    @Test func theirSignaturesVerifyHere() async throws {
        let lines = try await Tools.peers(["crypto-sign", "40"]).split(separator: "\n")
        #expect(lines.count == 40)
        for line in lines {
            let row = try JSONDecoder().decode(Row.self, from: Data(line.utf8))
            let key = try Keys.publicKey(didKey: row.did_key)
            let message = try Self.unhex(row.message)
            var signature = try Self.unhex(row.signature)
            try key.verify(signature: signature, for: message)
            signature[63] ^= 1
            #expect(!key.isValidSignature(signature, for: message))
        }
    }

    @Test func ourSignaturesVerifyThere() async throws {
        var rows = [String]()
        for i in 0..<40 {
            let key = try Keys.generate(i % 2 == 0 ? .k256 : .p256)
            let message = Array("record \(i) ✨".utf8)
            let row = Row(did_key: key.publicKey.didKey, message: Self.hex(message), signature: Self.hex(try key.sign(message)))
            rows.append(String(decoding: try JSONEncoder().encode(row), as: UTF8.self))
        }
        let verdicts = try await Tools.peers(["crypto-verify"], input: rows.joined(separator: "\n") + "\n").split(separator: "\n")
        #expect(verdicts == Array(repeating: "true", count: 40))
    }

    /// K-256 signatures are RFC 6979's: byte for byte what the pure-Python
    /// `ecdsa` package makes for the same key and message, low-S.
    @Test func k256SignaturesAreRFC6979s() async throws {
        var rows = [String](), ours = [String]()
        for i in 0..<40 {
            let key = try K256PrivateKey()
            let message = Array("commit \(i) \(String(repeating: "✨", count: i))".utf8)
            rows.append(#"{"secret":"\#(Self.hex(key.rawBytes))","message":"\#(Self.hex(message))"}"#)
            ours.append(Self.hex(try key.sign(message)))
        }
        let theirs = try await Tools.peers(["crypto-rfc6979"], input: rows.joined(separator: "\n") + "\n").split(separator: "\n").map(String.init)
        #expect(theirs.count == 40)
        #expect(theirs == ours)
    }
}

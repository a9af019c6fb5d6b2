import ATCrypto
import Foundation
import Server
import Testing

/// PLC genesis operations checked by independent code: libipld's DAG-CBOR and
/// hashlib derive the same did:plc, and the atproto SDK accepts the signatures.
@Suite("PLC operations with the Python peers")
struct PLCPeerTests {
    @Test func didsAndSignaturesAgree() async throws {
        var lines = [String](), expected = [String]()
        for i in 0..<20 {
            let rotation = try Keys.generate(i % 2 == 0 ? .k256 : .p256)
            let op = try PLCOperation.sign(
                .init(
                    rotationKeys: [rotation.publicKey.didKey], signingKey: try Keys.generate(.k256).publicKey.didKey,
                    alsoKnownAs: ["at://user\(i).test"], pdsEndpoint: "https://pds\(i).example", prev: nil),
                with: rotation)
            lines.append(String(decoding: op.value.jsonData(), as: UTF8.self))
            expected.append(op.did.description)
        }
        let output = try await Tools.peers(["plc-check"], input: lines.joined(separator: "\n") + "\n")
        let reports = output.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(reports.map { $0["did"] as? String ?? "" } == expected)
        #expect(reports.allSatisfy { $0["signature_valid"] as? Bool == true })
    }
}

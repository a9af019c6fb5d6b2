import ATData
import Foundation
import Testing
import TestSupport

/// Cross-checks against independent implementations from PyPI: arroba and
/// carbox write CARs, the atproto SDK and libipld read ours, and libipld and
/// cbrrr encode the same records to the same bytes.
@Suite("Third-party peers", .serialized)
struct PeerTests {
    @Test func thirdPartyCARsVerify() async throws {
        let dir = try Tools.temporaryDirectory()
        _ = try await Tools.peers(["make-cars", dir.path])
        let manifest = try JSONDecoder().decode([String: VerifyReport].self, from: Data(contentsOf: dir.appendingPathComponent("manifest.json")))
        #expect(manifest.keys.sorted() == ["arroba-repo.car", "libipld-posts.car"])
        for (name, expected) in manifest {
            let result = try await Tools.runBsky(["car", "verify", dir.appendingPathComponent(name).path, "--json"])
            #expect(result.status == 0, "\(name): \(result.stderr)")
            #expect(try JSONDecoder().decode(VerifyReport.self, from: Data(result.stdout.utf8)) == expected, "\(name)")
        }
    }

    @Test func corruptedThirdPartyCARsAreRejected() async throws {
        let dir = try Tools.temporaryDirectory()
        _ = try await Tools.peers(["make-cars", dir.path])
        for name in ["arroba-repo.car", "libipld-posts.car"] {
            let original = try [UInt8](Data(contentsOf: dir.appendingPathComponent(name)))
            var flipped = original
            flipped[original.count - 3] ^= 0x10  // inside the last block's bytes
            var badCID = original
            badCID[original.count / 2] ^= 0x01  // somewhere in the middle
            let corruptions: [(String, [UInt8])] = [
                ("flipped", flipped),
                ("middle", badCID),
                ("truncated", Array(original.dropLast(5))),
                ("no-header", Array(original.dropFirst(1))),
            ]
            for (label, bytes) in corruptions {
                let url = dir.appendingPathComponent("\(label)-\(name)")
                try Data(bytes).write(to: url)
                let result = try await Tools.runBsky(["car", "verify", url.path, "--json"])
                #expect(result.status == 1, "\(label) \(name) was accepted")
                #expect(result.stdout.isEmpty)
                #expect(result.stderr.hasPrefix("error: "), "\(label) \(name): \(result.stderr)")
                #expect(result.stderr.split(separator: "\n").count == 1)
            }
        }
    }

    @Test func ourCARsReadInThirdPartyCode() async throws {
        let dir = try Tools.temporaryDirectory()
        let car = dir.appendingPathComponent("demo.car")
        let demo = try await Tools.runBsky(["car", "demo", "--records", "250", "--output", car.path])
        #expect(demo.status == 0, "\(demo.stderr)")
        struct Read: Decodable { let roots: [String]; let blocks: Int; let bytes: Int; let cids: [String] }
        let read = try JSONDecoder().decode(Read.self, from: Data(try await Tools.peers(["read-car", car.path]).utf8))
        let reader = try CARReader([UInt8](Data(contentsOf: car)))
        #expect(read.roots == reader.header.roots.map(\.description))
        #expect(read.blocks == 251)
        #expect(read.cids == (try reader.blocks()).map(\.cid.description).sorted())
    }

    @Test func cborBytesMatchLibipldAndCbrrr() async throws {
        struct Vector: Decodable { let cbor: String; let cid: String }
        let lines = try await Tools.peers(["cbor-vectors", "400"]).split(separator: "\n")
        #expect(lines.count == 400)
        for line in lines {
            let data = Data(line.utf8)
            let vector = try JSONDecoder().decode(Vector.self, from: data)
            // The "json" member, re-read by our own JSON reader.
            guard case .map(let row) = try DataValue(json: data), let json = row["json"] else {
                Issue.record("no json member in \(line)")
                continue
            }
            let bytes = DAGCBOR.encode(json)
            #expect(bytes.map { String(format: "%02x", $0) }.joined() == vector.cbor, "\(line)")
            #expect(CID.compute(bytes).description == vector.cid)
            #expect(try DAGCBOR.decode(bytes) == json)
        }
    }
}

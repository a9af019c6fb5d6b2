import ATData
import Foundation
import Testing
import TestSupport

@Suite("bsky car")
struct CLITests {
    static func sampleCAR() throws -> (URL, [UInt8], CID) {
        let blocks = (0..<20).map { i in DAGCBOR.encodeWithCID(["i": .int(Int64(i))]) }
        let bytes = CARWriter.encode(roots: [blocks[0].cid], blocks: blocks.map { ($0.cid, $0.bytes) })
        let url = try Tools.temporaryDirectory().appendingPathComponent("sample.car")
        try Data(bytes).write(to: url)
        return (url, bytes, blocks[0].cid)
    }

    @Test func verifyPrintsExactJSON() async throws {
        let (url, bytes, root) = try Self.sampleCAR()
        let result = try await Tools.runBsky(["car", "verify", url.path, "--json"])
        #expect(result.status == 0)
        #expect(result.stdout == "{\"roots\":[\"\(root)\"],\"blocks\":20,\"bytes\":\(bytes.count)}\n")
        #expect(result.stderr.isEmpty)
    }

    @Test func verifyPrintsASummary() async throws {
        let (url, _, root) = try Self.sampleCAR()
        let result = try await Tools.runBsky(["car", "verify", url.path])
        #expect(result.status == 0)
        #expect(result.stdout.contains("roots: \(root)"))
        #expect(result.stdout.contains("blocks: 20"))
    }

    @Test func verifyRejectsACorruptFileWithOneLine() async throws {
        let (url, bytes, _) = try Self.sampleCAR()
        var corrupt = bytes
        corrupt[corrupt.count - 1] ^= 0xFF
        try Data(corrupt).write(to: url)
        let result = try await Tools.runBsky(["car", "verify", url.path, "--json"])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("error: "))
        #expect(result.stderr.contains("cidMismatch"))
        #expect(result.stderr.contains("block 19"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    /// Input that never ends stops at the limit, with one line, instead of
    /// taking all the memory there is.
    @Test func anEndlessInputStopsAtTheLimit() async throws {
        let result = try await Tools.runBsky(["car", "verify", "/dev/zero"], environment: ["BSKY_MAX_INPUT": "1048576"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("error: /dev/zero: more than 1048576 bytes from a pipe or device"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    /// A flipped codec bit keeps the hash right, so only the CID form gives
    /// it away: 0x71 (dag-cbor) becomes 0x70 (dag-pb), as a random bit flip
    /// in a third-party CAR once did.
    @Test func verifyRejectsNonATProtoCIDsAndNonCanonicalBlocks() async throws {
        let (url, bytes, _) = try Self.sampleCAR()
        let reader = try CARReader(bytes)
        let last = try reader.blocks().last!
        let cidBytes = last.cid.bytes
        // The section of the last block: varint length, CID, data.
        let cidStart = bytes.count - last.data.count - cidBytes.count
        #expect(Array(bytes[cidStart..<(cidStart + cidBytes.count)]) == cidBytes)
        var dagPB = bytes
        dagPB[cidStart + 1] ^= 0x01
        try Data(dagPB).write(to: url)
        let codec = try await Tools.runBsky(["car", "verify", url.path])
        #expect(codec.status == 1)
        #expect(codec.stderr.contains("invalidCID"), "\(codec.stderr)")
        #expect(codec.stderr.contains("block 19"), "\(codec.stderr)")

        // A block whose bytes hash right but are not canonical: a float.
        let float: [UInt8] = [0xA1, 0x61, 0x66, 0xFB, 0x3F, 0xF8, 0, 0, 0, 0, 0, 0]
        let cid = CID.compute(float)
        try Data(CARWriter.encode(roots: [cid], blocks: [(cid, float)])).write(to: url)
        let nonCanonical = try await Tools.runBsky(["car", "verify", url.path])
        #expect(nonCanonical.status == 1)
        #expect(nonCanonical.stderr.contains("floatNotAllowed"), "\(nonCanonical.stderr)")
        #expect(nonCanonical.stderr.split(separator: "\n").count == 1)
    }

    @Test func missingFileAndUsageErrors() async throws {
        let missing = try await Tools.runBsky(["car", "verify", "/nonexistent/file.car"])
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("error: "))
        let usage = try await Tools.runBsky(["car", "verify"])
        #expect(usage.status == 2)
        let badCID = try await Tools.runBsky(["car", "cat", "/nonexistent/file.car", "not-a-cid"])
        #expect(badCID.status == 2)
        // A server option out of range is refused before anything starts.
        let dir = try Tools.temporaryDirectory()
        let noCache = try await Tools.runBsky(["serve", "--data", dir.path, "--port", "0", "--repo-cache", "0"])
        #expect(noCache.status != 0 && noCache.stderr.contains("--repo-cache must be at least 1"), "\(noCache.stderr)")
    }

    @Test func catPrintsABlockAsJSON() async throws {
        let (url, _, root) = try Self.sampleCAR()
        let result = try await Tools.runBsky(["car", "cat", url.path, root.description])
        #expect(result.status == 0)
        #expect(try DataValue(json: Data(result.stdout.utf8)) == ["i": 0])
        let absent = try await Tools.runBsky(["car", "cat", url.path, CID.compute([9]).description])
        #expect(absent.status == 1)
    }

    @Test func blocksListsEveryBlock() async throws {
        let (url, _, root) = try Self.sampleCAR()
        let result = try await Tools.runBsky(["car", "blocks", url.path])
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 20)
        #expect(lines.first?.hasPrefix("\(root)\tdag-cbor\t") == true)
    }

    @Test func buildVerifyListAndExportARepository() async throws {
        let dir = try Tools.temporaryDirectory()
        let records = dir.appendingPathComponent("records.jsonl")
        let lines = (0..<30).map { i in
            #"{"collection":"app.bsky.feed.post","rkey":"r\#(i)","record":{"$type":"app.bsky.feed.post","text":"post \#(i)","createdAt":"2024-01-01T00:00:00.000Z"}}"#
        }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: records)
        let car = dir.appendingPathComponent("repo.car")
        let hex = "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c"
        let didKey = "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"  // the fixture's public key for it
        let build = try await Tools.runBsky(["car", "build", "--records", records.path, "--did", "did:plc:cli", "--key-hex", hex,
                                       "--rev", "3kabcdefghij2", "--out", car.path])
        #expect(build.status == 0, "\(build.stderr)")
        let verify = try await Tools.runBsky(["car", "verify", car.path, "--repo", "--key", didKey, "--json"])
        #expect(verify.status == 0, "\(verify.stderr)")
        let report = try DataValue(json: Data(verify.stdout.utf8))
        #expect(report["did"] == "did:plc:cli")
        #expect(report["rev"] == "3kabcdefghij2")
        #expect(report["records"] == 30)
        let wrongKey = try await Tools.runBsky(["car", "verify", car.path, "--repo", "--key", "did:key:zQ3shtxV1FrJfhqE1dvxYRcCknWNjHc3c5X1y3ZSoPDi2aur2"])
        #expect(wrongKey.status == 1)
        #expect(wrongKey.stderr.contains("badSignature"))
        let unsigned = try await Tools.runBsky(["car", "verify", car.path, "--repo"])
        #expect(unsigned.status == 0)
        #expect(unsigned.stderr.contains("signature"))
        let ls = try await Tools.runBsky(["car", "ls", car.path]).stdout.split(separator: "\n")
        #expect(ls.count == 30)
        #expect(ls.map { $0.split(separator: "\t")[0] } == ls.map { $0.split(separator: "\t")[0] }.sorted())
        let export = try await Tools.runBsky(["car", "export", car.path]).stdout.split(separator: "\n")
        #expect(export.count == 30)
        let first = try DataValue(json: Data(export[0].utf8))
        #expect(first["uri"]?.stringValue?.hasPrefix("at://did:plc:cli/app.bsky.feed.post/r") == true)
        #expect(first["value"]?["$type"] == "app.bsky.feed.post")
    }
}

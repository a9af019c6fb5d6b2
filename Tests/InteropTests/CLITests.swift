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

    @Test func verifyPrintsExactJSON() throws {
        let (url, bytes, root) = try Self.sampleCAR()
        let result = try Tools.runBsky(["car", "verify", url.path, "--json"])
        #expect(result.status == 0)
        #expect(result.stdout == "{\"roots\":[\"\(root)\"],\"blocks\":20,\"bytes\":\(bytes.count)}\n")
        #expect(result.stderr.isEmpty)
    }

    @Test func verifyPrintsASummary() throws {
        let (url, _, root) = try Self.sampleCAR()
        let result = try Tools.runBsky(["car", "verify", url.path])
        #expect(result.status == 0)
        #expect(result.stdout.contains("roots: \(root)"))
        #expect(result.stdout.contains("blocks: 20"))
    }

    @Test func verifyRejectsACorruptFileWithOneLine() throws {
        let (url, bytes, _) = try Self.sampleCAR()
        var corrupt = bytes
        corrupt[corrupt.count - 1] ^= 0xFF
        try Data(corrupt).write(to: url)
        let result = try Tools.runBsky(["car", "verify", url.path, "--json"])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("error: "))
        #expect(result.stderr.contains("cidMismatch"))
        #expect(result.stderr.contains("block 19"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test func missingFileAndUsageErrors() throws {
        let missing = try Tools.runBsky(["car", "verify", "/nonexistent/file.car"])
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("error: "))
        let usage = try Tools.runBsky(["car", "verify"])
        #expect(usage.status == 2)
        let badCID = try Tools.runBsky(["car", "cat", "/nonexistent/file.car", "not-a-cid"])
        #expect(badCID.status == 2)
    }

    @Test func catPrintsABlockAsJSON() throws {
        let (url, _, root) = try Self.sampleCAR()
        let result = try Tools.runBsky(["car", "cat", url.path, root.description])
        #expect(result.status == 0)
        #expect(try DataValue(json: Data(result.stdout.utf8)) == ["i": 0])
        let absent = try Tools.runBsky(["car", "cat", url.path, CID.compute([9]).description])
        #expect(absent.status == 1)
    }

    @Test func lsListsEveryBlock() throws {
        let (url, _, root) = try Self.sampleCAR()
        let result = try Tools.runBsky(["car", "ls", url.path])
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 20)
        #expect(lines.first?.hasPrefix("\(root)\tdag-cbor\t") == true)
    }
}

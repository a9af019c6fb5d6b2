import ATData
import Foundation
import Testing
import TestSupport

/// Replays the fuzzers' seeds (and any crash inputs added to them) through the
/// fuzz targets' checks, so that a fixed crash stays fixed.
@Suite("Fuzz seeds")
struct FuzzSeedTests {
    static let seeds = Fixtures.packageRoot.appendingPathComponent("Fuzz/seeds")

    static func files(_ folder: String) -> [String] {
        let url = seeds.appendingPathComponent(folder)
        return ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted().map { url.appendingPathComponent($0).path }
    }

    @Test func seedsArePresent() {
        #expect(Self.files("cbor").count >= 4)
        #expect(Self.files("car").count >= 2)
    }

    @Test(arguments: files("cbor"))
    func cborSeedRoundTripsOrFailsTyped(_ path: String) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        if let value = try? DAGCBOR.decode(bytes) {
            #expect(DAGCBOR.encode(value) == bytes)
        }
    }

    @Test(arguments: files("car"))
    func carSeedReads(_ path: String) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let reader = try CARReader(bytes)
        for block in try reader.blocks() where block.cid.codec == .dagCBOR {
            _ = try DAGCBOR.decode(block.data)
        }
    }
}

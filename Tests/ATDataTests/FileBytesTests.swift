import ATData
import Foundation
import Testing

/// Files read in place: mapped, not copied, and read as the same bytes in an
/// array would be.
@Suite("File bytes")
struct FileBytesTests {
    static func temporaryFile(_ bytes: [UInt8]) throws -> (path: String, descriptor: Int32) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("filebytes-\(UUID()).car").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let descriptor = open(path, O_RDONLY)
        try #require(descriptor >= 0)
        return (path, descriptor)
    }

    @Test func aMappedCARReadsAsTheArrayDoes() throws {
        let blocks = (0..<3_000).map { DAGCBOR.encodeWithCID(["n": .int(Int64($0)), "text": .string(String(repeating: "m", count: $0 % 300))]) }
        let car = CARWriter.encode(roots: [blocks[0].0], blocks: blocks)
        let (path, descriptor) = try Self.temporaryFile(car)
        defer { unlink(path) }
        let file = try FileBytes(mapping: descriptor, count: car.count)
        close(descriptor)
        #expect(file.count == car.count)
        #expect(file.withUnsafeBytes { Array($0) } == car)
        #expect(Array(file[10..<20]) == Array(car[10..<20]))
        let read = try CARReader(file, options: CAROptions(atprotoBlocks: true)).blocks()
        #expect(read.map(\.cid) == blocks.map(\.0))
        #expect(read.map { Array($0.data) } == blocks.map(\.1))
    }

    @Test func aCorruptMappedCARIsATypedError() throws {
        let blocks = (0..<3_000).map { DAGCBOR.encodeWithCID(["n": .int(Int64($0)), "pad": .string(String(repeating: "p", count: 100))]) }
        var car = CARWriter.encode(roots: [blocks[0].0], blocks: blocks)
        car[car.count - 3] ^= 0x01
        let (path, descriptor) = try Self.temporaryFile(car)
        defer { unlink(path) }
        let file = try FileBytes(mapping: descriptor, count: car.count)
        close(descriptor)
        #expect(throws: DataError.self) { try CARReader(file).blocks() }
        do {
            _ = try CARReader(file).forEachBlock { _, _ in }
            Issue.record("a corrupt block was accepted")
        } catch {
            #expect(error.code == .cidMismatch && error.blockIndex == 2_999)
        }
    }

    @Test func anEmptyFileAndABadDescriptor() throws {
        let empty = try FileBytes(mapping: -1, count: 0)
        #expect(empty.count == 0 && empty.withUnsafeBytes { $0.count } == 0)
        #expect(throws: DataError.self) { try CARReader(empty) }
        #expect(throws: FileBytesError.self) { try FileBytes(mapping: -1, count: 4096) }
        let held = FileBytes([1, 2, 3])
        #expect(held.count == 3 && Array(held[1..<3]) == [2, 3])
    }
}

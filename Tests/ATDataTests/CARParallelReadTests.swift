import ATData
import Testing

/// Files of enough blocks (over 2,048) that the whole-file reader parses and
/// checks their sections on every core. Whatever the mix of faults, the error
/// must be the one a single pass in file order meets first, the streaming
/// reader's.
@Suite("CAR v1, read on every core")
struct CARParallelReadTests {
    static let count = 9_000
    static let blocks: [(CID, [UInt8])] = (0..<count).map { i in
        let text = String(repeating: "block \(i) ", count: 12)
        return DAGCBOR.encodeWithCID(["$type": "app.bsky.feed.post", "text": .string(text), "n": .int(Int64(i))])
    }
    static let file = CARWriter.encode(roots: [blocks[0].0], blocks: blocks)

    /// Where block `index`'s section starts.
    static func sectionStart(_ index: Int) -> Int {
        file.count - blocks[index...].reduce(0) { $0 + $1.1.count + 36 + varintLength($1.1.count + 36) }
    }

    static func varintLength(_ n: Int) -> Int { n < 0x80 ? 1 : n < 0x4000 ? 2 : 3 }

    /// The error of the whole-file reader and of the streaming reader.
    static func errors(_ bytes: [UInt8]) async -> (whole: DataError?, streamed: DataError?) {
        var whole: DataError?
        do { _ = try CARReader(bytes).blocks() } catch { whole = error }
        var streamed: DataError?
        var reader = CARStreamReader(AsyncChunks(chunks: [bytes[...]]))
        do {
            while try await reader.next() != nil {}
        } catch let error as DataError {
            streamed = error
        } catch {
            Issue.record("not a DataError: \(error)")
        }
        return (whole, streamed)
    }

    @Test func theFileIsLargeEnoughAndReadsBack() throws {
        #expect(Self.file.count > 1 << 20)
        let read = try CARReader(Self.file, options: CAROptions(atprotoBlocks: true)).blocks()
        #expect(read.map(\.cid) == Self.blocks.map(\.0))
        #expect(read.map { Array($0.data) } == Self.blocks.map(\.1))
        var visited = 0
        let counted = try CARReader(Self.file).forEachBlock { cid, data in
            #expect(cid == Self.blocks[visited].0 && data.count == Self.blocks[visited].1.count)
            visited += 1
        }
        #expect(counted == Self.count && visited == Self.count)
    }

    /// Corruptions, each at a block: a flipped data byte (the hash), a bad CID
    /// version, a cut at the end of the file.
    enum Fault {
        case data(Int), cidVersion(Int), truncateInside(Int)

        func apply(to bytes: inout [UInt8]) {
            switch self {
            case .data(let i):
                bytes[CARParallelReadTests.sectionStart(i) + 2 + 36 + 3] ^= 0x01
            case .cidVersion(let i):
                // After the two-byte length prefix: the CID's version byte.
                bytes[CARParallelReadTests.sectionStart(i) + 2] = 0x03
            case .truncateInside(let i):
                bytes.removeLast(bytes.count - CARParallelReadTests.sectionStart(i) - 20)
            }
        }
    }

    @Test(arguments: [
        ([Fault.data(7_000)], DataError.Code.cidMismatch, 7_000),
        ([.data(100), .data(8_000)], .cidMismatch, 100),
        ([.data(8_000), .data(100)], .cidMismatch, 100),
        ([.data(3_000), .cidVersion(6_000)], .cidMismatch, 3_000),
        ([.cidVersion(3_000), .data(6_000)], .invalidCID, 3_000),
        ([.data(2_000), .truncateInside(8_999)], .cidMismatch, 2_000),
        ([.truncateInside(8_999)], .truncated, 8_999),
        ([.cidVersion(4_500), .truncateInside(8_000)], .invalidCID, 4_500),
    ])
    func theFirstFaultInFileOrderIsReported(_ faults: [Fault], code: DataError.Code, block: Int) async {
        var bytes = Self.file
        // Cuts last, so that the other offsets still hold.
        for fault in faults { if case .truncateInside = fault {} else { fault.apply(to: &bytes) } }
        for fault in faults { if case .truncateInside = fault { fault.apply(to: &bytes) } }
        let (whole, streamed) = await Self.errors(bytes)
        #expect(whole?.code == code)
        #expect(whole?.blockIndex == block)
        if code != .invalidCID { #expect(whole?.offset == Self.sectionStart(block)) }
        #expect(whole?.code == streamed?.code)
        #expect(whole?.blockIndex == streamed?.blockIndex)
        #expect(whole?.offset == streamed?.offset)
    }
}

import ATData
import Foundation
import Testing

@Suite("CAR v1")
struct CARTests {
    static func sampleBlocks(_ count: Int) -> [(CID, [UInt8])] {
        (0..<count).map { i in
            let value: DataValue = ["$type": "app.bsky.feed.post", "text": .string("post \(i)"), "n": .int(Int64(i))]
            let (cid, bytes) = DAGCBOR.encodeWithCID(value)
            return (cid, bytes)
        }
    }

    static let blocks = sampleBlocks(50)
    static let root = blocks[0].0
    static let file = CARWriter.encode(roots: [root], blocks: blocks)

    static func expectError(_ bytes: [UInt8], _ code: DataError.Code, block: Int? = nil,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let reader = try CARReader(bytes)
            _ = try reader.blocks()
            Issue.record("expected \(code)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == code, sourceLocation: sourceLocation)
            if let block { #expect(error.blockIndex == block, sourceLocation: sourceLocation) }
            #expect(error.offset != nil, sourceLocation: sourceLocation)
        }
    }

    @Test func writesAndReadsBack() throws {
        let reader = try CARReader(Self.file)
        #expect(reader.header.roots == [Self.root])
        let read = try reader.blocks()
        #expect(read.count == Self.blocks.count)
        for (block, (cid, bytes)) in zip(read, Self.blocks) {
            #expect(block.cid == cid)
            #expect(Array(block.data) == bytes)
        }
        #expect(try reader.forEachBlock { _, _ in } == 50)
        #expect(try reader.blockMap()[Self.blocks[7].0].map(Array.init) == Self.blocks[7].1)
    }

    @Test func streamingWriterMatchesTheWholeFileWriter() async throws {
        var writer = CARWriter(roots: [Self.root], sink: [UInt8](), chunkSize: 100)
        for (cid, bytes) in Self.blocks { try await writer.write(cid: cid, data: bytes) }
        #expect(try await writer.finish() == Self.file)
    }

    @Test(arguments: [1, 7, 64, 4096, 1 << 20])
    func streamingReaderMatchesWholeFileReader(_ chunkSize: Int) async throws {
        let chunks = stride(from: 0, to: Self.file.count, by: chunkSize).map { Self.file[$0..<min($0 + chunkSize, Self.file.count)] }
        var reader = CARStreamReader(AsyncChunks(chunks: chunks))
        #expect(try await reader.header().roots == [Self.root])
        var cids = [CID]()
        for try await block in reader { cids.append(block.cid) }
        #expect(cids == Self.blocks.map(\.0))
    }

    @Test func everyTruncationIsATypedError() async throws {
        for length in 0..<(Self.file.count - 1) {
            let prefix = Array(Self.file.prefix(length))
            var failed = false
            do {
                let reader = try CARReader(prefix)
                _ = try reader.blocks()
            } catch {
                failed = true
                #expect(error.code == .truncated || (length == 0 && error.code == .truncated))
            }
            // A cut exactly between sections is a valid, shorter file.
            if !failed { #expect(try CARReader(prefix).blocks().count < 50) }

            var stream = CARStreamReader(AsyncChunks(chunks: [prefix[...]]))
            do {
                while try await stream.next() != nil {}
            } catch let error as DataError {
                #expect(error.code == .truncated)
            }
        }
    }

    @Test func cidMismatchNamesTheBlock() throws {
        var bytes = Self.file
        // Flip the last byte of the file: it belongs to the last block's data.
        bytes[bytes.count - 1] ^= 0x01
        Self.expectError(bytes, .cidMismatch, block: 49)
        #expect(throws: DataError(.cidMismatch, "block bytes do not hash to \(Self.blocks[49].0)",
                                  offset: bytes.count - Self.blocks[49].1.count - 37, blockIndex: 49)) {
            try CARReader(bytes).blocks()
        }
        let reader = try CARReader(bytes, options: CAROptions(verifyBlocks: false))
        #expect(try reader.blocks().count == 50)
    }

    @Test func streamingCIDMismatchNamesTheBlockAndOffset() async throws {
        var bytes = Self.file
        bytes[bytes.count - 1] ^= 0x01
        var reader = CARStreamReader(AsyncChunks(chunks: [bytes[...]]))
        do {
            while try await reader.next() != nil {}
            Issue.record("expected a mismatch")
        } catch let error as DataError {
            #expect(error.code == .cidMismatch)
            #expect(error.blockIndex == 49)
            // The section starts with a one-byte length, then a 36-byte CID, then the data.
            #expect(error.offset == bytes.count - Self.blocks[49].1.count - 36 - 1)
        }
    }

    @Test func streamingReaderReportsFramingErrors() async throws {
        let header = Array(Self.file.prefix(Self.file.count - Self.blocks.reduce(0) { $0 + $1.1.count + 37 }))
        let cases: [([UInt8], DataError.Code)] = [
            (header + [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], .varintOverflow),
            (header + [0xFF, 0xFF, 0xFF, 0xFF, 0x0F] + [UInt8](repeating: 0, count: 64), .lengthTooLarge),
            (header + [0x00], .invalidCARBlock),
            (Self.file + [0x05, 0x01], .truncated),
        ]
        for (bytes, code) in cases {
            // One byte at a time, the hardest way to arrive.
            var reader = CARStreamReader(AsyncChunks(chunks: bytes.indices.map { bytes[$0...$0] }))
            do {
                while try await reader.next() != nil {}
                Issue.record("expected \(code)")
            } catch let error as DataError {
                #expect(error.code == code)
                #expect(error.blockIndex != nil)
            }
        }
    }

    @MainActor @Test func streamingReaderRunsInTheCallersIsolation() async throws {
        var reader = CARStreamReader(AsyncChunks(chunks: [Self.file[...]]))
        var count = 0
        while try await reader.next() != nil {
            MainActor.assertIsolated()
            count += 1
        }
        #expect(count == 50)
        #expect(reader.byteCount == Self.file.count)
    }

    @Test func headerIsValidated() throws {
        func car(_ header: DataValue) -> [UInt8] {
            let bytes = DAGCBOR.encode(header)
            var out = [UInt8]()
            Varint.write(UInt64(bytes.count), into: &out)
            return out + bytes
        }
        Self.expectError(car(["version": 2, "roots": [.link(Self.root)]]), .invalidCARHeader)
        Self.expectError(car(["version": 1]), .invalidCARHeader)
        Self.expectError(car(["version": 1, "roots": ["nope"]]), .invalidCARHeader)
        Self.expectError(car(["roots": [.link(Self.root)]]), .invalidCARHeader)
        Self.expectError(car("just a string"), .invalidCARHeader)
        Self.expectError([0x00], .invalidCARHeader)
        Self.expectError([0xFF, 0xFF, 0xFF, 0xFF, 0x0F], .lengthTooLarge)
        #expect(try CARReader(car(["version": 1, "roots": []])).header.roots.isEmpty)
    }

    @Test func sectionFramingIsValidated() throws {
        let header = Array(Self.file.prefix(Self.file.count - Self.blocks.reduce(0) { $0 + $1.1.count + 37 }))
        #expect(try CARReader(header).blocks().isEmpty)
        Self.expectError(header + [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], .varintOverflow, block: 0)
        Self.expectError(header + [0x81, 0x00], .varintNotMinimal, block: 0)
        Self.expectError(header + [0xFF, 0xFF, 0xFF, 0xFF, 0x0F] + [UInt8](repeating: 0, count: 64), .lengthTooLarge, block: 0)
        Self.expectError(header + [0x00], .invalidCARBlock, block: 0)
        // A section shorter than its CID.
        Self.expectError(header + [0x03, 0x01, 0x71, 0x12], .invalidCARBlock, block: 0)
        // An identity-hash CID cannot be checked.
        Self.expectError(header + [0x06, 0x01, 0x71, 0x00, 0x01, 0x61, 0x61], .unsupportedHash, block: 0)
        // A wrong CID version.
        Self.expectError(header + [0x05, 0x03, 0x71, 0x12, 0x20, 0x00], .invalidCID, block: 0)
    }
}

/// Chunks delivered as an async sequence, like an HTTP body.
struct AsyncChunks: AsyncSequence, Sendable {
    let chunks: [ArraySlice<UInt8>]
    struct Iterator: AsyncIteratorProtocol {
        var rest: ArraySlice<ArraySlice<UInt8>>
        mutating func next() async -> ArraySlice<UInt8>? { rest.popFirst() }
    }
    func makeAsyncIterator() -> Iterator { Iterator(rest: chunks[...]) }
}

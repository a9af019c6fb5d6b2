@testable import ATData
import Foundation
import Testing

/// The whole-file reader cuts a large file into parts and guesses where a
/// section starts past each cut. A block can hold bytes that frame like
/// sections; whatever the guesses, the reader must give exactly what one pass
/// in file order gives.
@Suite("CAR v1, cut at guessed section starts")
struct CARGuessedCutsTests {
    static func post(_ i: Int) -> (CID, [UInt8]) {
        DAGCBOR.encodeWithCID(["$type": "app.bsky.feed.post", "text": .string("post \(i) " + String(repeating: "x", count: i % 50)), "n": .int(Int64(i))])
    }

    /// The framed sections of `blocks`, as a CAR would hold them.
    static func sections(_ blocks: [(CID, [UInt8])]) -> [UInt8] {
        let empty = CARWriter<[UInt8]>.encode(roots: [], blocks: [])
        return Array(CARWriter<[UInt8]>.encode(roots: [], blocks: blocks).dropFirst(empty.count))
    }

    /// A CAR of 3,000 posts with, after the first 1,500, a raw block whose
    /// bytes are `decoys` well-framed sections. Returns the file and where
    /// the decoy sections start.
    static func file(decoys: Int) -> (bytes: [UInt8], decoyStart: Int) {
        let posts = (0..<3_000).map(post)
        let inner = sections((0..<decoys).map { DAGCBOR.encodeWithCID(["decoy": .int(Int64($0))]) })
        let raw = (CID.compute(inner, codec: .raw), inner)
        let before = CARWriter.encode(roots: [posts[0].0], blocks: Array(posts[..<1_500]))
        // The decoys follow the raw block's length prefix and its 36-byte CID.
        let prefix = inner.count + 36 < 0x80 ? 1 : 2
        return (before + sections([raw] + Array(posts[1_500...])), before.count + prefix + 36)
    }

    static func inOrder(_ bytes: [UInt8]) throws -> [CID] {
        try bytes.withUnsafeBytes { buffer in
            let (_, first) = try CARFraming.readHeader(buffer, options: .default)
            return try CARReader.readInOrder(buffer, from: first, options: CAROptions(verifyBlocks: false, atprotoBlocks: true)).map(\.cid)
        }
    }

    /// The CIDs read with the file cut at `cuts`, and in how many runs: one
    /// when the reader fell back to a single pass.
    static func cut(_ bytes: [UInt8], at cuts: [Int]) throws -> (cids: [CID], runs: Int) {
        try bytes.withUnsafeBytes { buffer in
            let (_, first) = try CARFraming.readHeader(buffer, options: .default)
            let runs = try CARReader.readAndVerify(buffer, from: first, options: CAROptions(atprotoBlocks: true), cuts: cuts)
            return (runs.joined().map(\.cid), runs.count)
        }
    }

    @Test(arguments: [1, 2, 3, 5, 8, 40])
    func anyNumberOfEvenCutsReadsAsOnePass(parts: Int) throws {
        let (bytes, _) = Self.file(decoys: 20)
        let expected = try Self.inOrder(bytes)
        #expect(expected.count == 3_001)
        let step = bytes.count / parts
        let read = try Self.cut(bytes, at: (1..<parts).map { $0 * step })
        #expect(read.cids == expected)
        #expect(read.runs == parts)
    }

    /// Twenty decoys: the guess is a chain of decoys inside the raw block,
    /// which the walk from the start steps over; the reader starts again in
    /// order. Fifteen: the guess's sixteenth start is the section after the
    /// raw block, where the two walks meet.
    @Test(arguments: [20, 16, 15, 1])
    func aCutInsideDecoySectionsReadsAsOnePass(decoys: Int) throws {
        let (bytes, decoyStart) = Self.file(decoys: decoys)
        // The decoys frame cleanly from here, so the guess is theirs.
        let guess = try bytes.withUnsafeBytes { try #require(CARReader.Guess($0, after: decoyStart, options: .default)) }
        #expect(guess.offsets[0] == decoyStart)
        let expected = try Self.inOrder(bytes)
        let read = try Self.cut(bytes, at: [decoyStart])
        #expect(read.cids == expected)
        // Past fifteen decoys, the walks never meet.
        #expect(read.runs == (decoys < 16 ? 2 : 1))
        #expect(try Self.cut(bytes, at: [decoyStart - 10, decoyStart, bytes.count - 5_000]).cids == expected)
        #expect(try CARReader(bytes, options: CAROptions(atprotoBlocks: true)).blocks().map(\.cid) == expected)
    }

    @Test func aBadBlockAfterAGoodGuessIsReportedAsOnePassWould() throws {
        var (bytes, _) = Self.file(decoys: 20)
        let cut = bytes.count / 2
        bytes[bytes.count - 10] ^= 0x40
        var inOrder: DataError?
        do { _ = try Self.inOrder(bytes) } catch { inOrder = error as? DataError }
        var parted: DataError?
        do { _ = try Self.cut(bytes, at: [cut]) } catch { parted = error as? DataError }
        #expect(inOrder?.code == .cidMismatch)
        #expect(parted?.code == inOrder?.code && parted?.blockIndex == inOrder?.blockIndex && parted?.offset == inOrder?.offset)
    }
}

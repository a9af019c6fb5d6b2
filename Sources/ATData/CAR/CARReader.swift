import Dispatch
import Foundation
import Synchronization

/// Reads a CAR v1 file held in memory.
///
/// The header is parsed on creation. Blocks are read in order; by default each
/// is checked against its CID, with the hashing spread over the machine's
/// cores. Blocks are views into the file's bytes, so reading makes no copy per
/// block.
public struct CARReader: Sendable {
    /// The parsed header.
    public let header: CARHeader
    /// The whole file.
    public let bytes: [UInt8]
    /// The options in force.
    public let options: CAROptions
    private let firstSection: Int

    /// Parses the header of `bytes`.
    public init(_ bytes: [UInt8], options: CAROptions = .default) throws(DataError) {
        let (header, end) = try bytes.withBytes { (buffer) throws(DataError) in
            try CARFraming.readHeader(buffer, options: options)
        }
        self.header = header
        self.bytes = bytes
        self.options = options
        self.firstSection = end
    }

    /// Calls `body` with each block's CID and bytes, in file order. When
    /// ``CAROptions/verifyBlocks`` is set, every block is checked before the
    /// first call. The buffer is valid only during the call. Returns the number
    /// of blocks.
    @discardableResult
    public func forEachBlock(_ body: (CID, UnsafeRawBufferPointer) throws(DataError) -> Void) throws(DataError) -> Int {
        try bytes.withBytes { (buffer) throws(DataError) -> Int in
            guard options.verifyBlocks else {
                // Nothing to check first: frame and hand over in one pass.
                var offset = firstSection
                var index = 0
                while offset < buffer.count {
                    let section = try CARFraming.readSection(buffer, at: offset, index: index, options: options)
                    try body(section.cid, UnsafeRawBufferPointer(rebasing: buffer[section.data]))
                    offset = section.end
                    index += 1
                }
                return index
            }
            let sections = try readSections(buffer)
            for section in sections {
                try body(section.cid, UnsafeRawBufferPointer(rebasing: buffer[section.data]))
            }
            return sections.count
        }
    }

    /// Every block, in file order; each checked when ``CAROptions/verifyBlocks`` is set.
    public func blocks() throws(DataError) -> [CARBlock] {
        let sections = try bytes.withBytes { (buffer) throws(DataError) in try readSections(buffer) }
        return sections.map { CARBlock(cid: $0.cid, data: bytes[$0.data]) }
    }

    /// Reads all blocks into a dictionary by CID. Duplicate blocks keep the first.
    public func blockMap() throws(DataError) -> [CID: ArraySlice<UInt8>] {
        var map = [CID: ArraySlice<UInt8>]()
        for block in try blocks() where map[block.cid] == nil { map[block.cid] = block.data }
        return map
    }

    /// Frames every section, then checks the blocks when asked to.
    private func readSections(_ buffer: UnsafeRawBufferPointer) throws(DataError) -> [CARFraming.Section] {
        if options.verifyBlocks { return try Self.readAndVerify(buffer, from: firstSection, options: options) }
        var sections = [CARFraming.Section]()
        var offset = firstSection
        while offset < buffer.count {
            let section = try CARFraming.readSection(buffer, at: offset, index: sections.count, options: options)
            sections.append(section)
            offset = section.end
        }
        return sections
    }

    /// The fewest blocks worth splitting across threads.
    static let parallelThreshold = 2048

    /// Finds where each section starts (a length prefix is all that one pass
    /// must read in order), then parses each CID and checks each block on
    /// every core. The error is the one for the first bad section in file
    /// order, as a single pass would find it.
    static func readAndVerify(_ buffer: UnsafeRawBufferPointer, from first: Int, options: CAROptions) throws(DataError) -> [CARFraming.Section] {
        var starts = [Int]()
        starts.reserveCapacity((buffer.count - first) / 128)
        var framingError: DataError?
        var offset = first
        while offset < buffer.count {
            do {
                starts.append(offset)
                offset = try CARFraming.sectionEnd(buffer, at: offset, index: starts.count - 1, options: options)
            } catch {
                starts.removeLast()
                framingError = error
                break
            }
        }
        let count = starts.count
        let workers = count < parallelThreshold ? 1 : max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
        let chunk = 512
        let chunks = (count + chunk - 1) / chunk
        let progress = Progress()
        let atproto = options.atprotoBlocks
        let framing = {
            var framing = options
            framing.verifyBlocks = false
            return framing
        }()
        let sections = [CARFraming.Section](unsafeUninitializedCapacity: count) { out, initialized in
            starts.withUnsafeBufferPointer { starts in
                nonisolated(unsafe) let out = out
                nonisolated(unsafe) let starts = starts
                nonisolated(unsafe) let buffer = buffer
                let work: @Sendable (Int) -> Void = { _ in
                    while true {
                        let c = progress.next.wrappingAdd(1, ordering: .relaxed).oldValue
                        guard c < chunks else { return }
                        for i in (c * chunk)..<min((c + 1) * chunk, count) {
                            // Every slot is filled, a failed one with a stand-in,
                            // so that the array is whole either way.
                            var section = CARFraming.Section(cid: placeholder, start: starts[i], data: 0..<0)
                            if i < progress.firstFailure.load(ordering: .relaxed) {
                                if let parsed = try? CARFraming.readSection(buffer, at: starts[i], index: i, options: framing),
                                    (try? check(parsed, in: buffer, atproto: atproto)) != nil
                                {
                                    section = parsed
                                } else {
                                    _ = progress.firstFailure.min(i, ordering: .relaxed)
                                }
                            }
                            (out.baseAddress! + i).initialize(to: section)
                        }
                    }
                }
                if workers == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
            }
            initialized = count
        }
        let bad = progress.firstFailure.load(ordering: .relaxed)
        if bad != .max {
            // Again, alone, for the error itself.
            let start = starts[bad]
            let section = try CARFraming.readSection(buffer, at: start, index: bad, options: framing)
            do {
                try check(section, in: buffer, atproto: atproto)
            } catch {
                throw DataError(error.code, error.message, offset: start, blockIndex: bad)
            }
        }
        if let framingError { throw framingError }
        return sections
    }

    /// Stands in for the CID of a section that failed, in an array that is
    /// then thrown away.
    private static let placeholder = CID(codec: .raw, sha256Digest: SHA256Digest(hashing: UnsafeRawBufferPointer(start: nil, count: 0)))

    /// The workers' shared state: the next chunk to take, and the first
    /// failing block (`Int.max` while none has failed).
    private final class Progress: Sendable {
        let next = Atomic<Int>(0)
        let firstFailure = Atomic<Int>(.max)
    }

    /// One block's checks.
    @inline(__always)
    private static func check(_ section: CARFraming.Section, in buffer: UnsafeRawBufferPointer, atproto: Bool) throws(DataError) {
        let data = UnsafeRawBufferPointer(rebasing: buffer[section.data])
        if atproto, !section.cid.isATProtoBlessed {
            throw DataError(.invalidCID, "\(section.cid) is not an atproto CID (CIDv1, sha-256, dag-cbor or raw; codec here: \(section.cid.codec))")
        }
        try section.cid.verify(data)
        if atproto, section.cid.codec == .dagCBOR { try DAGCBOR.validate(data) }
    }
}

import Dispatch
import Foundation

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
        var framing = options
        framing.verifyBlocks = false
        var sections = [CARFraming.Section]()
        var offset = firstSection
        while offset < buffer.count {
            let section = try CARFraming.readSection(buffer, at: offset, index: sections.count, options: framing)
            sections.append(section)
            offset = section.end
        }
        if options.verifyBlocks { try Self.verify(sections, in: buffer) }
        return sections
    }

    /// The fewest blocks worth splitting across threads.
    static let parallelThreshold = 2048

    /// Checks each section's data against its CID, spread over the cores. The
    /// error is the one for the first bad block in file order.
    static func verify(_ sections: [CARFraming.Section], in buffer: UnsafeRawBufferPointer) throws(DataError) {
        let workers = sections.count < parallelThreshold ? 1 : max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
        let chunk = (sections.count + workers - 1) / max(workers, 1)
        // The first failing index per worker, or Int.max.
        var firstFailure = [Int](repeating: .max, count: workers)
        sections.withUnsafeBufferPointer { all in
            firstFailure.withUnsafeMutableBufferPointer { failures in
                nonisolated(unsafe) let all = all
                nonisolated(unsafe) let failures = failures
                nonisolated(unsafe) let buffer = buffer
                let work: @Sendable (Int) -> Void = { worker in
                    let range = (worker * chunk)..<min((worker + 1) * chunk, all.count)
                    for i in range {
                        let section = all[i]
                        if (try? section.cid.verify(UnsafeRawBufferPointer(rebasing: buffer[section.data]))) == nil {
                            failures[worker] = i
                            return
                        }
                    }
                }
                if workers == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
            }
        }
        guard let bad = firstFailure.min(), bad != .max else { return }
        let section = sections[bad]
        do {
            try section.cid.verify(UnsafeRawBufferPointer(rebasing: buffer[section.data]))
        } catch {
            throw DataError(error.code, error.message, offset: section.start, blockIndex: bad)
        }
    }
}

import Foundation

/// Reads a CAR v1 file held in memory.
///
/// The header is parsed on creation. Blocks are read in order; by default each
/// is checked against its CID, with the hashing spread over the machine's
/// cores. ``forEachBlock(_:)`` lends each block in place; ``blocks()`` shares
/// an array's storage, and copies each block of a mapped file.
public struct CARReader: Sendable {
    /// The parsed header.
    public let header: CARHeader
    /// The whole file.
    public let bytes: FileBytes
    /// The options in force.
    public let options: CAROptions
    private let firstSection: Int

    /// Parses the header of `bytes`.
    public init(_ bytes: [UInt8], options: CAROptions = .default) throws(DataError) {
        try self.init(FileBytes(bytes), options: options)
    }

    /// Parses the header of `file`, which the reader holds on to and reads in
    /// place: a mapped file is never copied whole.
    public init(_ file: FileBytes, options: CAROptions = .default) throws(DataError) {
        let (header, end) = try file.withBytes { (buffer) throws(DataError) in
            try CARFraming.readHeader(buffer, options: options)
        }
        self.header = header
        self.bytes = file
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
            var count = 0
            for run in try readSections(buffer) {
                for section in run {
                    try body(section.cid, UnsafeRawBufferPointer(rebasing: buffer[section.data]))
                }
                count += run.count
            }
            return count
        }
    }

    /// Every block, in file order; each checked when ``CAROptions/verifyBlocks`` is set.
    public func blocks() throws(DataError) -> [CARBlock] {
        let sections = try bytes.withBytes { (buffer) throws(DataError) in try readSections(buffer) }
        return sections.joined().map { CARBlock(cid: $0.cid, data: bytes[$0.data]) }
    }

    /// Reads all blocks into a dictionary by CID. Duplicate blocks keep the first.
    public func blockMap() throws(DataError) -> [CID: ArraySlice<UInt8>] {
        var map = [CID: ArraySlice<UInt8>]()
        for block in try blocks() where map[block.cid] == nil { map[block.cid] = block.data }
        return map
    }

    /// Frames every section, then checks the blocks when asked to. The
    /// sections come in runs, in file order.
    private func readSections(_ buffer: UnsafeRawBufferPointer) throws(DataError) -> [[CARFraming.Section]] {
        if options.verifyBlocks { return try Self.readAndVerify(buffer, from: firstSection, options: options) }
        return [try Self.readInOrder(buffer, from: firstSection, options: options, checking: false)]
    }

    /// One block's checks.
    @inline(__always)
    static func check(_ section: CARFraming.Section, in buffer: UnsafeRawBufferPointer, atproto: Bool) throws(DataError) {
        let data = UnsafeRawBufferPointer(rebasing: buffer[section.data])
        if atproto, !section.cid.isATProtoBlessed {
            throw DataError(.invalidCID, "\(section.cid) is not an atproto CID (CIDv1, sha-256, dag-cbor or raw; codec here: \(section.cid.codec))")
        }
        try section.cid.verify(data)
        if atproto, section.cid.codec == .dagCBOR { try DAGCBOR.validate(data) }
    }
}

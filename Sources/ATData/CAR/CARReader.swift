/// Reads a CAR v1 file held in memory.
///
/// The header is parsed on creation. Blocks are read in order; by default each
/// is checked against its CID. Blocks are views into the file's bytes, so
/// reading makes no copy per block.
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

    /// Calls `body` with each block's CID and bytes, in file order, checking each
    /// block first when ``CAROptions/verifyBlocks`` is set. The buffer is valid
    /// only during the call. Returns the number of blocks.
    @discardableResult
    public func forEachBlock(_ body: (CID, UnsafeRawBufferPointer) throws(DataError) -> Void) throws(DataError) -> Int {
        try bytes.withBytes { (buffer) throws(DataError) -> Int in
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
    }

    /// Every block, in file order; each checked when ``CAROptions/verifyBlocks`` is set.
    public func blocks() throws(DataError) -> [CARBlock] {
        var result = [CARBlock]()
        try bytes.withBytes { (buffer) throws(DataError) in
            var offset = firstSection
            var index = 0
            while offset < buffer.count {
                let section = try CARFraming.readSection(buffer, at: offset, index: index, options: options)
                result.append(CARBlock(cid: section.cid, data: bytes[section.data]))
                offset = section.end
                index += 1
            }
        }
        return result
    }

    /// Reads all blocks into a dictionary by CID. Duplicate blocks keep the first.
    public func blockMap() throws(DataError) -> [CID: ArraySlice<UInt8>] {
        var map = [CID: ArraySlice<UInt8>]()
        for block in try blocks() where map[block.cid] == nil { map[block.cid] = block.data }
        return map
    }
}

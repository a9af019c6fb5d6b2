import ATData

/// The blocks of a CAR file held in memory, read in place: a read-only
/// ``BlockStore`` that indexes the file once and copies a block only when it
/// is asked for.
public struct CARBlockStore: BlockStore {
    private let bytes: [UInt8]
    private let index: [CID: Range<Int>]
    /// The CAR's header.
    public let header: CARHeader
    /// The number of block sections in the file, duplicates included.
    public let sections: Int

    /// Indexes the blocks of `car`. By default blocks are not checked against
    /// their CIDs here (``Repository/open(car:key:)`` hashes each block it
    /// uses); `options` can ask for that, and for atproto's block rules, all
    /// on every core before indexing.
    public init(car: [UInt8], options: CAROptions = CAROptions(verifyBlocks: false)) throws(DataError) {
        let reader = try CARReader(car, options: options)
        var index = [CID: Range<Int>]()
        index.reserveCapacity(car.count / 160)
        let sections = try car.withUnsafeBytes { base in
            Result { () throws(DataError) in
                try reader.forEachBlock { cid, data in
                    let start = data.baseAddress! - base.baseAddress!
                    if index[cid] == nil { index[cid] = start..<(start + data.count) }
                }
            }
        }.get()
        self.bytes = car
        self.index = index
        self.sections = sections
        self.header = reader.header
    }

    public func get(_ cid: CID) -> [UInt8]? { index[cid].map { Array(bytes[$0]) } }

    /// Lends the block's bytes in place.
    public func withBlock<R>(_ cid: CID, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let range = index[cid] else { throw RepoError(.missingBlock, "block \(cid) is missing") }
        return try bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    /// Not supported: the store is read-only.
    public func put(_ cid: CID, _ bytes: [UInt8]) throws {
        throw RepoError(.malformedBlock, "a CAR block store is read-only")
    }

    /// Whether the file holds the block `cid`.
    public func contains(_ cid: CID) -> Bool { index[cid] != nil }

    /// The number of distinct blocks.
    public var count: Int { index.count }
}

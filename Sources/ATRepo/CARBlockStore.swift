import ATData

/// The blocks of a CAR file held in memory, read in place: a read-only
/// ``BlockStore`` that indexes the file once and copies a block only when it
/// is asked for.
public struct CARBlockStore: BlockStore {
    private let bytes: [UInt8]
    private let index: [CID: Range<Int>]
    /// The CAR's header.
    public let header: CARHeader

    /// Indexes the blocks of `car`. Blocks are not checked against their
    /// CIDs here; ``Repository/open(car:key:)`` hashes each block it uses.
    public init(car: [UInt8]) throws(DataError) {
        let reader = try CARReader(car, options: CAROptions(verifyBlocks: false))
        var index = [CID: Range<Int>]()
        index.reserveCapacity(car.count / 128)
        try car.withUnsafeBytes { base in
            Result { () throws(DataError) in
                try reader.forEachBlock { cid, data in
                    let start = data.baseAddress! - base.baseAddress!
                    if index[cid] == nil { index[cid] = start..<(start + data.count) }
                }
            }
        }.get()
        self.bytes = car
        self.index = index
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

    /// The number of distinct blocks.
    public var count: Int { index.count }
}

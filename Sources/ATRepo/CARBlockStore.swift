import ATData

/// The blocks of a CAR file held in memory, read in place: a read-only
/// ``BlockStore`` that indexes the file once and copies a block only when it
/// is asked for.
public struct CARBlockStore: BlockStore {
    private let bytes: FileBytes
    private let index: CIDIndex
    /// The CAR's header.
    public let header: CARHeader
    /// The number of block sections in the file, duplicates included.
    public let sections: Int

    /// Indexes the blocks of `car`. By default blocks are not checked against
    /// their CIDs here (``Repository/open(car:key:)`` hashes each block it
    /// uses); `options` can ask for that, and for atproto's block rules, all
    /// on every core before indexing.
    public init(car: [UInt8], options: CAROptions = CAROptions(verifyBlocks: false)) throws(DataError) {
        try self.init(car: FileBytes(car), options: options)
    }

    /// Indexes the blocks of `car`, a file read in place, as
    /// ``init(car:options:)-([UInt8],_)`` does.
    public init(car: FileBytes, options: CAROptions = CAROptions(verifyBlocks: false)) throws(DataError) {
        let reader = try CARReader(car, options: options)
        var cids = [CID](), ranges = [Range<Int>]()
        cids.reserveCapacity(car.count / 160)
        ranges.reserveCapacity(car.count / 160)
        let sections = try car.withUnsafeBytes { base in
            Result { () throws(DataError) in
                try reader.forEachBlock { cid, data in
                    let start = data.baseAddress! - base.baseAddress!
                    cids.append(cid)
                    ranges.append(start..<(start + data.count))
                }
            }
        }.get()
        self.bytes = car
        self.index = CIDIndex(cids: cids, ranges: ranges)
        self.sections = sections
        self.header = reader.header
    }

    public func get(_ cid: CID) -> [UInt8]? { index.range(of: cid).map { Array(bytes[$0]) } }

    /// Lends the block's bytes in place.
    public func withBlock<R>(_ cid: CID, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let range = index.range(of: cid) else { throw RepoError(.missingBlock, "block \(cid) is missing") }
        return try bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    /// Lends the whole file and its index, for walks that read many blocks in place.
    func withFile<R>(_ body: (UnsafeRawBufferPointer, CIDIndex) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { try body($0, index) }
    }

    /// Not supported: the store is read-only.
    public func put(_ cid: CID, _ bytes: [UInt8]) throws {
        throw RepoError(.malformedBlock, "a CAR block store is read-only")
    }

    /// Whether the file holds the block `cid`.
    public func contains(_ cid: CID) -> Bool { index.range(of: cid) != nil }

    /// The number of distinct blocks.
    public var count: Int { index.count }
}

/// Where each block of a CAR is, by CID: an open-addressing table of
/// section numbers, probed linearly, at most half full. It is built once and
/// only read, from any thread; a lookup touches one small array and then the
/// CID it finds, where a `Dictionary` of CIDs was most of the cost of
/// indexing a large file. The slots come from `hashValue`, which Swift seeds
/// per process, so a file cannot be made to collide.
struct CIDIndex: Sendable {
    private let cids: [CID]
    private let ranges: [Range<Int>]
    /// Section numbers; -1 marks an empty slot.
    private let slots: [Int32]
    private let mask: Int
    /// The number of distinct CIDs (of a CID given twice, the first counts).
    let count: Int

    init(cids: [CID], ranges: [Range<Int>]) {
        var size = 16
        while size < cids.count * 2 { size <<= 1 }
        let mask = size - 1
        var count = 0
        let slots = [Int32](unsafeUninitializedCapacity: size) { table, initialized in
            table.initialize(repeating: -1)
            initialized = size
            for (n, cid) in cids.enumerated() {
                var i = cid.hashValue & mask
                while table[i] >= 0, cids[Int(table[i])] != cid { i = (i + 1) & mask }
                if table[i] < 0 {
                    table[i] = Int32(n)
                    count += 1
                }
            }
        }
        self.cids = cids
        self.ranges = ranges
        self.slots = slots
        self.mask = mask
        self.count = count
    }

    /// Where the block `cid` is in the file, or `nil`.
    func range(of cid: CID) -> Range<Int>? {
        var i = cid.hashValue & mask
        while true {
            let n = slots[i]
            if n < 0 { return nil }
            if cids[Int(n)] == cid { return ranges[Int(n)] }
            i = (i + 1) & mask
        }
    }
}

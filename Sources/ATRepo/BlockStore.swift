import ATData
import Synchronization

/// Where repository blocks live: records, MST nodes and commits, by CID.
///
/// The in-memory ``MemoryBlockStore`` is here; the server adds SQLite.
public protocol BlockStore: Sendable {
    /// The bytes of the block `cid`, or `nil` when it is not stored.
    func get(_ cid: CID) throws -> [UInt8]?
    /// Stores `bytes` as the block `cid`.
    func put(_ cid: CID, _ bytes: [UInt8]) throws
}

extension BlockStore {
    /// The bytes of `cid`, or a ``RepoError/Code/missingBlock`` error.
    public func require(_ cid: CID) throws -> [UInt8] {
        guard let bytes = try get(cid) else { throw RepoError(.missingBlock, "block \(cid) is missing") }
        return bytes
    }
}

/// Blocks in memory, safe to share across tasks.
public final class MemoryBlockStore: BlockStore {
    private let blocks = Mutex<[CID: [UInt8]]>([:])

    /// An empty store.
    public init() {}

    /// A store holding `blocks`.
    public init(_ blocks: [CID: [UInt8]]) {
        self.blocks.withLock { $0 = blocks }
    }

    public func get(_ cid: CID) -> [UInt8]? { blocks.withLock { $0[cid] } }
    public func put(_ cid: CID, _ bytes: [UInt8]) { blocks.withLock { $0[cid] = bytes } }

    /// The number of blocks held.
    public var count: Int { blocks.withLock { $0.count } }
}

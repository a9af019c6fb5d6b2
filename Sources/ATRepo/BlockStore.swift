import ATData
import ATSyntax
import Synchronization

/// Where repository blocks live: records, MST nodes and commits, by CID.
///
/// The in-memory ``MemoryBlockStore`` is here; the server adds SQLite.
public protocol BlockStore: Sendable {
    /// The bytes of the block `cid`, or `nil` when it is not stored.
    func get(_ cid: CID) throws -> [UInt8]?
    /// Stores `bytes` as the block `cid`.
    func put(_ cid: CID, _ bytes: [UInt8]) throws
    /// Calls `body` with the bytes of `cid`, or throws ``RepoError/Code/missingBlock``.
    /// Stores that hold blocks in memory can lend them without a copy.
    func withBlock<R>(_ cid: CID, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R
}

extension BlockStore {
    /// Calls `body` with a copy of the bytes of `cid`.
    public func withBlock<R>(_ cid: CID, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try require(cid).withUnsafeBytes { try body($0) }
    }

    /// The bytes of `cid`, or a ``RepoError/Code/missingBlock`` error.
    public func require(_ cid: CID) throws -> [UInt8] {
        guard let bytes = try get(cid) else { throw RepoError(.missingBlock, "block \(cid) is missing", cid: cid) }
        return bytes
    }
}

/// A block store that remembers the revision in which each block was
/// (last) written, so that it can answer "what is new since revision R".
public protocol RevisionedBlockStore: BlockStore {
    /// Stores `bytes` as the block `cid`, written in revision `rev`.
    func put(_ cid: CID, _ bytes: [UInt8], rev: TID) throws
    /// The CIDs of the blocks written after `rev`.
    func cids(since rev: TID) throws -> Set<CID>
}

/// Blocks in memory, safe to share across tasks.
public final class MemoryBlockStore: RevisionedBlockStore {
    private struct State {
        var blocks: [CID: [UInt8]] = [:]
        var revs: [CID: TID] = [:]
    }
    private let state = Mutex(State())

    /// An empty store.
    public init() {}

    /// A store holding `blocks`.
    public init(_ blocks: [CID: [UInt8]]) {
        state.withLock { $0.blocks = blocks }
    }

    public func get(_ cid: CID) -> [UInt8]? { state.withLock { $0.blocks[cid] } }
    public func put(_ cid: CID, _ bytes: [UInt8]) { state.withLock { $0.blocks[cid] = bytes } }

    public func put(_ cid: CID, _ bytes: [UInt8], rev: TID) {
        state.withLock {
            $0.blocks[cid] = bytes
            $0.revs[cid] = rev
        }
    }

    public func cids(since rev: TID) -> Set<CID> {
        state.withLock { Set($0.revs.filter { $0.value > rev }.keys) }
    }

    /// The number of blocks held.
    public var count: Int { state.withLock { $0.blocks.count } }
}

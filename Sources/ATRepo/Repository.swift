import ATCrypto
import ATData
import ATSyntax
import Dispatch
import Foundation
import Synchronization

/// A repository at one commit: the signed commit, its MST, and the blocks
/// they link to.
public struct Repository: Sendable {
    /// The commit.
    public let commit: Commit
    /// The CID of the commit block.
    public let commitCID: CID
    /// The tree of records.
    public let mst: MST
    /// The blocks: records, nodes and the commit.
    public let store: any BlockStore

    /// The account.
    public var did: DID { commit.did }

    /// A repository from parts that are already verified — a commit this
    /// process signed, say, with its blocks moved to another store. Nothing
    /// is checked; use ``open(commit:store:key:)`` for anything received.
    public init(trusting commit: Commit, commitCID: CID, mst: MST, store: any BlockStore) {
        self.commit = commit
        self.commitCID = commitCID
        self.mst = mst
        self.store = store
    }

    /// Opens and fully verifies a repository CAR held in memory: the commit
    /// (and its signature, when `key` is given), every MST node's hash, shape,
    /// order and layers, every key as a repository path, and every record's
    /// presence, hash and encoding. Blocks the tree does not use are ignored;
    /// each used block is hashed once.
    public static func open(car bytes: [UInt8], key: (any PublicKey)? = nil) throws -> Repository {
        try open(car: FileBytes(bytes), key: key)
    }

    /// Opens and fully verifies a repository CAR read in place (a mapped
    /// file, say), as ``open(car:key:)-([UInt8],_)`` does.
    public static func open(car bytes: FileBytes, key: (any PublicKey)? = nil) throws -> Repository {
        let store = try CARBlockStore(car: bytes)
        guard let root = store.header.roots.first else {
            throw RepoError(.malformedBlock, "the CAR has no root")
        }
        return try open(commit: root, store: store, key: key)
    }

    /// Opens and fully verifies the repository whose commit is `commitCID`.
    public static func open(commit commitCID: CID, store: some BlockStore, key: (any PublicKey)? = nil) throws -> Repository {
        let commitBytes = try store.require(commitCID)
        guard CID.compute(commitBytes, codec: .dagCBOR) == commitCID else {
            throw RepoError(.commitHashMismatch, "commit \(commitCID) does not hash to its CID")
        }
        let commit = try Commit(decoding: commitBytes)
        if let key { try commit.verify(with: key) }
        let mst = try MST.load(root: commit.data, from: store)
        var collections = KnownCollections()
        var values = [CID]()
        try mst.walk { key, value in
            try RepoPath.validate(key, collections: &collections)
            values.append(value)
        }
        try checkRecords(values, in: store)
        return Repository(trusting: commit, commitCID: commitCID, mst: mst, store: store)
    }

    /// Checks that every record is present, hashes to its CID and, for
    /// `dag-cbor`, decodes; the work is spread over the cores.
    static func checkRecords(_ values: [CID], in store: some BlockStore) throws {
        let workers = values.count < 4096 ? 1 : max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
        let chunk = (values.count + workers - 1) / workers
        let failures = Mutex<[Int: any Error]>([:])
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for i in (worker * chunk)..<min(values.count, (worker + 1) * chunk) {
                let value = values[i]
                do {
                    try store.withBlock(value) { record in try checkRecord(value, record) }
                } catch {
                    failures.withLock { $0[i] = error }
                    return
                }
            }
        }
        // Report the first bad record in key order.
        if let first = failures.withLock({ $0.min { $0.key < $1.key } }) { throw first.value }
    }

    /// The record at `path`, decoded, or `nil`.
    public func record(_ path: RepoPath) throws -> DataValue? {
        guard let cid = try mst.get(path.key) else { return nil }
        return try DAGCBOR.decode(try store.require(cid))
    }

    /// The record at `path`, decoded into a `Decodable` type (`nil` when absent).
    public func record<T: Decodable>(_ path: RepoPath, as type: T.Type) throws -> T? {
        guard let cid = try mst.get(path.key) else { return nil }
        return try DAGCBORDecoder().decode(type, from: try store.require(cid))
    }

    /// Opens and fully verifies a repository CAR as it streams in (an HTTP
    /// body, say). As with ``open(car:key:)``, each block the tree uses is
    /// hashed once, during verification, not also on arrival.
    public static func open<Source: AsyncSequence>(
        stream chunks: Source, key: (any PublicKey)? = nil, isolation: isolated (any Actor)? = #isolation
    ) async throws -> Repository where Source.Element: Collection<UInt8> {
        var reader = CARStreamReader(chunks, options: CAROptions(verifyBlocks: false))
        let header = try await reader.header(isolation: isolation)
        guard let root = header.roots.first else { throw RepoError(.malformedBlock, "the CAR has no root") }
        let store = MemoryBlockStore()
        while let block = try await reader.next(isolation: isolation) { store.put(block.cid, Array(block.data)) }
        return try open(commit: root, store: store, key: key)
    }

    /// Every record's path and CID, in key order.
    public func recordCIDs() throws -> [(path: RepoPath, cid: CID)] {
        var out = [(path: RepoPath, cid: CID)]()
        try mst.walk { key, value in out.append((try RepoPath(key), value)) }
        return out
    }
}

extension Repository {
    /// The record blocks of a CAR by path: from the MST when the CAR is a
    /// whole repository, else (a partial CAR, a proof) every DAG-CBOR block
    /// that is a map with a `$type`, named by its CID.
    public static func recordBlocks(car bytes: [UInt8]) throws -> [(path: String, bytes: [UInt8])] {
        if let repository = try? Repository.open(car: bytes) {
            return try repository.recordCIDs().map { ($0.path.description, try repository.store.require($0.cid)) }
        }
        var records = [(path: String, bytes: [UInt8])]()
        _ = try CARReader(bytes).forEachBlock { (cid, data) throws(DataError) in
            guard cid.codec == .dagCBOR, case .map(let map)? = try? DAGCBOR.decode(data), case .string? = map["$type"] else { return }
            records.append((cid.description, Array(data)))
        }
        return records
    }
}

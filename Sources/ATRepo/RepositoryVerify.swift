import ATCrypto
import ATData
import Dispatch
import Foundation
import Synchronization

/// What ``Repository/verify(car:key:)`` found in a repository CAR.
public struct RepositoryCARSummary: Sendable {
    /// The commit, checked.
    public let commit: Commit
    /// The CID of the commit block (the CAR's first root).
    public var commitCID: CID { roots[0] }
    /// The CAR header's roots.
    public let roots: [CID]
    /// The block sections in the file, duplicates included.
    public let blocks: Int
    /// The tree's entries: one per record path.
    public let records: Int
}

extension Repository {
    /// Verifies a whole repository CAR held in memory, as ``open(car:key:)``
    /// does, without building the tree, and more strictly: every block in
    /// the file must be an atproto block (a CIDv1 with SHA-256, `dag-cbor` or
    /// `raw`, hashing to its CID, canonical DAG-CBOR when `dag-cbor`), all
    /// checked on every core in one pass. Then the commit (with its signature
    /// when `key` is given), every node of the tree (hash, encoding, order,
    /// layers, prefixes) and every record path, and that each record is there.
    ///
    /// - Throws: ``DataError`` for a bad block, ``RepoError`` for a bad commit
    ///   or tree or a missing record, ``CryptoError`` for a bad signature.
    public static func verify(car bytes: [UInt8], key: (any PublicKey)? = nil) throws -> RepositoryCARSummary {
        try verify(car: FileBytes(bytes), key: key)
    }

    /// Verifies a repository CAR read in place (a mapped file, say), as
    /// ``verify(car:key:)-([UInt8],_)`` does.
    public static func verify(car bytes: FileBytes, key: (any PublicKey)? = nil) throws -> RepositoryCARSummary {
        let store = try CARBlockStore(car: bytes, options: CAROptions(verifyBlocks: true, atprotoBlocks: true))
        guard let root = store.header.roots.first else {
            throw RepoError(.malformedBlock, "the CAR has no root")
        }
        guard root.codec == .dagCBOR else {
            throw RepoError(.nonBlessedCID, "the commit \(root) is not a dag-cbor block")
        }
        // Every block's hash is checked above, the commit's included.
        let commit = try Commit(decoding: try store.require(root))
        if let key { try commit.verify(with: key) }
        let records = try verifyTree(root: commit.data, store: store)
        return RepositoryCARSummary(commit: commit, roots: store.header.roots, blocks: store.sections, records: records)
    }

    /// Checks the tree under `root` as ``MST/walkVerifying(root:from:node:leaf:)``
    /// does, and each entry's path and record block, with the subtrees shared
    /// among the cores: the top of the tree is checked here, level by level,
    /// until there are enough subtrees to go round. Every block's hash has
    /// been checked already. Returns the number of entries.
    static func verifyTree(root: CID, store: CARBlockStore) throws -> Int {
        try MST.checkRoot(root)
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
        var frontier = [MST.Subtree(cid: root, layer: nil, lower: nil, upper: nil)]
        var collections = KnownCollections()
        var records = 0
        while !frontier.isEmpty, workers > 1, frontier.count < 16 * workers {
            var next = [MST.Subtree]()
            for subtree in frontier {
                let node = try MST.check(subtree, store: store, hashChecked: true)
                for (key, value) in zip(node.keys, node.values) {
                    try checkEntry(key[...], value, store: store, collections: &collections)
                    records += 1
                }
                next += node.children.compactMap { $0 }
            }
            frontier = next
        }
        let subtrees = frontier
        let next = Atomic<Int>(0)
        let outcome = Mutex<(records: Int, failure: (index: Int, error: any Error)?)>((records, nil))
        DispatchQueue.concurrentPerform(iterations: min(workers, max(subtrees.count, 1))) { _ in
            var collections = KnownCollections()
            var count = 0
            while true {
                let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard i < subtrees.count else { break }
                do {
                    try MST.visitInPlace(subtrees[i], store: store) { key, value in
                        try checkEntry(key, value, store: store, collections: &collections)
                        count += 1
                    }
                } catch {
                    // Report the failure of the first subtree in key order.
                    outcome.withLock { if $0.failure.map({ $0.index > i }) ?? true { $0.failure = (i, error) } }
                    break
                }
            }
            outcome.withLock { $0.records += count }
        }
        let (total, failure) = outcome.withLock { $0 }
        if let failure { throw failure.error }
        return total
    }

    /// One entry: a valid `collection/rkey` path whose record is in the file.
    private static func checkEntry(_ key: ArraySlice<UInt8>, _ value: CID, store: CARBlockStore, collections: inout KnownCollections) throws {
        try RepoPath.validate(key, collections: &collections)
        guard store.contains(value) else {
            throw RepoError(.missingBlock, "record \(value) at \(String(decoding: key, as: UTF8.self)) is missing", cid: value)
        }
    }
}

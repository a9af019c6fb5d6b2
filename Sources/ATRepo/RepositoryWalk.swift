import ATCrypto
import ATData
import ATSyntax

extension Repository {
    /// Verifies the repository whose commit is `commitCID` as
    /// ``open(commit:store:key:)`` does — the commit's hash, its DID, its
    /// signature with `key`, every node and record — but one block at a time,
    /// holding only the path from the root: for repositories of any size
    /// kept in a store on disk.
    ///
    /// - Parameters:
    ///   - did: the account the commit must name.
    ///   - node: called with each MST node's CID and bytes once checked.
    ///   - record: called with each record's MST key (a valid `collection/rkey`
    ///     path; ``RepoPath/init(_:)`` parses it), CID and bytes once checked,
    ///     in key order (a record held at several paths comes once per path).
    /// - Returns: the verified commit.
    /// - Throws: ``RepoError`` (a missing block is ``RepoError/Code/missingBlock``)
    ///   or ``CryptoError`` for a bad signature.
    public static func walkVerifying(
        commit commitCID: CID, did: DID, store: some BlockStore, key: some PublicKey,
        node: (CID, [UInt8]) throws -> Void, record: (_ key: [UInt8], CID, [UInt8]) throws -> Void
    ) throws -> Commit {
        let commitBytes = try store.require(commitCID)
        guard CID.compute(commitBytes, codec: .dagCBOR) == commitCID else {
            throw RepoError(.commitHashMismatch, "commit \(commitCID) does not hash to its CID")
        }
        let commit = try Commit(decoding: commitBytes)
        guard commit.did == did else {
            throw RepoError(.didMismatch, "the commit is for \(commit.did), not \(did)")
        }
        try commit.verify(with: key)
        var collections = Set<ArraySlice<UInt8>>()
        try MST.walkVerifying(root: commit.data, from: store, node: node) { key, value in
            try RepoPath.validate(key, collections: &collections)
            let bytes = try store.require(value)
            if value.isATProtoBlessed, CID.compute(bytes, codec: value.codec) != value {
                throw RepoError(.recordHashMismatch, "record \(value) does not hash to its CID")
            }
            if value.codec == .dagCBOR {
                do { try DAGCBOR.validate(bytes) } catch {
                    throw RepoError(.malformedBlock, "record \(value) is not DAG-CBOR: \(error)")
                }
            }
            try record(key, value, bytes)
        }
        return commit
    }
}

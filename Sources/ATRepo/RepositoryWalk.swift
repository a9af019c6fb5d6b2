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
    ///     path; ``RepoPath/init(_:)`` parses it), CID and bytes once checked
    ///     (``checkRecord(_:_:)``), in key order (a record held at several
    ///     paths comes once per path).
    /// - Returns: the verified commit.
    /// - Throws: ``RepoError`` (a missing block is ``RepoError/Code/missingBlock``)
    ///   or ``CryptoError`` for a bad signature.
    public static func walkVerifying(
        commit commitCID: CID, did: DID, store: some BlockStore, key: some PublicKey,
        node: (CID, [UInt8]) throws -> Void, record: (_ key: [UInt8], CID, [UInt8]) throws -> Void
    ) throws -> Commit {
        try walkVerifying(commit: commitCID, did: did, store: store, key: key, node: node) { key, cid in
            let bytes = try store.require(cid)
            try checkRecord(cid, bytes)
            try record(key, cid, bytes)
        }
    }

    /// Verifies the commit and the tree as ``walkVerifying(commit:did:store:key:node:record:)``
    /// does, but gives each record's key and CID without reading the record:
    /// the caller reads every record it is given, in any order, and checks it
    /// with ``checkRecord(_:_:)`` (a store sorted by CID reads them faster in
    /// that order). Until then, the records are not verified.
    public static func walkVerifying(
        commit commitCID: CID, did: DID, store: some BlockStore, key: some PublicKey,
        node: (CID, [UInt8]) throws -> Void, leaf: (_ key: [UInt8], CID) throws -> Void
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
        var collections = KnownCollections()
        try MST.walkVerifying(root: commit.data, from: store, node: node) { key, value in
            try RepoPath.validate(key, collections: &collections)
            try leaf(key, value)
        }
        return commit
    }

    /// Checks a record's block: it hashes to its CID (for a CID the
    /// repository spec allows) and, for `dag-cbor`, is valid DAG-CBOR.
    public static func checkRecord(_ cid: CID, _ bytes: [UInt8]) throws(RepoError) {
        let result: Result<Void, RepoError> = bytes.withUnsafeBytes { buffer in Result { () throws(RepoError) in try checkRecord(cid, buffer) } }
        try result.get()
    }

    /// ``checkRecord(_:_:)`` on bytes read in place.
    public static func checkRecord(_ cid: CID, _ bytes: UnsafeRawBufferPointer) throws(RepoError) {
        if cid.isATProtoBlessed, CID.compute(bytes, codec: cid.codec) != cid {
            throw RepoError(.recordHashMismatch, "record \(cid) does not hash to its CID")
        }
        if cid.codec == .dagCBOR {
            do { try DAGCBOR.validate(bytes) } catch {
                throw RepoError(.malformedBlock, "record \(cid) is not DAG-CBOR: \(error)")
            }
        }
    }
}

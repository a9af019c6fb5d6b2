import ATCrypto
import ATData
import ATSyntax

/// A signed repository commit: `{did, version, data, rev, prev, sig}`.
///
/// Version 3 is written; version 2 (no `rev`) can be read and verified.
public struct Commit: Sendable, Hashable {
    /// The account.
    public var did: DID
    /// The repo format version: 3, or 2 for old repositories.
    public var version: Int
    /// The MST root.
    public var data: CID
    /// The revision, a TID that increases with every commit (absent in version 2).
    public var rev: TID?
    /// The previous commit; present (usually `null`) in version 3.
    public var prev: CID?
    /// The signature over the unsigned commit's DAG-CBOR.
    public var sig: [UInt8]
    /// Whether the block has a `prev` field; some version 2 commits lack it,
    /// and re-encoding must reproduce the signed bytes exactly.
    private var hasPrevField = true

    /// A version 3 commit, signed with `key`.
    public static func sign(did: DID, data: CID, rev: TID, prev: CID? = nil, key: some PrivateKey) throws(CryptoError) -> Commit {
        var commit = Commit(did: did, version: 3, data: data, rev: rev, prev: prev, sig: [])
        commit.sig = try key.sign(commit.unsignedBytes())
        return commit
    }

    init(did: DID, version: Int, data: CID, rev: TID?, prev: CID?, sig: [UInt8]) {
        self.did = did
        self.version = version
        self.data = data
        self.rev = rev
        self.prev = prev
        self.sig = sig
    }

    /// The bytes that are signed: the commit without `sig`.
    public func unsignedBytes() -> [UInt8] { encode(withSignature: false) }

    /// The signed commit's DAG-CBOR block.
    public func encoded() -> [UInt8] { encode(withSignature: true) }

    /// The CID of the signed commit block.
    public var cid: CID { CID.compute(encoded(), codec: .dagCBOR) }

    /// Checks the signature with the account's signing key.
    ///
    /// - Throws: ``CryptoError`` with ``CryptoError/Code/badSignature``,
    ///   ``CryptoError/Code/highS`` or ``CryptoError/Code/invalidSignatureFormat``.
    public func verify(with key: some PublicKey) throws(CryptoError) {
        try key.verify(signature: sig, for: unsignedBytes())
    }

    /// Keys in DAG-CBOR order: did, rev, sig, data, prev, version.
    private func encode(withSignature: Bool) -> [UInt8] {
        var w = DAGCBORWriter(capacity: 200)
        let hasRev = rev != nil
        let writesPrev = hasPrevField || prev != nil
        w.writeMapHeader(3 + (hasRev ? 1 : 0) + (withSignature ? 1 : 0) + (writesPrev ? 1 : 0))
        w.writeString("did")
        w.writeString(did.description)
        if let rev {
            w.writeString("rev")
            w.writeString(rev.description)
        }
        if withSignature {
            w.writeString("sig")
            w.writeBytes(sig)
        }
        w.writeString("data")
        w.writeLink(data)
        if writesPrev {
            w.writeString("prev")
            if let prev { w.writeLink(prev) } else { w.writeNull() }
        }
        w.writeString("version")
        w.writeInt(Int64(version))
        return w.bytes
    }

    /// Decodes a signed commit block (version 3, or version 2).
    public init(decoding bytes: [UInt8]) throws(RepoError) {
        let value: DataValue
        do { value = try DAGCBOR.decode(bytes) } catch {
            throw RepoError(.malformedBlock, "commit is not DAG-CBOR: \(error)")
        }
        guard case .map(let map) = value else { throw RepoError(.malformedBlock, "a commit is a map") }
        func fail(_ message: String) -> RepoError { RepoError(.malformedBlock, "commit: \(message)") }
        guard case .string(let didText)? = map["did"], let did = try? DID(didText) else { throw fail("'did' must be a DID") }
        guard case .int(let version)? = map["version"], version == 3 || version == 2 else {
            throw fail("'version' must be 3 (or 2)")
        }
        guard case .link(let data)? = map["data"] else { throw fail("'data' must be a link") }
        guard data.isATProtoBlessed, data.codec == .dagCBOR else {
            throw RepoError(.nonBlessedCID, "commit 'data' \(data) is not a CIDv1 dag-cbor SHA-256")
        }
        guard case .bytes(let sig)? = map["sig"] else { throw fail("'sig' must be bytes") }
        var rev: TID?
        switch map["rev"] {
        case .string(let text)?:
            guard let tid = try? TID(text) else { throw fail("'rev' must be a TID") }
            rev = tid
        case nil where version == 2: rev = nil
        default: throw fail("'rev' must be a TID string")
        }
        var prev: CID?
        switch map["prev"] {
        case .link(let link)?: prev = link
        case .null?: prev = nil
        case nil where version == 2: prev = nil
        default: throw fail("'prev' must be a link or null")
        }
        let known: Set<String> = ["did", "version", "data", "rev", "prev", "sig"]
        guard map.keys.allSatisfy(known.contains) else { throw fail("unexpected fields") }
        self.init(did: did, version: Int(version), data: data, rev: rev, prev: prev, sig: sig)
        hasPrevField = map["prev"] != nil
    }
}

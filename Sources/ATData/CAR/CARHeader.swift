/// The header of a CAR v1 file: its version and its root CIDs.
public struct CARHeader: Sendable, Hashable {
    /// The root CIDs; for an atproto repository, the signed commit.
    public var roots: [CID]

    /// A header with `roots`.
    public init(roots: [CID]) { self.roots = roots }

    /// Decodes and checks a header block: a DAG-CBOR map with `version: 1` and
    /// `roots`, an array of CID links.
    public init(decoding buffer: UnsafeRawBufferPointer) throws(DataError) {
        let value: DataValue
        do {
            value = try DAGCBOR.decode(buffer, limits: .init(maxDepth: 4, maxContainerCount: 1 << 16, maxStringLength: 1 << 16))
        } catch {
            throw DataError(.invalidCARHeader, "header is not valid DAG-CBOR: \(error.message)", offset: error.offset)
        }
        guard case .map(let map) = value else { throw DataError(.invalidCARHeader, "header is not a map") }
        guard case .int(let version)? = map["version"] else { throw DataError(.invalidCARHeader, "header has no integer 'version'") }
        guard version == 1 else { throw DataError(.invalidCARHeader, "unsupported CAR version \(version)") }
        guard case .array(let rootValues)? = map["roots"] else { throw DataError(.invalidCARHeader, "header has no 'roots' array") }
        var roots = [CID]()
        for root in rootValues {
            guard case .link(let cid) = root else { throw DataError(.invalidCARHeader, "a root is not a CID link") }
            roots.append(cid)
        }
        self.roots = roots
    }

    /// The header block in DAG-CBOR.
    public func encoded() -> [UInt8] {
        var writer = DAGCBORWriter(capacity: 16 + 40 * roots.count)
        writer.writeMapHeader(2)
        writer.writeString("roots")
        writer.writeArrayHeader(roots.count)
        for root in roots { writer.writeLink(root) }
        writer.writeString("version")
        writer.writeInt(1)
        return writer.bytes
    }
}

/// One block of a CAR file.
public struct CARBlock: Sendable, Hashable {
    /// The block's CID.
    public let cid: CID
    /// The block's bytes. When read from a whole file, this shares the file's storage.
    public let data: ArraySlice<UInt8>

    /// A block with its CID and bytes.
    public init(cid: CID, data: ArraySlice<UInt8>) {
        self.cid = cid
        self.data = data
    }
}

/// Options for reading CAR files.
public struct CAROptions: Sendable, Hashable {
    /// Check every block's bytes against its CID (hash function, digest length and digest).
    public var verifyBlocks: Bool
    /// The largest block section (CID plus data) accepted, in bytes.
    public var maxSectionLength: Int
    /// The largest header accepted, in bytes.
    public var maxHeaderLength: Int
    /// With ``verifyBlocks``, also check what atproto asks of every block: a
    /// CIDv1 with SHA-256 and the `dag-cbor` or `raw` codec, and canonical
    /// DAG-CBOR in each `dag-cbor` block. The checks share the hashing's pass
    /// over the cores.
    public var atprotoBlocks: Bool

    /// Options; the defaults are those of ``default``.
    public init(verifyBlocks: Bool = true, maxSectionLength: Int = 4 << 20, maxHeaderLength: Int = 64 << 10, atprotoBlocks: Bool = false) {
        self.verifyBlocks = verifyBlocks
        self.maxSectionLength = maxSectionLength
        self.maxHeaderLength = maxHeaderLength
        self.atprotoBlocks = atprotoBlocks
    }

    /// Verify blocks; 4 MiB sections; 64 KiB header.
    public static let `default` = CAROptions()
}

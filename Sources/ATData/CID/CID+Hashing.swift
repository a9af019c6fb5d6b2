import Crypto

extension CID {
    /// The CIDv1 of `data` under `codec`, with a SHA-256 multihash.
    @inlinable
    public static func compute(_ data: UnsafeRawBufferPointer, codec: Codec = .dagCBOR) -> CID {
        CID(codec: codec, sha256Digest: SHA256Digest(hashing: data))
    }

    /// The CIDv1 of `bytes` under `codec`, with a SHA-256 multihash.
    @inlinable
    public static func compute(_ bytes: some ContiguousBytesLike, codec: Codec = .dagCBOR) -> CID {
        bytes.withUnsafeBytes { compute($0, codec: codec) }
    }

    /// Checks that `data` hashes to this CID.
    ///
    /// - Throws: ``DataError/Code/unsupportedHash`` when the multihash is not a
    ///   32-byte SHA-256, ``DataError/Code/cidMismatch`` when the digest differs.
    @inlinable
    public func verify(_ data: UnsafeRawBufferPointer) throws(DataError) {
        guard case .sha256(_, _, let expected) = storage else {
            throw DataError(.unsupportedHash, "cannot check multihash 0x\(String(hashCode, radix: 16)) of \(digest.count) bytes")
        }
        guard SHA256Digest(hashing: data) == expected else {
            throw DataError(.cidMismatch, "block bytes do not hash to \(self)")
        }
    }
}

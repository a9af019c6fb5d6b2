import Crypto
import Foundation

/// A content identifier: the address of a block, made from its codec and hash.
///
/// atproto uses CIDv1 with the `dag-cbor` (records, MST nodes, commits) or `raw`
/// (blobs) codec and a SHA-256 multihash. That case is stored inline in 32
/// bytes of digest plus a codec, so CIDs cost no allocation and compare and hash
/// in a few instructions. Any other well-formed CID (CIDv0, other hashes) is
/// kept in a general form, so that it can be read and written back.
public struct CID: Sendable, Hashable, Comparable, CustomStringConvertible {
    @usableFromInline let storage: Storage

    @usableFromInline enum Storage: Sendable, Hashable {
        /// CIDv1 (or v0 when `version == 0`) with a 32-byte SHA-256 digest.
        case sha256(version: UInt8, codec: UInt64, digest: SHA256Digest)
        /// Any other multihash.
        case other(version: UInt8, codec: UInt64, hashCode: UInt64, digest: [UInt8])
    }

    @inlinable init(storage: Storage) { self.storage = storage }

    /// A CID for `digest`, a SHA-256 digest of a block with `codec`.
    public init(codec: Codec, sha256Digest digest: SHA256Digest) {
        storage = .sha256(version: 1, codec: codec.rawValue, digest: digest)
    }

    /// The CID version, 0 or 1.
    public var version: Int {
        switch storage {
        case .sha256(let v, _, _), .other(let v, _, _, _): Int(v)
        }
    }

    /// The codec of the addressed block.
    public var codec: Codec {
        switch storage {
        case .sha256(_, let c, _), .other(_, let c, _, _): Codec(rawValue: c)
        }
    }

    /// The multihash function code, `0x12` for SHA-256.
    public var hashCode: UInt64 {
        switch storage {
        case .sha256: Multihash.sha256
        case .other(_, _, let code, _): code
        }
    }

    /// The hash digest bytes.
    public var digest: [UInt8] {
        switch storage {
        case .sha256(_, _, let d): d.bytes
        case .other(_, _, _, let d): d
        }
    }

    /// Whether this is the form atproto requires for data: CIDv1, SHA-256,
    /// and the `dag-cbor` or `raw` codec.
    public var isATProtoBlessed: Bool {
        if case .sha256(1, let codec, _) = storage { return codec == Codec.dagCBOR.rawValue || codec == Codec.raw.rawValue }
        return false
    }

    /// The CID as text: base32 with a `b` prefix for v1, base58btc for v0.
    public var description: String {
        switch storage {
        case .sha256(1, let codec, var digest) where codec < 0x80:
            // The common case, written on the stack: 1, codec, 0x12, 0x20, digest.
            return withUnsafeTemporaryAllocation(byteCount: 36, alignment: 8) { out in
                out[0] = 1
                out[1] = UInt8(truncatingIfNeeded: codec)
                out[2] = 0x12
                out[3] = 0x20
                withUnsafeBytes(of: &digest) { UnsafeMutableRawBufferPointer(rebasing: out[4...]).copyMemory(from: $0) }
                return Base32.encode(UnsafeRawBufferPointer(out), prefix: UInt8(ascii: "b"))
            }
        default:
            return version == 0 ? Base58.encode(bytes) : Multibase.encode(bytes, as: .base32)
        }
    }

    /// The digest is already uniformly distributed, so a CID hashes with one
    /// multiply instead of a full SipHash round (dictionaries of CIDs are the
    /// hot path of every repository operation). Choosing digests to collide
    /// would take SHA-256 preimages.
    public func _rawHashValue(seed: Int) -> Int {
        switch storage {
        case .sha256(_, let codec, let digest):
            let mixed = (digest.w0 ^ codec ^ UInt64(bitPattern: Int64(seed))) &* 0x9E37_79B9_7F4A_7C15
            return Int(truncatingIfNeeded: mixed ^ (mixed >> 29))
        case .other:
            var hasher = Hasher()
            hasher.combine(seed)
            hash(into: &hasher)
            return hasher.finalize()
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch storage {
        case .sha256(_, let codec, let digest):
            // The digest is already uniformly distributed.
            hasher.combine(digest.w0 ^ codec)
        case .other(_, let codec, let code, let digest):
            hasher.combine(codec)
            hasher.combine(code)
            hasher.combine(digest)
        }
    }

    /// Orders CIDs by their binary form.
    public static func < (lhs: CID, rhs: CID) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}

/// A multicodec code for the content a CID addresses.
public struct Codec: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The multicodec code.
    public let rawValue: UInt64
    /// The codec with code `rawValue`.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// DAG-CBOR, `0x71`: records, MST nodes and commits.
    public static let dagCBOR = Codec(rawValue: 0x71)
    /// Raw bytes, `0x55`: blobs.
    public static let raw = Codec(rawValue: 0x55)
    /// DAG-PB, `0x70`: the codec of every CIDv0.
    public static let dagPB = Codec(rawValue: 0x70)

    public var description: String {
        switch self {
        case .dagCBOR: "dag-cbor"
        case .raw: "raw"
        case .dagPB: "dag-pb"
        default: "0x" + String(rawValue, radix: 16)
        }
    }
}

/// Multihash function codes.
public enum Multihash {
    /// SHA2-256.
    public static let sha256: UInt64 = 0x12
}

/// A 32-byte SHA-256 digest held inline as four words.
public struct SHA256Digest: Hashable, Sendable {
    @usableFromInline var w0, w1, w2, w3: UInt64

    /// Reads a digest from 32 bytes at `offset` of `buffer`.
    @inlinable
    public init(_ buffer: UnsafeRawBufferPointer, at offset: Int = 0) {
        w0 = buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        w1 = buffer.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)
        w2 = buffer.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self)
        w3 = buffer.loadUnaligned(fromByteOffset: offset + 24, as: UInt64.self)
    }

    /// The SHA-256 digest of `data`.
    @inlinable
    public init(hashing data: UnsafeRawBufferPointer) {
        var hasher = SHA256()
        hasher.update(bufferPointer: data)
        self = hasher.finalize().withUnsafeBytes { SHA256Digest($0) }
    }

    /// The SHA-256 digest of `bytes`.
    @inlinable
    public init(hashing bytes: some ContiguousBytesLike) {
        self = bytes.withUnsafeBytes { SHA256Digest(hashing: $0) }
    }

    /// The number of leading zero bits, reading the digest as a big-endian number.
    @inlinable
    public var leadingZeroBitCount: Int {
        // Word by word, with no array: this runs once per MST key.
        if w0 != 0 { return UInt64(bigEndian: w0).leadingZeroBitCount }
        if w1 != 0 { return 64 + UInt64(bigEndian: w1).leadingZeroBitCount }
        if w2 != 0 { return 128 + UInt64(bigEndian: w2).leadingZeroBitCount }
        if w3 != 0 { return 192 + UInt64(bigEndian: w3).leadingZeroBitCount }
        return 256
    }

    /// The 32 digest bytes.
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        withUnsafeBytes(of: self) { raw in out.withUnsafeMutableBytes { $0.copyMemory(from: raw) } }
        return out
    }
}

/// Byte containers whose storage can be read in place.
public protocol ContiguousBytesLike {
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension ContiguousBytesLike {
    /// `withUnsafeBytes` for a body that throws ``DataError``, keeping the error type.
    @inlinable
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(DataError) -> R) throws(DataError) -> R {
        let result: Result<R, DataError> = withUnsafeBytes { buffer in
            Result { () throws(DataError) -> R in try body(buffer) }
        }
        return try result.get()
    }
}

extension Array: ContiguousBytesLike where Element == UInt8 {}
extension ArraySlice: ContiguousBytesLike where Element == UInt8 {}

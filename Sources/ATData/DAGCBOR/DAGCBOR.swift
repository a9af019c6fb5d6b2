import Foundation

/// Strict DAG-CBOR as atproto uses it: the decoder accepts only the canonical
/// form, and the encoder writes only that form.
///
/// Canonical means: integers and lengths in their shortest form; map keys are
/// text, unique, and sorted by length and then bytewise; no floats, no
/// indefinite lengths, no `undefined`; tag 42 (a CID link with a 0x00 prefix)
/// is the only tag. The decoder also bounds nesting depth and declared sizes,
/// so that hostile input cannot exhaust the stack or memory.
public enum DAGCBOR {
    /// Bounds the decoder enforces.
    public struct Limits: Sendable, Hashable {
        /// The deepest nesting of arrays and maps.
        public var maxDepth: Int
        /// The most elements an array or entries a map may declare.
        public var maxContainerCount: Int
        /// The longest text or byte string.
        public var maxStringLength: Int

        /// Limits; the defaults are those of ``default``.
        public init(maxDepth: Int = 128, maxContainerCount: Int = 1 << 20, maxStringLength: Int = 1 << 24) {
            self.maxDepth = maxDepth
            self.maxContainerCount = maxContainerCount
            self.maxStringLength = maxStringLength
        }

        /// 128 levels, 2²⁰ elements, 16 MiB strings.
        public static let `default` = Limits()
    }

    /// Decodes exactly one value from `bytes`; trailing bytes are an error.
    @inlinable
    public static func decode(_ bytes: some ContiguousBytesLike, limits: Limits = .default) throws(DataError) -> DataValue {
        try bytes.withBytes { (buffer) throws(DataError) in try decode(buffer, limits: limits) }
    }

    /// Decodes exactly one value from `buffer`; trailing bytes are an error.
    public static func decode(_ buffer: UnsafeRawBufferPointer, limits: Limits = .default) throws(DataError) -> DataValue {
        var reader = DAGCBORReader(buffer, limits: limits)
        let value = try reader.readValue()
        try reader.expectEnd()
        return value
    }

    /// Decodes the value at the start of `bytes` and returns it with the
    /// number of bytes it took: for streams of concatenated values, such as a
    /// firehose frame (a header, then a body).
    public static func decodePrefix(_ bytes: some ContiguousBytesLike, limits: Limits = .default) throws(DataError) -> (value: DataValue, length: Int) {
        try bytes.withBytes { (buffer) throws(DataError) in
            var reader = DAGCBORReader(buffer, limits: limits)
            let value = try reader.readValue()
            return (value, reader.offset)
        }
    }

    /// Checks that `buffer` holds exactly one canonical DAG-CBOR value, by the
    /// same rules as ``decode(_:limits:)-(UnsafeRawBufferPointer,_)``, without building it.
    public static func validate(_ buffer: UnsafeRawBufferPointer, limits: Limits = .default) throws(DataError) {
        var reader = DAGCBORReader(buffer, limits: limits)
        try reader.skipValue()
        try reader.expectEnd()
    }

    /// Checks that `bytes` hold exactly one canonical DAG-CBOR value, without building it.
    @inlinable
    public static func validate(_ bytes: some ContiguousBytesLike, limits: Limits = .default) throws(DataError) {
        try bytes.withBytes { (buffer) throws(DataError) in try validate(buffer, limits: limits) }
    }

    /// Encodes `value` in canonical DAG-CBOR.
    public static func encode(_ value: DataValue) -> [UInt8] {
        DAGCBORWriter.encode(value)
    }

    /// The CID of `value` encoded as DAG-CBOR, and the encoded bytes.
    public static func encodeWithCID(_ value: DataValue) -> (cid: CID, bytes: [UInt8]) {
        let bytes = encode(value)
        return (CID.compute(bytes, codec: .dagCBOR), bytes)
    }
}

extension DAGCBOR {
    /// DAG-CBOR's order of two map keys: by length, then bytewise; `-1`,
    /// `0` or `1`. Also the order of two keys' encodings, text header
    /// included, since the header grows with the length.
    @inline(__always)
    static func compareKeys(_ a: UnsafeRawPointer, count aCount: Int, _ b: UnsafeRawPointer, count bCount: Int) -> Int {
        if aCount != bCount { return aCount < bCount ? -1 : 1 }
        let c = memcmp(a, b, aCount)
        return c == 0 ? 0 : (c < 0 ? -1 : 1)
    }
}

/// CBOR major types.
@usableFromInline package enum Major {
    @usableFromInline package static let unsigned: UInt8 = 0
    @usableFromInline package static let negative: UInt8 = 1
    @usableFromInline package static let bytes: UInt8 = 2
    @usableFromInline package static let text: UInt8 = 3
    @usableFromInline package static let array: UInt8 = 4
    @usableFromInline package static let map: UInt8 = 5
    @usableFromInline package static let tag: UInt8 = 6
    @usableFromInline package static let simple: UInt8 = 7
}

/// The error thrown by everything in ATData: CIDs, DAG-CBOR, the data model's
/// JSON form and CAR files.
///
/// Branch on ``code``. Decoding errors carry the byte ``offset`` where the
/// problem was found, and CAR errors also the zero-based ``blockIndex``.
public struct DataError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of problem was found. The set of codes may grow.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name.
        public let rawValue: String
        /// A code with the given name.
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The input ended in the middle of a value.
        public static let truncated = Code("truncated")
        /// Bytes remain after the top-level value.
        public static let trailingBytes = Code("trailingBytes")
        /// A varint is longer than 9 bytes.
        public static let varintOverflow = Code("varintOverflow")
        /// A varint is not in its shortest form.
        public static let varintNotMinimal = Code("varintNotMinimal")
        /// An integer or a length is not in its shortest CBOR form.
        public static let nonCanonicalInteger = Code("nonCanonicalInteger")
        /// An integer does not fit in a signed 64-bit value.
        public static let integerOutOfRange = Code("integerOutOfRange")
        /// Map keys are not in DAG-CBOR order (length first, then bytewise).
        public static let unsortedMapKeys = Code("unsortedMapKeys")
        /// A map key appears twice.
        public static let duplicateMapKey = Code("duplicateMapKey")
        /// A map key is not a text string.
        public static let nonStringMapKey = Code("nonStringMapKey")
        /// A floating-point number, which the atproto data model does not allow.
        public static let floatNotAllowed = Code("floatNotAllowed")
        /// A CBOR tag other than 42, or a tag 42 whose content is malformed.
        public static let invalidTag = Code("invalidTag")
        /// An indefinite-length string, array or map.
        public static let indefiniteLength = Code("indefiniteLength")
        /// `undefined`, a reserved additional-info value, or another unsupported simple value.
        public static let unsupportedValue = Code("unsupportedValue")
        /// A text string that is not valid UTF-8.
        public static let invalidUTF8 = Code("invalidUTF8")
        /// A declared length is larger than the input or a configured limit.
        public static let lengthTooLarge = Code("lengthTooLarge")
        /// Values are nested deeper than the configured limit.
        public static let depthExceeded = Code("depthExceeded")
        /// A CID is malformed.
        public static let invalidCID = Code("invalidCID")
        /// A CID uses a hash function this library cannot check.
        public static let unsupportedHash = Code("unsupportedHash")
        /// A block's bytes do not hash to its CID.
        public static let cidMismatch = Code("cidMismatch")
        /// Multibase text is malformed or uses an unsupported base.
        public static let invalidMultibase = Code("invalidMultibase")
        /// A CAR header is malformed.
        public static let invalidCARHeader = Code("invalidCARHeader")
        /// A CAR block section is malformed.
        public static let invalidCARBlock = Code("invalidCARBlock")
        /// JSON that is not valid atproto data.
        public static let invalidJSON = Code("invalidJSON")
        /// A value does not have the type or shape that was expected.
        public static let typeMismatch = Code("typeMismatch")
    }

    /// What went wrong.
    public let code: Code
    /// A human-readable explanation.
    public let message: String
    /// The byte offset in the input where the problem was found, if known.
    public var offset: Int?
    /// For CAR files, the zero-based index of the block, if the problem is in one.
    public var blockIndex: Int?

    /// An error with a code, a message, and where it was found.
    public init(_ code: Code, _ message: String, offset: Int? = nil, blockIndex: Int? = nil) {
        self.code = code
        self.message = message
        self.offset = offset
        self.blockIndex = blockIndex
    }

    public var description: String {
        var s = "\(code): \(message)"
        if let blockIndex { s += " (block \(blockIndex)" + (offset.map { ", byte offset \($0))" } ?? ")") }
        else if let offset { s += " (byte offset \(offset))" }
        return s
    }

    /// This error with its offset shifted by `base`, for errors found inside a slice.
    func shifted(by base: Int) -> DataError {
        var copy = self
        copy.offset = (offset ?? 0) + base
        return copy
    }
}

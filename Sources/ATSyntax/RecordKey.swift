/// The key of a record within a collection, such as a TID or `self`.
///
/// 1–512 bytes of `[A-Za-z0-9._:~-]`, and neither `.` nor `..`.
public struct RecordKey: SyntaxValue, Comparable {
    /// The record key string.
    public let description: String

    /// The longest record key accepted, in bytes.
    public static let maxLength = 512

    /// Parses and validates `string`.
    public init(_ string: String) throws(SyntaxError) {
        try ASCII.withBytes(string, Self.validate)
        self.description = string
    }

    /// A record key known to be valid.
    init(validated string: String) {
        self.description = string
    }

    /// Checks the bytes of a record key.
    static func validate(_ bytes: UnsafeBufferPointer<UInt8>) throws(SyntaxError) {
        func fail(_ code: SyntaxError.Code, _ message: String) -> SyntaxError {
            SyntaxError("RecordKey", code, message)
        }
        guard !bytes.isEmpty else { throw fail(.empty, "empty string") }
        guard bytes.count <= Self.maxLength else { throw fail(.tooLong, "longer than \(Self.maxLength) bytes") }
        for c in bytes {
            guard ASCII.isAlnum(c) || c == ASCII.dot || c == ASCII.hyphen || c == 0x5F || c == ASCII.colon || c == 0x7E else {
                throw fail(.invalidCharacter, "character '\(Unicode.Scalar(c))' is not allowed")
            }
        }
        guard !(bytes.count == 1 && bytes[0] == ASCII.dot), !(bytes.count == 2 && bytes[0] == ASCII.dot && bytes[1] == ASCII.dot) else {
            throw fail(.invalidStructure, "'.' and '..' are not record keys")
        }
    }

    /// The record key for a TID.
    public init(_ tid: TID) {
        self.description = tid.description
    }

    public static func < (lhs: RecordKey, rhs: RecordKey) -> Bool { lhs.description < rhs.description }
}

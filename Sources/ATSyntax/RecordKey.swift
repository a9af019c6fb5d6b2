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
        func fail(_ code: SyntaxError.Code, _ message: String) -> SyntaxError {
            SyntaxError("RecordKey", code, message)
        }
        let utf8 = string.utf8
        guard !utf8.isEmpty else { throw fail(.empty, "empty string") }
        guard utf8.count <= Self.maxLength else { throw fail(.tooLong, "longer than \(Self.maxLength) bytes") }
        for c in utf8 {
            guard ASCII.isAlnum(c) || c == ASCII.dot || c == ASCII.hyphen || c == 0x5F || c == ASCII.colon || c == 0x7E else {
                throw fail(.invalidCharacter, "character '\(Unicode.Scalar(c))' is not allowed")
            }
        }
        guard string != ".", string != ".." else { throw fail(.invalidStructure, "'.' and '..' are not record keys") }
        self.description = string
    }

    /// The record key for a TID.
    public init(_ tid: TID) {
        self.description = tid.description
    }

    public static func < (lhs: RecordKey, rhs: RecordKey) -> Bool { lhs.description < rhs.description }
}

/// A handle: a DNS name such as `alice.bsky.social`, normalised to lowercase.
///
/// At least two labels of `[A-Za-z0-9-]`, 1–63 bytes each, neither starting nor
/// ending with a hyphen; the last label starts with a letter; 253 bytes in all.
public struct Handle: SyntaxValue, Comparable {
    /// The handle in lowercase.
    public let description: String

    /// The longest handle accepted, in bytes.
    public static let maxLength = 253
    /// The handle that stands for "no valid handle" in atproto.
    public static let invalid = try! Handle("handle.invalid")

    /// Parses and validates `string`.
    public init(_ string: String) throws(SyntaxError) {
        let hasUpper = try ASCII.withBytes(string, Self.validate)
        self.description = hasUpper ? Self.lowercased(string) : string
    }

    /// A handle known to be valid; lowercased here.
    init(validated string: String) {
        self.description = string.utf8.contains(where: ASCII.isUpper) ? Self.lowercased(string) : string
    }

    private static func lowercased(_ string: String) -> String {
        String(decoding: string.utf8.map { ASCII.isUpper($0) ? $0 + 0x20 : $0 }, as: UTF8.self)
    }

    /// Checks the bytes of a handle; returns whether it has upper-case letters.
    static func validate(_ bytes: UnsafeBufferPointer<UInt8>) throws(SyntaxError) -> Bool {
        func fail(_ code: SyntaxError.Code, _ message: String) -> SyntaxError {
            SyntaxError("Handle", code, message)
        }
        guard !bytes.isEmpty else { throw fail(.empty, "empty string") }
        guard bytes.count <= Self.maxLength else { throw fail(.tooLong, "longer than \(Self.maxLength) bytes") }
        var labels = 0
        var last = 0..<0
        try ASCII.forEachPiece(bytes, on: ASCII.dot) { (range, isLast) throws(SyntaxError) in
            labels += 1
            try Self.checkLabel(UnsafeBufferPointer(rebasing: bytes[range]), fail: fail)
            if isLast { last = range }
        }
        guard labels >= 2 else { throw fail(.invalidStructure, "needs at least two labels separated by '.'") }
        guard ASCII.isAlpha(bytes[last.lowerBound]) else { throw fail(.invalidStructure, "the top-level domain must start with a letter") }
        return bytes.contains(where: ASCII.isUpper)
    }

    /// Checks one DNS label: 1–63 bytes of `[A-Za-z0-9-]`, no hyphen at either end.
    static func checkLabel(
        _ label: UnsafeBufferPointer<UInt8>, fail: (SyntaxError.Code, String) -> SyntaxError
    ) throws(SyntaxError) {
        guard !label.isEmpty else { throw fail(.invalidStructure, "empty label") }
        guard label.count <= 63 else { throw fail(.tooLong, "label longer than 63 bytes") }
        for c in label where !(ASCII.isAlnum(c) || c == ASCII.hyphen) {
            throw fail(.invalidCharacter, "character '\(Unicode.Scalar(c))' is not allowed in a label")
        }
        guard label.first != ASCII.hyphen, label.last != ASCII.hyphen else {
            throw fail(.invalidCharacter, "a label must not start or end with '-'")
        }
    }

    public static func < (lhs: Handle, rhs: Handle) -> Bool { lhs.description < rhs.description }
}

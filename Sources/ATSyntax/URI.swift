/// A generic URI as lexicons use it (the `uri` string format): a scheme (a
/// letter, then letters, digits, `+`, `-` or `.`), a colon, then at least one
/// character and no white space or control characters; 8 KiB at most.
///
/// The string is kept exactly as given.
public struct URI: SyntaxValue {
    /// The string as it was parsed.
    public let description: String

    /// The longest URI accepted, in bytes.
    public static let maxLength = 8192

    /// Parses and validates `string`.
    public init(_ string: String) throws(SyntaxError) {
        func fail(_ code: SyntaxError.Code, _ message: String) -> SyntaxError { SyntaxError("URI", code, message) }
        let bytes = Array(string.utf8)
        guard !bytes.isEmpty else { throw fail(.empty, "empty string") }
        guard bytes.count <= Self.maxLength else { throw fail(.tooLong, "longer than \(Self.maxLength) bytes") }
        guard let colon = bytes.firstIndex(of: 0x3A), colon > 0, colon < bytes.count - 1 else {
            throw fail(.invalidStructure, "expected scheme:rest")
        }
        func isAlpha(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
        guard isAlpha(bytes[0]) else { throw fail(.invalidCharacter, "a scheme starts with a letter") }
        for c in bytes[1..<colon] where !(isAlpha(c) || (c >= 0x30 && c <= 0x39) || c == 0x2B || c == 0x2D || c == 0x2E) {
            throw fail(.invalidCharacter, "invalid character in the scheme")
        }
        guard !bytes[(colon + 1)...].contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            throw fail(.invalidCharacter, "white space or a control character")
        }
        description = string
    }
}

/// A decentralized identifier, such as `did:plc:7iza6de2dwap2sbkpav7c6c6`.
///
/// Validation follows the atproto DID syntax: the `did:` prefix, a lowercase
/// method name, and a method-specific identifier of `[A-Za-z0-9._:%-]` that
/// does not end in `:` or `%`, 2 KiB at most.
public struct DID: SyntaxValue, Comparable {
    /// The full DID string.
    public let description: String
    /// Length of the method name, so that ``method`` needs no search.
    private let methodLength: Int

    /// The longest DID accepted, in bytes.
    public static let maxLength = 2048

    /// Parses and validates `string`.
    public init(_ string: String) throws(SyntaxError) {
        self.methodLength = try ASCII.withBytes(string, Self.validate)
        self.description = string
    }

    /// A DID known to be valid, with its method's length.
    init(validated string: String, methodLength: Int) {
        self.description = string
        self.methodLength = methodLength
    }

    /// Checks the bytes of a DID and returns the length of its method.
    static func validate(_ bytes: UnsafeBufferPointer<UInt8>) throws(SyntaxError) -> Int {
        func fail(_ code: SyntaxError.Code, _ message: String) -> SyntaxError {
            SyntaxError("DID", code, message)
        }
        guard !bytes.isEmpty else { throw fail(.empty, "empty string") }
        guard bytes.count <= Self.maxLength else { throw fail(.tooLong, "longer than \(Self.maxLength) bytes") }
        guard ASCII.hasPrefix(bytes, "did:") else { throw fail(.invalidStructure, "must start with 'did:'") }
        var i = 4
        while i < bytes.count, ASCII.isLower(bytes[i]) { i += 1 }
        let methodLength = i - 4
        guard methodLength > 0 else { throw fail(.invalidStructure, "missing lowercase method name") }
        guard i < bytes.count, bytes[i] == ASCII.colon else {
            throw fail(.invalidCharacter, "method name must be lowercase letters followed by ':'")
        }
        i += 1
        guard i < bytes.count else { throw fail(.invalidStructure, "missing method-specific identifier") }
        for c in bytes[i...] {
            guard ASCII.isAlnum(c) || c == ASCII.dot || c == ASCII.hyphen || c == 0x5F || c == ASCII.colon || c == 0x25 else {
                throw fail(.invalidCharacter, "character '\(Unicode.Scalar(c))' is not allowed")
            }
        }
        guard let last = bytes.last, last != ASCII.colon, last != 0x25 else {
            throw fail(.invalidStructure, "must not end with ':' or '%'")
        }
        return methodLength
    }

    /// The DID method, such as `plc` or `web`.
    public var method: Substring {
        let start = description.utf8.index(description.startIndex, offsetBy: 4)
        let end = description.utf8.index(start, offsetBy: methodLength)
        return description[start..<end]
    }

    /// The method-specific identifier after `did:<method>:`.
    public var identifier: Substring {
        let start = description.utf8.index(description.startIndex, offsetBy: 5 + methodLength)
        return description[start...]
    }

    public static func < (lhs: DID, rhs: DID) -> Bool { lhs.description < rhs.description }
    public static func == (lhs: DID, rhs: DID) -> Bool { lhs.description == rhs.description }
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }
}

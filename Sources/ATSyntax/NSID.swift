/// A namespaced identifier for a lexicon, such as `app.bsky.feed.post`.
///
/// It is a reversed domain name (the authority) followed by a name. The name
/// starts with a letter and holds only letters and digits; the whole is at most
/// 317 bytes, with at least three segments.
public struct NSID: SyntaxValue, Comparable {
    /// The full NSID string.
    public let description: String
    private let nameLength: Int

    /// The longest NSID accepted, in bytes.
    public static let maxLength = 317

    /// Parses and validates `string`.
    public init(_ string: String) throws(SyntaxError) {
        self.nameLength = try ASCII.withBytes(string, Self.validate)
        self.description = string
    }

    /// An NSID known to be valid, with the length of its name.
    init(validated string: String, nameLength: Int) {
        self.description = string
        self.nameLength = nameLength
    }

    /// Checks the bytes of an NSID and returns the length of its name.
    static func validate(_ bytes: UnsafeBufferPointer<UInt8>) throws(SyntaxError) -> Int {
        func fail(_ code: SyntaxError.Code, _ message: String) -> SyntaxError {
            SyntaxError("NSID", code, message)
        }
        guard !bytes.isEmpty else { throw fail(.empty, "empty string") }
        guard bytes.count <= Self.maxLength else { throw fail(.tooLong, "longer than \(Self.maxLength) bytes") }
        var segments = 0
        var name = 0..<0
        try ASCII.forEachPiece(bytes, on: ASCII.dot) { (range, isLast) throws(SyntaxError) in
            segments += 1
            if isLast { name = range } else { try Handle.checkLabel(UnsafeBufferPointer(rebasing: bytes[range]), fail: fail) }
        }
        guard segments >= 3 else { throw fail(.invalidStructure, "needs at least three segments") }
        guard ASCII.isAlpha(bytes[0]) else { throw fail(.invalidCharacter, "the first segment must start with a letter") }
        guard !name.isEmpty else { throw fail(.invalidStructure, "empty name") }
        guard name.count <= 63 else { throw fail(.tooLong, "name longer than 63 bytes") }
        guard ASCII.isAlpha(bytes[name.lowerBound]) else { throw fail(.invalidCharacter, "the name must start with a letter") }
        for c in bytes[name] where !ASCII.isAlnum(c) {
            throw fail(.invalidCharacter, "character '\(Unicode.Scalar(c))' is not allowed in the name")
        }
        return name.count
    }

    /// The last segment, such as `post` in `app.bsky.feed.post`. Case-sensitive.
    public var name: Substring {
        description[description.utf8.index(description.endIndex, offsetBy: -nameLength)...]
    }

    /// The domain authority in DNS order and lowercase, such as `feed.bsky.app`.
    public var authority: String {
        let prefix = description.utf8.dropLast(nameLength + 1)
        let labels = ASCII.split(prefix, on: ASCII.dot).reversed()
        return labels.map { String(decoding: $0, as: UTF8.self).lowercased() }.joined(separator: ".")
    }

    public static func < (lhs: NSID, rhs: NSID) -> Bool { lhs.description < rhs.description }
}

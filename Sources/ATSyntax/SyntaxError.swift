/// The error thrown when a string is not a valid atproto identifier or value.
///
/// Branch on ``code``; ``message`` is for people and may change.
public struct SyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of problem was found. The set of codes may grow.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name.
        public let rawValue: String
        /// A code with the given name.
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The input was empty.
        public static let empty = Code("empty")
        /// The input was longer than the type allows.
        public static let tooLong = Code("tooLong")
        /// The input contains a character that is not allowed where it appears.
        public static let invalidCharacter = Code("invalidCharacter")
        /// The input has the wrong shape: missing prefix, separators, segments, or parts.
        public static let invalidStructure = Code("invalidStructure")
        /// A numeric field (month, hour, timestamp…) is outside its range.
        public static let outOfRange = Code("outOfRange")
        /// A part appears twice where it may appear only once.
        public static let duplicate = Code("duplicate")
    }

    /// The type that was being parsed, such as `"DID"` or `"Handle"`.
    public let type: String
    /// What was wrong.
    public let code: Code
    /// A human-readable explanation.
    public let message: String

    /// An error for the type named `type`.
    public init(_ type: String, _ code: Code, _ message: String) {
        self.type = type
        self.code = code
        self.message = message
    }

    public var description: String { "invalid \(type) (\(code)): \(message)" }
}

/// A validated string-backed identifier. Its only way in is a throwing parser,
/// so a value that exists is valid.
public protocol SyntaxValue: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Parses and validates `string`.
    init(_ string: String) throws(SyntaxError)
    /// The canonical string form.
    var description: String { get }
}

extension SyntaxValue {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let string = try container.decode(String.self)
        do {
            try self.init(string)
        } catch {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

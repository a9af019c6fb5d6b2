/// The error thrown by ATLexicon: a lexicon document that is malformed, or a
/// value that does not match its schema.
///
/// Branch on ``code``. ``path`` says where in the value (or the document) the
/// problem is, such as `$.embed.images[2].alt`.
public struct LexiconError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of problem was found. The set of codes may grow.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name.
        public let rawValue: String
        /// A code with the given name.
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The lexicon document itself is malformed.
        public static let invalidLexicon = Code("invalidLexicon")
        /// No schema is known for a name or reference.
        public static let unknownSchema = Code("unknownSchema")
        /// A required field is missing.
        public static let missingField = Code("missingField")
        /// A value has the wrong data type.
        public static let wrongType = Code("wrongType")
        /// A string does not have its declared format.
        public static let invalidFormat = Code("invalidFormat")
        /// A value is outside its declared bounds (range, length, size).
        public static let outOfRange = Code("outOfRange")
        /// A value is not one of the declared `enum` values, or not the `const`.
        public static let notAllowed = Code("notAllowed")
        /// A union value's `$type` is missing or not one of the union's refs.
        public static let unionMismatch = Code("unionMismatch")
        /// A blob's MIME type is not accepted.
        public static let blobMimeType = Code("blobMimeType")
    }

    /// What went wrong.
    public let code: Code
    /// Where: a path into the value, such as `$.reply.root.uri`.
    public let path: String
    /// A human-readable explanation.
    public let message: String

    /// An error at `path`.
    public init(_ code: Code, _ path: String, _ message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    public var description: String { "\(code) at \(path): \(message)" }
}

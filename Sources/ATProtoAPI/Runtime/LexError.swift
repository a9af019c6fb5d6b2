import ATData

/// Why a value does not match its lexicon, and where.
public struct LexError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: String, Sendable, Hashable {
        /// The bytes are not DAG-CBOR or atproto JSON.
        case malformed
        /// A value has the wrong data model type.
        case wrongType
        /// A required field is missing, or `null` where it may not be.
        case missingField
        /// A string does not have its declared format.
        case invalidFormat
        /// A length, grapheme count, range, enum or `const` constraint fails.
        case constraint
        /// A record's or union member's `$type` is not the one expected.
        case wrongTypeName
        /// A query parameter could not be read.
        case invalidParameter
    }

    /// What went wrong.
    public var kind: Kind
    /// A message for people.
    public var message: String
    /// The path inside the value, outermost first (`embed`, `images`, `0`, `alt`).
    public var path: [String]

    /// An error at the current position; callers above add the path.
    public init(_ kind: Kind, _ message: String, path: [String] = []) {
        self.kind = kind
        self.message = message
        self.path = path
    }

    /// The path in JSONPath style: `$.embed.images[0].alt`.
    public var pathString: String {
        var text = "$"
        for component in path {
            if let first = component.utf8.first, first >= 0x30, first <= 0x39 { text += "[\(component)]" } else { text += "." + component }
        }
        return text
    }

    public var description: String { "\(pathString): \(message)" }

    /// The same error one level further out, under `component`.
    public func at(_ component: String) -> LexError {
        var copy = self
        copy.path.insert(component, at: 0)
        return copy
    }

    /// The same error one level further out, under the array index `index`.
    public func at(index: Int) -> LexError { at(String(index)) }

    init(_ error: DataError) {
        self.init(error.code == .typeMismatch ? .wrongType : .malformed, error.message)
    }

    static func missing(_ field: String) -> LexError {
        LexError(.missingField, "required field '\(field)' is missing", path: [field])
    }
}

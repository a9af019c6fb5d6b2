import ATData
import ATSyntax

/// The constraints a lexicon puts on a string.
public struct StringRule: Sendable {
    public var minLength: Int?
    public var maxLength: Int?
    public var minGraphemes: Int?
    public var maxGraphemes: Int?
    public var allowed: Set<String>?
    public var const: String?

    public init(
        minLength: Int? = nil, maxLength: Int? = nil, minGraphemes: Int? = nil, maxGraphemes: Int? = nil,
        allowed: Set<String>? = nil, const: String? = nil
    ) {
        self.minLength = minLength
        self.maxLength = maxLength
        self.minGraphemes = minGraphemes
        self.maxGraphemes = maxGraphemes
        self.allowed = allowed
        self.const = const
    }

    /// Checks `value`; lengths count UTF-8 bytes, graphemes extended grapheme clusters.
    public func check(_ value: String) throws(LexError) {
        let bytes = value.utf8.count
        if let minLength, bytes < minLength { throw LexError(.constraint, "shorter than \(minLength) bytes") }
        if let maxLength, bytes > maxLength { throw LexError(.constraint, "longer than \(maxLength) bytes") }
        // A grapheme has at least one byte, so short strings need no counting.
        if let maxGraphemes, bytes > maxGraphemes, value.count > maxGraphemes {
            throw LexError(.constraint, "longer than \(maxGraphemes) graphemes")
        }
        if let minGraphemes, bytes < minGraphemes || value.count < minGraphemes {
            throw LexError(.constraint, "shorter than \(minGraphemes) graphemes")
        }
        if let allowed, !allowed.contains(value) { throw LexError(.constraint, "'\(value)' is not one of the allowed values") }
        if let const, value != const { throw LexError(.constraint, "must be '\(const)'") }
    }
}

/// The constraints a lexicon puts on an integer.
public struct IntegerRule: Sendable {
    public var minimum: Int64?
    public var maximum: Int64?
    public var allowed: Set<Int64>?
    public var const: Int64?

    public init(minimum: Int64? = nil, maximum: Int64? = nil, allowed: Set<Int64>? = nil, const: Int64? = nil) {
        self.minimum = minimum
        self.maximum = maximum
        self.allowed = allowed
        self.const = const
    }

    public func check(_ value: Int64) throws(LexError) {
        if let minimum, value < minimum { throw LexError(.constraint, "\(value) is below the minimum \(minimum)") }
        if let maximum, value > maximum { throw LexError(.constraint, "\(value) is above the maximum \(maximum)") }
        if let allowed, !allowed.contains(value) { throw LexError(.constraint, "\(value) is not one of the allowed values") }
        if let const, value != const { throw LexError(.constraint, "must be \(const)") }
    }
}

/// The constraints a lexicon puts on an array's or a byte string's length.
public struct LengthRule: Sendable {
    public var minLength: Int?
    public var maxLength: Int?

    public init(minLength: Int? = nil, maxLength: Int? = nil) {
        self.minLength = minLength
        self.maxLength = maxLength
    }

    public func check(_ count: Int) throws(LexError) {
        if let minLength, count < minLength { throw LexError(.constraint, "fewer than \(minLength) items") }
        if let maxLength, count > maxLength { throw LexError(.constraint, "more than \(maxLength) items") }
    }
}

/// The constraints a lexicon puts on a blob.
public struct BlobRule: Sendable {
    public var accept: [String]?
    public var maxSize: Int?

    public init(accept: [String]? = nil, maxSize: Int? = nil) {
        self.accept = accept
        self.maxSize = maxSize
    }

    public func check(_ blob: LexBlob) throws(LexError) {
        if let maxSize, let size = blob.size, size > maxSize {
            throw LexError(.constraint, "blob of \(size) bytes is over the limit of \(maxSize)")
        }
        if let accept, !accept.contains(where: { Self.mime(blob.mimeType, matches: $0) }) {
            throw LexError(.constraint, "MIME type '\(blob.mimeType)' is not accepted")
        }
    }

    /// `*/*`, `type/*` or an exact match.
    static func mime(_ mime: String, matches pattern: String) -> Bool {
        if pattern == "*/*" || pattern == mime { return true }
        if pattern.hasSuffix("/*") { return mime.hasPrefix(pattern.dropLast(1)) }
        return false
    }
}

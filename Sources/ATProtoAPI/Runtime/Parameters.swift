import ATData
import ATSyntax

/// The kind of an XRPC method.
public enum XRPCMethodKind: String, Sendable, Hashable {
    case query, procedure, subscription
}

/// A method's query parameters: read from and written to URL query items.
public protocol LexParameters: Sendable, Hashable {
    /// Reads parameters; with `validating`, the lexicon's constraints are checked.
    init(query: [(String, String)], validating: Bool) throws(LexError)
    /// The parameters as query items, arrays as repeated names.
    var queryItems: [(String, String)] { get }
}

/// The parameters of a method that takes none.
public struct LexNoParameters: LexParameters {
    public init() {}
    public init(query: [(String, String)], validating: Bool = true) throws(LexError) {}
    public var queryItems: [(String, String)] { [] }
}

/// Reads typed values from URL query items, for generated ``LexParameters``.
public struct LexQuery {
    let items: [(String, String)]
    let validating: Bool

    public init(_ items: [(String, String)], validating: Bool) {
        self.items = items
        self.validating = validating
    }

    private func values(_ name: String) -> [String] { items.filter { $0.0 == name }.map(\.1) }

    private func each<T>(_ name: String, _ parse: (String) throws(LexError) -> T) throws(LexError) -> [T] {
        var out = [T]()
        for text in values(name) {
            do throws(LexError) { out.append(try parse(text)) } catch { throw LexError(.invalidParameter, error.message, path: [name]) }
        }
        return out
    }

    public func strings(_ name: String, _ rule: StringRule? = nil) throws(LexError) -> [String] {
        try each(name) { (text) throws(LexError) in
            if validating, let rule { try rule.check(text) }
            return text
        }
    }

    public func formats<T: SyntaxValue>(_ name: String, _ type: T.Type, _ rule: StringRule? = nil) throws(LexError) -> [T] {
        try each(name) { (text) throws(LexError) in
            if validating, let rule { try rule.check(text) }
            do throws(SyntaxError) { return try T(text) } catch { throw LexError(.invalidFormat, error.description) }
        }
    }

    public func cids(_ name: String, _ rule: StringRule? = nil) throws(LexError) -> [CID] {
        try each(name) { (text) throws(LexError) in
            do throws(DataError) { return try CID(text) } catch { throw LexError(.invalidFormat, "invalid CID: \(error.message)") }
        }
    }

    public func integers(_ name: String, _ rule: IntegerRule? = nil) throws(LexError) -> [Int] {
        try each(name) { (text) throws(LexError) in
            guard let value = Int64(text), let int = Int(exactly: value) else { throw LexError(.invalidParameter, "'\(text)' is not an integer") }
            if validating, let rule { try rule.check(value) }
            return int
        }
    }

    public func booleans(_ name: String) throws(LexError) -> [Bool] {
        try each(name) { (text) throws(LexError) in
            switch text {
            case "true": return true
            case "false": return false
            default: throw LexError(.invalidParameter, "'\(text)' is not true or false")
            }
        }
    }

    /// The first value of a single-valued parameter.
    public func single<T>(_ name: String, _ values: [T]) throws(LexError) -> T? { values.first }

    /// The values of an array parameter, `nil` when absent.
    public func list<T>(_ name: String, _ rule: LengthRule?, _ values: [T]) throws(LexError) -> [T]? {
        guard !values.isEmpty else { return nil }
        if validating, let rule {
            do { try rule.check(values.count) } catch { throw LexError(.invalidParameter, error.message, path: [name]) }
        }
        return values
    }

    /// A required parameter's value.
    public static func require<T>(_ value: T?, _ name: String) throws(LexError) -> T {
        guard let value else { throw LexError(.invalidParameter, "required parameter '\(name)' is missing", path: [name]) }
        return value
    }
}

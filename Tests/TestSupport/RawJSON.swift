import Foundation

/// A fragment of a JSON fixture kept as JSON bytes, so that the library's own
/// readers parse it rather than Foundation's decoder.
public struct RawJSON: Decodable, Sendable {
    /// The fragment, re-serialised.
    public let data: Data

    public init(from decoder: any Decoder) throws {
        data = try JSONSerialization.data(withJSONObject: try JSONValue(from: decoder).object, options: [.fragmentsAllowed])
    }
}

/// Plain JSON, decoded only to copy fixture fragments.
private enum JSONValue: Decodable {
    case null, bool(Bool), int(Int64), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    var object: Any {
        switch self {
        case .null: NSNull()
        case .bool(let b): b
        case .int(let i): i
        case .number(let d): d
        case .string(let s): s
        case .array(let a): a.map(\.object)
        case .object(let o): o.mapValues(\.object)
        }
    }
}

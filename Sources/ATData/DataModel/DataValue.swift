/// A value in the atproto data model: what a record, or any DAG-CBOR block
/// in a repository, is made of.
///
/// The model has no floats. Integers are signed 64-bit. Maps have text keys and
/// are kept in DAG-CBOR order, so encoding never sorts.
public enum DataValue: Sendable, Hashable {
    /// `null`.
    case null
    /// A boolean.
    case bool(Bool)
    /// A signed 64-bit integer.
    case int(Int64)
    /// A UTF-8 text string.
    case string(String)
    /// A byte string.
    case bytes([UInt8])
    /// A CID link (CBOR tag 42). Boxed, so that the common cases stay small.
    indirect case link(CID)
    /// An array.
    case array([DataValue])
    /// A map with text keys.
    case map(DataMap)

    /// The string, if this value is one.
    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    /// The integer, if this value is one.
    public var intValue: Int64? { if case .int(let i) = self { i } else { nil } }
    /// The boolean, if this value is one.
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    /// The CID, if this value is a link.
    public var linkValue: CID? { if case .link(let c) = self { c } else { nil } }
    /// The bytes, if this value is a byte string.
    public var bytesValue: [UInt8]? { if case .bytes(let b) = self { b } else { nil } }
    /// The elements, if this value is an array.
    public var arrayValue: [DataValue]? { if case .array(let a) = self { a } else { nil } }
    /// The map, if this value is one.
    public var mapValue: DataMap? { if case .map(let m) = self { m } else { nil } }

    /// Looks up `key` when this value is a map.
    public subscript(key: String) -> DataValue? { mapValue?[key] }

    /// The name of the value's kind, for messages.
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .string: "string"
        case .bytes: "bytes"
        case .link: "cid-link"
        case .array: "array"
        case .map: "object"
        }
    }
}

extension DataValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: DataValue...) { self = .array(elements) }
    public init(nilLiteral: ()) { self = .null }
    public init(dictionaryLiteral elements: (String, DataValue)...) {
        self = .map(DataMap(elements, uniquingKeysWith: { _, last in last }))
    }
}

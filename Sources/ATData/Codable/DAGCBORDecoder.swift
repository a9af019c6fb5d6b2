import Foundation

/// Decodes `Decodable` values from strict DAG-CBOR.
///
/// A `CID` reads a link, `Data` a byte string, and ``DataValue`` any value.
/// Errors in the bytes are ``DataError``s; a shape that does not fit the type
/// is a `DecodingError` with the coding path.
public struct DAGCBORDecoder: Sendable {
    /// Bounds on the input.
    public var limits: DAGCBOR.Limits

    /// A decoder with the given input bounds.
    public init(limits: DAGCBOR.Limits = .default) { self.limits = limits }

    /// Decodes a `T` from DAG-CBOR bytes.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: some ContiguousBytesLike) throws -> T {
        try decode(type, from: try DAGCBOR.decode(bytes, limits: limits))
    }

    /// Decodes a `T` from a data model value.
    public func decode<T: Decodable>(_ type: T.Type, from value: DataValue) throws -> T {
        try ValueDecoder(value: value, pathNode: .root).decodeValue(type)
    }
}

private struct ValueDecoder: Decoder {
    let value: DataValue
    let pathNode: CodingPathNode
    var codingPath: [any CodingKey] { pathNode.path }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func mismatch(_ expected: String) -> DecodingError {
        .typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "expected \(expected), found \(value.kindName)"))
    }

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == CID.self {
            guard case .link(let cid) = value else { throw mismatch("a CID link") }
            return cid as! T
        }
        if T.self == Data.self {
            guard case .bytes(let bytes) = value else { throw mismatch("bytes") }
            return Data(bytes) as! T
        }
        if T.self == DataValue.self { return value as! T }
        return try T(from: self)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .map(let map) = value else { throw mismatch("a map") }
        return KeyedDecodingContainer(KeyedValueContainer<Key>(map: map, pathNode: pathNode))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw mismatch("an array") }
        return UnkeyedValueContainer(elements: elements, pathNode: pathNode)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleValueContainer(decoder: self) }
}

private struct SingleValueContainer: SingleValueDecodingContainer {
    let decoder: ValueDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.value == .null }
    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let b) = decoder.value else { throw decoder.mismatch("a boolean") }
        return b
    }
    func decode(_ type: String.Type) throws -> String {
        guard case .string(let s) = decoder.value else { throw decoder.mismatch("a string") }
        return s
    }
    func decode(_ type: Double.Type) throws -> Double { throw decoder.mismatch("no floats in the data model; a Double") }
    func decode(_ type: Float.Type) throws -> Float { throw decoder.mismatch("no floats in the data model; a Float") }
    func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard case .int(let i) = decoder.value else { throw decoder.mismatch("an integer") }
        guard let v = T(exactly: i) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "\(i) does not fit in \(T.self)"))
        }
        return v
    }
    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(type) }
}

private struct KeyedValueContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let map: DataMap
    let pathNode: CodingPathNode
    var codingPath: [any CodingKey] { pathNode.path }
    var allKeys: [Key] { map.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { map[key.stringValue] != nil }

    private func value(_ key: Key) throws -> DataValue {
        guard let value = map[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no value for '\(key.stringValue)'"))
        }
        return value
    }

    private func child(_ key: Key) throws -> ValueDecoder {
        ValueDecoder(value: try value(key), pathNode: pathNode.appending(key))
    }

    func decodeNil(forKey key: Key) throws -> Bool { map[key.stringValue] == nil || map[key.stringValue] == .null }
    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        if case .string(let s) = try value(key) { return s }
        return try child(key).decodeValue(type)  // throws the type mismatch with its path
    }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        if case .bool(let b) = try value(key) { return b }
        return try child(key).decodeValue(type)
    }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
        if case .int(let i) = try value(key), let v = Int(exactly: i) { return v }
        return try child(key).decodeValue(type)
    }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 {
        if case .int(let i) = try value(key) { return i }
        return try child(key).decodeValue(type)
    }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).decodeValue(type) }
    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try child(key).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try child(key).unkeyedContainer() }
    func superDecoder() throws -> any Decoder { try child(Key(stringValue: "super")!) }
    func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
}

private struct UnkeyedValueContainer: UnkeyedDecodingContainer {
    let elements: [DataValue]
    let pathNode: CodingPathNode
    var codingPath: [any CodingKey] { pathNode.path }
    var currentIndex = 0
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    init(elements: [DataValue], pathNode: CodingPathNode) {
        self.elements = elements
        self.pathNode = pathNode
    }

    private mutating func next() throws -> ValueDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "array has only \(elements.count) elements"))
        }
        defer { currentIndex += 1 }
        return ValueDecoder(value: elements[currentIndex], pathNode: pathNode.appending(index: currentIndex))
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, elements[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }
    mutating func decode(_ type: String.Type) throws -> String {
        if !isAtEnd, case .string(let s) = elements[currentIndex] {
            currentIndex += 1
            return s
        }
        return try next().decodeValue(type)
    }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeValue(type) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next() }
}

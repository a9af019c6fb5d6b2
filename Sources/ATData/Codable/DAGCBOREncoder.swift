import Foundation

/// Encodes `Encodable` values as canonical DAG-CBOR.
///
/// `CID` values become links (tag 42), `Data` becomes a byte string, and a
/// ``DataValue`` is written as it is. Floating-point values are rejected, as the
/// atproto data model has none. `nil` optionals are left out of maps.
public struct DAGCBOREncoder: Sendable {
    public init() {}

    /// The DAG-CBOR bytes of `value`.
    public func encode(_ value: some Encodable) throws -> [UInt8] {
        DAGCBOR.encode(try encodeToValue(value))
    }

    /// `value` in the data model, before encoding to bytes.
    public func encodeToValue(_ value: some Encodable) throws -> DataValue {
        let root = EncodingNode()
        try root.store(value, codingPath: [])
        return try root.resolve(codingPath: [])
    }
}

/// A value under construction: containers are filled in place by reference.
final class EncodingNode {
    enum Content {
        case empty
        case value(DataValue)
        case map([String: EncodingNode])
        case array([EncodingNode])
    }
    var content: Content = .empty

    func store(_ value: some Encodable, codingPath: [any CodingKey]) throws {
        switch value {
        case let cid as CID: content = .value(.link(cid))
        case let data as Data: content = .value(.bytes(Array(data)))
        case let dataValue as DataValue: content = .value(dataValue)
        default: try value.encode(to: NodeEncoder(node: self, codingPath: codingPath))
        }
    }

    func resolve(codingPath: [any CodingKey]) throws -> DataValue {
        switch content {
        case .empty: return .map(DataMap())
        case .value(let v): return v
        case .array(let nodes): return .array(try nodes.map { try $0.resolve(codingPath: codingPath) })
        case .map(let nodes):
            var entries = [DataMap.Entry]()
            entries.reserveCapacity(nodes.count)
            for (key, node) in nodes { entries.append(DataMap.Entry(key: key, value: try node.resolve(codingPath: codingPath))) }
            entries.sort { DataMap.precedes($0.key, $1.key) }
            return .map(DataMap(uncheckedSortedEntries: entries))
        }
    }
}

private struct NodeEncoder: Encoder {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .map = node.content {} else { node.content = .map([:]) }
        return KeyedEncodingContainer(KeyedNodeContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = node.content {} else { node.content = .array([]) }
        return UnkeyedNodeContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleNodeContainer(node: node, codingPath: codingPath)
    }
}

private func floatError(_ codingPath: [any CodingKey], _ value: Any) -> EncodingError {
    EncodingError.invalidValue(value, .init(codingPath: codingPath, debugDescription: "the atproto data model has no floating-point numbers"))
}

private func intValue<T: BinaryInteger>(_ value: T, _ codingPath: [any CodingKey]) throws -> DataValue {
    guard let v = Int64(exactly: value) else {
        throw EncodingError.invalidValue(value, .init(codingPath: codingPath, debugDescription: "integer does not fit in 64 signed bits"))
    }
    return .int(v)
}

private struct SingleNodeContainer: SingleValueEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.content = .value(.null) }
    mutating func encode(_ value: Bool) throws { node.content = .value(.bool(value)) }
    mutating func encode(_ value: String) throws { node.content = .value(.string(value)) }
    mutating func encode(_ value: Double) throws { throw floatError(codingPath, value) }
    mutating func encode(_ value: Float) throws { throw floatError(codingPath, value) }
    mutating func encode(_ value: Int) throws { node.content = .value(try intValue(value, codingPath)) }
    mutating func encode(_ value: Int8) throws { node.content = .value(try intValue(value, codingPath)) }
    mutating func encode(_ value: Int16) throws { node.content = .value(try intValue(value, codingPath)) }
    mutating func encode(_ value: Int32) throws { node.content = .value(try intValue(value, codingPath)) }
    mutating func encode(_ value: Int64) throws { node.content = .value(.int(value)) }
    mutating func encode(_ value: UInt) throws { node.content = .value(try intValue(value, codingPath)) }
    mutating func encode(_ value: UInt8) throws { node.content = .value(try intValue(value, codingPath)) }
    mutating func encode(_ value: UInt16) throws { node.content = .value(try intValue(value, codingPath)) }
    mutating func encode(_ value: UInt32) throws { node.content = .value(try intValue(value, codingPath)) }
    mutating func encode(_ value: UInt64) throws { node.content = .value(try intValue(value, codingPath)) }
    mutating func encode<T: Encodable>(_ value: T) throws { try node.store(value, codingPath: codingPath) }
}

private struct KeyedNodeContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    private func child(_ key: Key) -> EncodingNode {
        guard case .map(var nodes) = node.content else { preconditionFailure("keyed container over a non-map") }
        let child = EncodingNode()
        nodes[key.stringValue] = child
        node.content = .map(nodes)
        return child
    }

    mutating func encodeNil(forKey key: Key) throws { child(key).content = .value(.null) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try child(key).store(value, codingPath: codingPath + [key])
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        NodeEncoder(node: child(key), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        NodeEncoder(node: child(key), codingPath: codingPath + [key]).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder { NodeEncoder(node: child(Key(stringValue: "super")!), codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { NodeEncoder(node: child(key), codingPath: codingPath + [key]) }
}

private struct UnkeyedNodeContainer: UnkeyedEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var count: Int {
        if case .array(let nodes) = node.content { nodes.count } else { 0 }
    }

    private func append() -> EncodingNode {
        guard case .array(var nodes) = node.content else { preconditionFailure("unkeyed container over a non-array") }
        let child = EncodingNode()
        nodes.append(child)
        node.content = .array(nodes)
        return child
    }

    mutating func encodeNil() throws { append().content = .value(.null) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        try append().store(value, codingPath: codingPath + [AnyKey(intValue: count)])
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        NodeEncoder(node: append(), codingPath: codingPath).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        NodeEncoder(node: append(), codingPath: codingPath).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder { NodeEncoder(node: append(), codingPath: codingPath) }
}

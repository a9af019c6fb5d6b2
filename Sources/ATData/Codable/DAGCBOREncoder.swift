import Foundation

/// Encodes `Encodable` values as canonical DAG-CBOR.
///
/// `CID` values become links (tag 42), `Data` becomes a byte string, and a
/// ``DataValue`` is written as it is. Floating-point values are rejected, as the
/// atproto data model has none. `nil` optionals are left out of maps.
public struct DAGCBOREncoder: Sendable {
    /// An encoder.
    public init() {}

    /// The DAG-CBOR bytes of `value`.
    public func encode(_ value: some Encodable) throws -> [UInt8] {
        DAGCBOR.encode(try encodeToValue(value))
    }

    /// `value` in the data model, before encoding to bytes.
    public func encodeToValue(_ value: some Encodable) throws -> DataValue {
        let root = EncodingNode()
        try root.store(value, path: .root)
        return root.resolve()
    }
}

/// A value under construction: containers fill it in place by reference.
final class EncodingNode {
    /// A map entry or array element: a finished value, or a node still being filled.
    enum Slot {
        case value(DataValue)
        case node(EncodingNode)
    }

    enum Content {
        case empty
        case value(DataValue)
        case map([(key: String, slot: Slot)])
        case array([Slot])
    }

    var content: Content = .empty

    /// Stores `value`, writing the data model's special types directly.
    func store<T: Encodable>(_ value: T, path: CodingPathNode) throws {
        if let special = Self.special(value) {
            content = .value(special)
        } else {
            try value.encode(to: NodeEncoder(node: self, pathNode: path))
        }
    }

    /// CIDs, `Data` and `DataValue`, which are not encoded through `Codable`.
    @inline(__always)
    static func special<T: Encodable>(_ value: T) -> DataValue? {
        if T.self == CID.self { return .link(value as! CID) }
        if T.self == Data.self { return .bytes(Array(value as! Data)) }
        if T.self == DataValue.self { return (value as! DataValue) }
        return nil
    }

    /// A slot for `value`: finished when it is a primitive or a special type.
    static func slot<T: Encodable>(_ value: T, path: @autoclosure () -> CodingPathNode) throws -> Slot {
        if let special = special(value) { return .value(special) }
        let node = EncodingNode()
        try value.encode(to: NodeEncoder(node: node, pathNode: path()))
        if case .value(let v) = node.content { return .value(v) }
        return .node(node)
    }

    func resolve() -> DataValue {
        switch content {
        case .empty: return .map(DataMap())
        case .value(let v): return v
        case .array(let slots): return .array(slots.map(Self.resolve))
        case .map(let pairs):
            // Sort stably so that, of two entries with one key, the later wins.
            let sorted = pairs.enumerated().sorted { a, b in
                a.element.key == b.element.key ? a.offset < b.offset : DataMap.precedes(a.element.key, b.element.key)
            }
            var entries = [DataMap.Entry]()
            entries.reserveCapacity(sorted.count)
            for (_, pair) in sorted {
                let value = Self.resolve(pair.slot)
                if entries.last?.key == pair.key { entries[entries.count - 1].value = value }
                else { entries.append(DataMap.Entry(key: pair.key, value: value)) }
            }
            return .map(DataMap(uncheckedSortedEntries: entries))
        }
    }

    static func resolve(_ slot: Slot) -> DataValue {
        switch slot {
        case .value(let v): v
        case .node(let node): node.resolve()
        }
    }

    func append(key: String, _ slot: Slot) {
        guard case .map(var pairs) = content else { return }
        content = .empty  // keep the array uniquely referenced while it grows
        pairs.append((key, slot))
        content = .map(pairs)
    }

    func append(_ slot: Slot) {
        guard case .array(var slots) = content else { return }
        content = .empty
        slots.append(slot)
        content = .array(slots)
    }
}

struct NodeEncoder: Encoder {
    let node: EncodingNode
    let pathNode: CodingPathNode
    var codingPath: [any CodingKey] { pathNode.path }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .map = node.content {} else { node.content = .map([]) }
        return KeyedEncodingContainer(KeyedNodeContainer<Key>(node: node, pathNode: pathNode))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = node.content {} else { node.content = .array([]) }
        return UnkeyedNodeContainer(node: node, pathNode: pathNode)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleNodeContainer(node: node, pathNode: pathNode)
    }
}

func floatError(_ path: CodingPathNode, _ value: Any) -> EncodingError {
    EncodingError.invalidValue(value, .init(codingPath: path.path, debugDescription: "the atproto data model has no floating-point numbers"))
}

func intValue<T: BinaryInteger>(_ value: T, _ path: @autoclosure () -> CodingPathNode) throws -> DataValue {
    guard let v = Int64(exactly: value) else {
        throw EncodingError.invalidValue(value, .init(codingPath: path().path, debugDescription: "integer does not fit in 64 signed bits"))
    }
    return .int(v)
}

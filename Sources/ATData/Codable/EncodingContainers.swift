import Foundation

struct SingleNodeContainer: SingleValueEncodingContainer {
    let node: EncodingNode
    let pathNode: CodingPathNode
    var codingPath: [any CodingKey] { pathNode.path }

    mutating func encodeNil() throws { node.content = .value(.null) }
    mutating func encode(_ value: Bool) throws { node.content = .value(.bool(value)) }
    mutating func encode(_ value: String) throws { node.content = .value(.string(value)) }
    mutating func encode(_ value: Double) throws { throw floatError(pathNode, value) }
    mutating func encode(_ value: Float) throws { throw floatError(pathNode, value) }
    mutating func encode(_ value: Int) throws { node.content = .value(try intValue(value, pathNode)) }
    mutating func encode(_ value: Int8) throws { node.content = .value(try intValue(value, pathNode)) }
    mutating func encode(_ value: Int16) throws { node.content = .value(try intValue(value, pathNode)) }
    mutating func encode(_ value: Int32) throws { node.content = .value(try intValue(value, pathNode)) }
    mutating func encode(_ value: Int64) throws { node.content = .value(.int(value)) }
    mutating func encode(_ value: UInt) throws { node.content = .value(try intValue(value, pathNode)) }
    mutating func encode(_ value: UInt8) throws { node.content = .value(try intValue(value, pathNode)) }
    mutating func encode(_ value: UInt16) throws { node.content = .value(try intValue(value, pathNode)) }
    mutating func encode(_ value: UInt32) throws { node.content = .value(try intValue(value, pathNode)) }
    mutating func encode(_ value: UInt64) throws { node.content = .value(try intValue(value, pathNode)) }
    mutating func encode<T: Encodable>(_ value: T) throws { try node.store(value, path: pathNode) }
}

struct KeyedNodeContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let pathNode: CodingPathNode
    var codingPath: [any CodingKey] { pathNode.path }

    private func put(_ key: Key, _ value: DataValue) { node.append(key: key.stringValue, .value(value)) }

    mutating func encodeNil(forKey key: Key) throws { put(key, .null) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(key, .bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(key, .string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws { throw floatError(pathNode.appending(key), value) }
    mutating func encode(_ value: Float, forKey key: Key) throws { throw floatError(pathNode.appending(key), value) }
    mutating func encode(_ value: Int, forKey key: Key) throws { put(key, try intValue(value, pathNode.appending(key))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { put(key, .int(value)) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { put(key, try intValue(value, pathNode.appending(key))) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        node.append(key: key.stringValue, try EncodingNode.slot(value, path: pathNode.appending(key)))
    }

    private func child(_ key: Key) -> EncodingNode {
        let child = EncodingNode()
        node.append(key: key.stringValue, .node(child))
        return child
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        NodeEncoder(node: child(key), pathNode: pathNode.appending(key)).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        NodeEncoder(node: child(key), pathNode: pathNode.appending(key)).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder {
        let key = AnyKey(stringValue: "super")
        let child = EncodingNode()
        node.append(key: key.stringValue, .node(child))
        return NodeEncoder(node: child, pathNode: pathNode.appending(key))
    }
    mutating func superEncoder(forKey key: Key) -> any Encoder { NodeEncoder(node: child(key), pathNode: pathNode.appending(key)) }
}

struct UnkeyedNodeContainer: UnkeyedEncodingContainer {
    let node: EncodingNode
    let pathNode: CodingPathNode
    var codingPath: [any CodingKey] { pathNode.path }
    private(set) var count = 0

    init(node: EncodingNode, pathNode: CodingPathNode) {
        self.node = node
        self.pathNode = pathNode
        if case .array(let slots) = node.content { count = slots.count }
    }

    private mutating func put(_ slot: EncodingNode.Slot) {
        node.append(slot)
        count += 1
    }

    mutating func encodeNil() throws { put(.value(.null)) }
    mutating func encode(_ value: Bool) throws { put(.value(.bool(value))) }
    mutating func encode(_ value: String) throws { put(.value(.string(value))) }
    mutating func encode(_ value: Double) throws { throw floatError(pathNode.appending(index: count), value) }
    mutating func encode(_ value: Float) throws { throw floatError(pathNode.appending(index: count), value) }
    mutating func encode(_ value: Int) throws { put(.value(try intValue(value, pathNode.appending(index: count)))) }
    mutating func encode(_ value: Int64) throws { put(.value(.int(value))) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        put(try EncodingNode.slot(value, path: pathNode.appending(index: count)))
    }

    private mutating func child() -> EncodingNode {
        let child = EncodingNode()
        put(.node(child))
        return child
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let path = pathNode.appending(index: count)
        return NodeEncoder(node: child(), pathNode: path).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = pathNode.appending(index: count)
        return NodeEncoder(node: child(), pathNode: path).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder {
        let path = pathNode.appending(index: count)
        return NodeEncoder(node: child(), pathNode: path)
    }
}

import Foundation

extension DataValue {
    /// The deepest nesting the JSON reader accepts.
    public static let maxJSONDepth = 128

    /// Parses a document in the atproto JSON form: `{"$link": …}` becomes a CID
    /// link, `{"$bytes": …}` bytes, and blob objects are checked for shape.
    ///
    /// The top level must be an object. Numbers must be integers (`123.0` is
    /// read as 123); `$type`, when present, must be a non-empty string.
    public init(json: Data) throws(DataError) {
        let parsed = try JSONScanner.parse([UInt8](json), maxDepth: Self.maxJSONDepth)
        guard case .object = parsed else { throw DataError(.invalidJSON, "the top level must be an object") }
        self = try DataValue(parsed, path: .root, depth: 0)
    }

    /// Parses a JSON string in the atproto JSON form; see ``init(json:)``.
    public init(jsonString: String) throws(DataError) {
        try self.init(json: Data(jsonString.utf8))
    }

    private init(_ json: JSONValue, path: JSONPath, depth: Int) throws(DataError) {
        guard depth <= Self.maxJSONDepth else {
            throw DataError(.depthExceeded, "JSON nested deeper than \(Self.maxJSONDepth) levels at \(path)")
        }
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d):
            guard d.rounded() == d, abs(d) <= 9_007_199_254_740_992 else {
                throw DataError(.floatNotAllowed, "number \(d) at \(path) is not an integer")
            }
            self = .int(Int64(d))
        case .string(let s): self = .string(s)
        case .array(let elements):
            var values = [DataValue]()
            values.reserveCapacity(elements.count)
            for (i, element) in elements.enumerated() {
                values.append(try DataValue(element, path: .index(i, path), depth: depth + 1))
            }
            self = .array(values)
        case .object(let object):
            self = try Self.fromJSONObject(object, path: path, depth: depth)
        }
    }

    private static func fromJSONObject(_ object: [String: JSONValue], path: JSONPath, depth: Int) throws(DataError) -> DataValue {
        if let link = object["$link"] {
            guard object.count == 1, case .string(let text) = link else {
                throw DataError(.invalidJSON, "$link at \(path) must be the only key and hold a string")
            }
            do { return .link(try CID(text)) } catch {
                throw DataError(.invalidJSON, "$link at \(path): \(error.message)")
            }
        }
        if let bytes = object["$bytes"] {
            guard object.count == 1, case .string(let text) = bytes else {
                throw DataError(.invalidJSON, "$bytes at \(path) must be the only key and hold a string")
            }
            guard let data = Data(base64Encoded: text.paddedForBase64()) else {
                throw DataError(.invalidJSON, "$bytes at \(path) is not base64")
            }
            return .bytes(Array(data))
        }
        var map = DataMap()
        for (key, value) in object {
            map[key] = try DataValue(value, path: .key(key, path), depth: depth + 1)
        }
        if let type = map["$type"] {
            guard case .string(let name) = type, !name.isEmpty else {
                throw DataError(.invalidJSON, "$type at \(path) must be a non-empty string")
            }
            if name == "blob" { try checkBlob(map, path: path) }
        }
        return .map(map)
    }

    private static func checkBlob(_ map: DataMap, path: JSONPath) throws(DataError) {
        guard case .link? = map["ref"] else { throw DataError(.invalidJSON, "blob at \(path) needs a 'ref' link") }
        guard case .string? = map["mimeType"] else { throw DataError(.invalidJSON, "blob at \(path) needs a 'mimeType' string") }
        guard case .int(let size)? = map["size"], size >= 0 else {
            throw DataError(.invalidJSON, "blob at \(path) needs a non-negative integer 'size'")
        }
    }

    /// This value in the atproto JSON form, with keys sorted.
    public func jsonData(prettyPrinted: Bool = false) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = prettyPrinted ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a DataValue cannot fail: it holds no floats.
        return (try? encoder.encode(JSONView(value: self))) ?? Data("null".utf8)
    }

    /// This value in the atproto JSON form, as a string.
    public func jsonString(prettyPrinted: Bool = false) -> String {
        String(decoding: jsonData(prettyPrinted: prettyPrinted), as: UTF8.self)
    }
}

/// Where a value is in a JSON document (`$.a[2]`), spelled out only for an error.
private indirect enum JSONPath: CustomStringConvertible {
    case root
    case index(Int, JSONPath)
    case key(String, JSONPath)

    var description: String {
        switch self {
        case .root: "$"
        case .index(let i, let parent): "\(parent)[\(i)]"
        case .key(let key, let parent): "\(parent).\(key)"
        }
    }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) { self.stringValue = String(intValue); self.intValue = intValue }
}

/// Encodes a DataValue in the atproto JSON form.
private struct JSONView: Encodable {
    let value: DataValue

    func encode(to encoder: any Encoder) throws {
        switch value {
        case .null:
            var c = encoder.singleValueContainer(); try c.encodeNil()
        case .bool(let b):
            var c = encoder.singleValueContainer(); try c.encode(b)
        case .int(let i):
            var c = encoder.singleValueContainer(); try c.encode(i)
        case .string(let s):
            var c = encoder.singleValueContainer(); try c.encode(s)
        case .bytes(let b):
            var c = encoder.container(keyedBy: AnyKey.self)
            let text = Data(b).base64EncodedString().trimmingCharacters(in: CharacterSet(charactersIn: "="))
            try c.encode(text, forKey: AnyKey(stringValue: "$bytes"))
        case .link(let cid):
            var c = encoder.container(keyedBy: AnyKey.self)
            try c.encode(cid.description, forKey: AnyKey(stringValue: "$link"))
        case .array(let elements):
            var c = encoder.unkeyedContainer()
            for element in elements { try c.encode(JSONView(value: element)) }
        case .map(let map):
            var c = encoder.container(keyedBy: AnyKey.self)
            for entry in map { try c.encode(JSONView(value: entry.value), forKey: AnyKey(stringValue: entry.key)) }
        }
    }
}

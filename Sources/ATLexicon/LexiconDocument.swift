import ATData
import ATSyntax
import Foundation

/// One lexicon document: an NSID and its named definitions.
public struct LexiconDocument: Sendable {
    /// The document's NSID.
    public let id: NSID
    /// The revision, if given.
    public let revision: Int?
    /// The description, if given.
    public let description: String?
    /// The definitions by name; `main` is the primary one.
    public let defs: [String: LexiconType]

    /// Types that may only be the `main` definition.
    static let primaryTypes: Set<String> = ["record", "query", "procedure", "subscription", "permission-set"]
    /// Types that may not be a named definition at all.
    static let fieldOnlyTypes: Set<String> = ["unknown", "ref", "union", "params"]

    /// Parses a lexicon JSON document.
    public init(json: Data) throws(LexiconError) {
        let value: DataValue
        do { value = try DataValue(json: json) } catch {
            throw LexiconError(.invalidLexicon, "$", "not a JSON object: \(error.message)")
        }
        try self.init(value: value)
    }

    /// Parses a lexicon document from its data model form.
    public init(value: DataValue) throws(LexiconError) {
        guard case .map(let map) = value else { throw LexiconError(.invalidLexicon, "$", "a lexicon is an object") }
        guard case .int(1)? = map["lexicon"] else { throw LexiconError(.invalidLexicon, "$.lexicon", "must be the integer 1") }
        guard case .string(let idText)? = map["id"] else { throw LexiconError(.invalidLexicon, "$.id", "must be a string") }
        do { id = try NSID(idText) } catch { throw LexiconError(.invalidLexicon, "$.id", error.description) }
        if case .int(let r)? = map["revision"] { revision = Int(r) } else { revision = nil }
        description = map["description"]?.stringValue
        guard case .map(let defMap)? = map["defs"] else { throw LexiconError(.invalidLexicon, "$.defs", "must be an object") }
        var defs = [String: LexiconType]()
        let parser = Parser(id: id.description)
        for entry in defMap {
            let path = "$.defs.\(entry.key)"
            guard case .map(let def) = entry.value, case .string(let type)? = def["type"] else {
                throw LexiconError(.invalidLexicon, path, "a definition needs a string 'type'")
            }
            if Self.primaryTypes.contains(type), entry.key != "main" {
                throw LexiconError(.invalidLexicon, path, "a \(type) definition must be named 'main'")
            }
            if Self.fieldOnlyTypes.contains(type) {
                throw LexiconError(.invalidLexicon, path, "'\(type)' cannot be a named definition")
            }
            defs[entry.key] = try parser.parse(entry.value, path: path)
        }
        self.defs = defs
    }
}

/// Turns lexicon JSON into ``LexiconType`` values.
struct Parser {
    let id: String

    func parse(_ value: DataValue, path: String) throws(LexiconError) -> LexiconType {
        guard case .map(let m) = value, case .string(let type)? = m["type"] else {
            throw LexiconError(.invalidLexicon, path, "a schema needs a string 'type'")
        }
        func int(_ key: String) throws(LexiconError) -> Int? {
            guard let v = m[key] else { return nil }
            guard case .int(let i) = v else { throw LexiconError(.invalidLexicon, "\(path).\(key)", "must be an integer") }
            return Int(i)
        }
        func strings(_ key: String) throws(LexiconError) -> [String]? {
            guard let v = m[key] else { return nil }
            guard case .array(let items) = v, let list = Optional(items.compactMap(\.stringValue)), list.count == items.count else {
                throw LexiconError(.invalidLexicon, "\(path).\(key)", "must be an array of strings")
            }
            return list
        }
        switch type {
        case "boolean":
            return .boolean(const: m["const"]?.boolValue, default: m["default"]?.boolValue)
        case "integer":
            let allowed: [Int64]? = m["enum"]?.arrayValue?.compactMap(\.intValue)
            return .integer(.init(minimum: m["minimum"]?.intValue, maximum: m["maximum"]?.intValue, allowed: allowed,
                                  const: m["const"]?.intValue, default: m["default"]?.intValue))
        case "string":
            return .string(.init(format: m["format"]?.stringValue, minLength: try int("minLength"), maxLength: try int("maxLength"),
                                 minGraphemes: try int("minGraphemes"), maxGraphemes: try int("maxGraphemes"),
                                 allowed: try strings("enum"), const: m["const"]?.stringValue, knownValues: try strings("knownValues")))
        case "bytes": return .bytes(minLength: try int("minLength"), maxLength: try int("maxLength"))
        case "cid-link": return .cidLink
        case "blob": return .blob(accept: try strings("accept"), maxSize: try int("maxSize"))
        case "unknown": return .unknown
        case "token": return .token
        case "array":
            guard let items = m["items"] else { throw LexiconError(.invalidLexicon, path, "an array needs 'items'") }
            return .array(items: try parse(items, path: "\(path).items"), minLength: try int("minLength"), maxLength: try int("maxLength"))
        case "object", "params":
            let object = try parseObject(m, path: path)
            return type == "object" ? .object(object) : .params(object)
        case "ref":
            guard case .string(let ref)? = m["ref"] else { throw LexiconError(.invalidLexicon, path, "a ref needs a string 'ref'") }
            return .ref(resolve(ref))
        case "union":
            guard let refs = try strings("refs") else { throw LexiconError(.invalidLexicon, path, "a union needs 'refs'") }
            return .union(refs: refs.map(resolve), closed: m["closed"]?.boolValue ?? false)
        case "record":
            guard case .string(let key)? = m["key"] else { throw LexiconError(.invalidLexicon, path, "a record needs a string 'key'") }
            guard case .map(let record)? = m["record"], case .string("object")? = record["type"] else {
                throw LexiconError(.invalidLexicon, "\(path).record", "a record's 'record' must be an object schema")
            }
            return .record(key: key, record: try parseObject(record, path: "\(path).record"))
        case "query": return .query(value)
        case "procedure": return .procedure(value)
        case "subscription": return .subscription(value)
        case "permission-set": return .permissionSet(value)
        default:
            throw LexiconError(.invalidLexicon, path, "unknown type '\(type)'")
        }
    }

    func parseObject(_ m: DataMap, path: String) throws(LexiconError) -> LexiconType.Object {
        var properties = [String: LexiconType]()
        if let props = m["properties"] {
            guard case .map(let map) = props else { throw LexiconError(.invalidLexicon, "\(path).properties", "must be an object") }
            for entry in map { properties[entry.key] = try parse(entry.value, path: "\(path).properties.\(entry.key)") }
        }
        func list(_ key: String) -> [String] { m[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        return .init(properties: properties, required: list("required"), nullable: list("nullable"))
    }

    /// `#name` becomes `id#name`; other refs are kept.
    func resolve(_ ref: String) -> String { ref.hasPrefix("#") ? id + ref : ref }
}

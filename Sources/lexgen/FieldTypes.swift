/// How one field's value is held, read and written in generated code.
struct FieldType {
    /// The Swift type.
    var swift: String
    /// An expression that reads the value from the decoder `d`.
    var decode: String
    /// Statements that write the value named by the argument to the encoder `e`.
    var encode: (String) -> String
    /// The struct held directly (not in an array or union), for finding cycles.
    var directStruct: String?
}

/// The types of string formats.
let formatTypes: [String: String] = [
    "did": "DID", "handle": "Handle", "at-identifier": "ATIdentifier", "at-uri": "ATURI", "nsid": "NSID", "tid": "TID",
    "record-key": "RecordKey", "datetime": "Datetime", "language": "Language", "uri": "URI", "cid": "CID",
]

extension FileEmitter {
    /// The field type of `schema`, a property of the type at `owner` named `property`.
    func fieldType(_ schema: JSON, owner: String, property: String, depth: Int = 0) -> FieldType {
        let type = schema["type"]?.string ?? ""
        switch type {
        case "boolean":
            let decode = schema["const"]?.bool.map { "try d.boolean(const: \($0))" } ?? "try d.decodeBool()"
            return FieldType(swift: "Bool", decode: decode, encode: { "e.encodeBool(\($0))" })
        case "integer":
            let rule = integerRule(schema)
            return FieldType(swift: "Int", decode: "try d.integer(\(rule ?? ""))", encode: { "e.encodeInt(Int64(\($0)))" })
        case "string":
            let rule = stringRule(schema)
            if let format = schema["format"]?.string, let swift = formatTypes[format] {
                if swift == "CID" {
                    return FieldType(swift: "CID", decode: "try d.cidString(\(rule ?? ""))", encode: { "e.encodeString(\($0).description)" })
                }
                let decode = "try d.format(\(swift).self\(rule.map { ", \($0)" } ?? ""))"
                return FieldType(swift: swift, decode: decode, encode: { "e.encodeString(\($0).description)" })
            }
            return FieldType(swift: "String", decode: rule.map { "try d.string(\($0))" } ?? "try d.decodeString()",
                             encode: { "e.encodeString(\($0))" })
        case "bytes":
            let rule = lengthRule(schema)
            return FieldType(swift: "[UInt8]", decode: "try d.bytes(\(rule ?? ""))", encode: { "e.encodeBytes(\($0))" })
        case "cid-link":
            return FieldType(swift: "CID", decode: "try d.decodeLink()", encode: { "e.encodeLink(\($0))" })
        case "blob":
            var parts = [String]()
            if let accept = schema["accept"]?.strings { parts.append("accept: [\(accept.map(Naming.literal).joined(separator: ", "))]") }
            if let max = schema["maxSize"]?.int { parts.append("maxSize: \(max)") }
            let rule = parts.isEmpty ? "" : addRule("BlobRule(\(parts.joined(separator: ", ")))")
            return FieldType(swift: "LexBlob", decode: "try d.blob(\(rule))", encode: { "\($0).encode(to: &e)" })
        case "array":
            let item = fieldType(schema["items"] ?? .null, owner: owner, property: property + "Item", depth: depth + 1)
            let rule = lengthRule(schema)
            let x = "x\(depth)"
            return FieldType(
                swift: "[\(item.swift)]",
                decode: "try d.array(\(rule ?? "nil")) { (d: inout D) throws(LexError) in \(item.decode) }",
                encode: { "e.array(\($0)) { e, \(x) in \(item.encode(x)) }" })
        case "ref":
            return refType(schema["ref"]?.string ?? "", owner: owner, property: property, depth: depth)
        case "union":
            let name = unionName(owner: owner, property: property)
            let path = owner + "." + name
            shared.pendingUnions.append(emitUnion(name: name, path: path, schema: schema, frames: false))
            return FieldType(swift: path, decode: "try \(path)(from: &d)", encode: { "\($0).encode(to: &e)" })
        default:  // unknown
            return FieldType(swift: "DataValue", decode: "try d.decodeValue()", encode: { "e.encodeValue(\($0))" })
        }
    }

    private func refType(_ ref: String, owner: String, property: String, depth: Int) -> FieldType {
        guard let target = lex.resolve(ref, from: doc.id) else {
            warnings.append("\(doc.id): unresolved ref \(ref)")
            return FieldType(swift: "DataValue", decode: "try d.decodeValue()", encode: { "e.encodeValue(\($0))" })
        }
        switch target.def["type"]?.string {
        case "object", "record":
            let path = lex.swiftType(doc: target.doc, name: target.name)
            return FieldType(swift: path, decode: "try \(path)(from: &d)", encode: { "\($0).encode(to: &e)" }, directStruct: path)
        case "token":
            return FieldType(swift: "String", decode: "try d.decodeString()", encode: { "e.encodeString(\($0))" })
        default:  // string and array definitions are used in place
            let inner = FileEmitter(lex: lex, doc: target.doc, boxed: boxed, shared: shared)
            return inner.fieldType(target.def, owner: owner, property: property, depth: depth)
        }
    }

    func unionName(owner: String, property: String) -> String {
        var name = Naming.typeName(property)
        if nestedTypeNames.contains(name) { name += "Union" }
        return name
    }

    // MARK: Rules

    func stringRule(_ s: JSON) -> String? {
        var parts = [String]()
        for key in ["minLength", "maxLength", "minGraphemes", "maxGraphemes"] {
            if let v = s[key]?.int { parts.append("\(key): \(v)") }
        }
        if let allowed = s["enum"]?.strings { parts.append("allowed: [\(allowed.map(Naming.literal).joined(separator: ", "))]") }
        if let c = s["const"]?.string { parts.append("const: \(Naming.literal(c))") }
        return parts.isEmpty ? nil : addRule("StringRule(\(parts.joined(separator: ", ")))")
    }

    func integerRule(_ s: JSON) -> String? {
        var parts = [String]()
        if let v = s["minimum"]?.int { parts.append("minimum: \(v)") }
        if let v = s["maximum"]?.int { parts.append("maximum: \(v)") }
        if let allowed = s["enum"]?.array?.compactMap(\.int) { parts.append("allowed: [\(allowed.map(String.init).joined(separator: ", "))]") }
        if let c = s["const"]?.int { parts.append("const: \(c)") }
        return parts.isEmpty ? nil : addRule("IntegerRule(\(parts.joined(separator: ", ")))")
    }

    func lengthRule(_ s: JSON) -> String? {
        var parts = [String]()
        if let v = s["minLength"]?.int { parts.append("minLength: \(v)") }
        if let v = s["maxLength"]?.int { parts.append("maxLength: \(v)") }
        return parts.isEmpty ? nil : addRule("LengthRule(\(parts.joined(separator: ", ")))")
    }

    /// Declares a rule constant in the file and returns its name.
    func addRule(_ text: String) -> String {
        if let index = shared.rules.firstIndex(of: text) { return "_R.r\(index)" }
        shared.rules.append(text)
        return "_R.r\(shared.rules.count - 1)"
    }
}

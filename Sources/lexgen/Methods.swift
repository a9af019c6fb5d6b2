extension FileEmitter {
    /// The members of a query, procedure, subscription or permission-set container.
    func emitMethodMembers(type: String, main: JSON, nestedNames: Set<String>, indent: String) -> String {
        var out = ""
        if type == "permission-set" { return out }
        out += "\(indent)/// How the method is called.\n\(indent)public static let kind: XRPCMethodKind = .\(type)\n"
        out += emitParameters(main["parameters"], indent: indent)
        for (label, typeName) in [("input", "Input"), ("output", "Output")] {
            guard let body = main[label] else { continue }
            let encoding = body["encoding"]?.string
            out += "\(indent)/// The \(label) body's encoding.\n"
            out += "\(indent)public static let \(label)Encoding: String? = \(encoding.map(Naming.literal) ?? "nil")\n"
            guard let schema = body["schema"] else { continue }
            out += emitBody(name: typeName, label: label, schema: schema, description: body["description"]?.string, indent: indent)
        }
        if let message = main["message"], let schema = message["schema"] {
            out += indentLines(emitUnion(name: "Message", path: containerPath + ".Message", schema: schema, frames: true), indent) + "\n"
        }
        let errors = (main["errors"]?.array ?? []).compactMap { $0["name"]?.string }
        if !errors.isEmpty {
            out += "\(indent)/// The error names the method declares.\n"
            out += "\(indent)public enum ErrorName: String, Sendable, CaseIterable {\n"
            for e in errors { out += "\(indent)    case \(Naming.identifier(Naming.lowerFirst(e))) = \(Naming.literal(e))\n" }
            out += "\(indent)}\n"
        }
        return out
    }

    private func emitBody(name: String, label: String, schema: JSON, description: String?, indent: String) -> String {
        switch schema["type"]?.string {
        case "object":
            return emitStruct(
                name: name, path: containerPath + "." + name, lexiconID: doc.id + "#" + label, schema: schema, recordNSID: nil,
                description: description, nestedNames: [], nested: "", indent: indent)
        case "ref":
            let field = fieldType(schema, owner: containerPath, property: name)
            return Naming.docComment(description, indent: indent) + "\(indent)public typealias \(name) = \(field.swift)\n"
        case "union":
            return indentLines(emitUnion(name: name, path: containerPath + "." + name, schema: schema, frames: false), indent) + "\n"
        default:
            shared.warnings.append("\(doc.id): \(label) schema of type \(schema["type"]?.string ?? "?") skipped")
            return ""
        }
    }

    private func emitParameters(_ params: JSON?, indent: String) -> String {
        let properties = params?["properties"]?.entries ?? []
        guard !properties.isEmpty else { return "\(indent)/// The method takes no parameters.\n\(indent)public typealias Parameters = LexNoParameters\n" }
        let required = Set(params?["required"]?.strings ?? [])
        let i1 = indent + "    ", i2 = i1 + "    "
        var out = "\(indent)/// The query parameters.\n\(indent)public struct Parameters: LexParameters {\n"
        var fields = [(name: String, ident: String, swift: String, required: Bool, decode: String, encode: String)]()
        for (name, schema) in properties {
            let (swift, decode, encode) = parameter(name: name, schema: schema)
            fields.append((name, Naming.identifier(name), swift, required.contains(name), decode, encode))
            var doc = schema["description"]?.string ?? ""
            if let def = schema["default"] {
                let text: String
                switch def {
                case .number(let n): text = String(Int(n))
                case .bool(let b): text = String(b)
                case .string(let s): text = "'\(s)'"
                default: text = ""
                }
                doc += (doc.isEmpty ? "" : "\n\n") + "Default: \(text)."
            }
            out += Naming.docComment(doc, indent: i1)
            out += "\(i1)public var \(Naming.identifier(name)): \(swift)\(required.contains(name) ? "" : "?")\n"
        }
        let params = fields.map { "\($0.ident): \($0.swift)\($0.required ? "" : "? = nil")" }
        out += "\n\(i1)/// Parameters from their values.\n\(i1)public init(\(params.joined(separator: ", "))) {\n"
        for f in fields { out += "\(i2)self.\(f.ident) = \(f.ident)\n" }
        out += "\(i1)}\n\n"
        out += "\(i1)public init(query: [(String, String)], validating: Bool = true) throws(LexError) {\n"
        out += "\(i2)let q = LexQuery(query, validating: validating)\n"
        for f in fields {
            out += f.required
                ? "\(i2)self.\(f.ident) = try LexQuery.require(\(f.decode), \(Naming.literal(f.name)))\n"
                : "\(i2)self.\(f.ident) = \(f.decode)\n"
        }
        out += "\(i1)}\n\n"
        out += "\(i1)public var queryItems: [(String, String)] {\n\(i2)var items = [(String, String)]()\n"
        for f in fields {
            out += f.required
                ? "\(i2)do { let v = self.\(f.ident); \(f.encode) }\n"
                : "\(i2)if let v = self.\(f.ident) { \(f.encode) }\n"
        }
        out += "\(i2)return items\n\(i1)}\n\(indent)}\n"
        return out
    }

    /// A parameter's type, how to read it from a `LexQuery` `q`, and how to add `v` to `items`.
    private func parameter(name: String, schema: JSON) -> (String, String, String) {
        let lit = Naming.literal(name)
        func scalar(_ s: JSON) -> (swift: String, read: String, text: String) {
            switch s["type"]?.string {
            case "integer":
                let rule = integerRule(s).map { ", \($0)" } ?? ""
                return ("Int", "try q.integers(\(lit)\(rule))", "String(x)")
            case "boolean":
                return ("Bool", "try q.booleans(\(lit))", "String(x)")
            default:
                let rule = stringRule(s).map { ", \($0)" } ?? ""
                if let format = s["format"]?.string, let swift = formatTypes[format] {
                    if swift == "CID" { return ("CID", "try q.cids(\(lit)\(rule))", "x.description") }
                    return (swift, "try q.formats(\(lit), \(swift).self\(rule))", "x.description")
                }
                return ("String", "try q.strings(\(lit)\(rule))", "x")
            }
        }
        if schema["type"]?.string == "array" {
            let item = scalar(schema["items"] ?? .null)
            let rule = lengthRule(schema).map { "\($0)" } ?? "nil"
            return ("[\(item.swift)]", "try q.list(\(lit), \(rule), \(item.read))",
                    "for x in v { items.append((\(lit), \(item.text))) }")
        }
        let item = scalar(schema)
        return (item.swift, "try q.single(\(lit), \(item.read))", "do { let x = v; items.append((\(lit), \(item.text))) }")
    }
}

/// Prefixes every non-empty line of `text` with `indent`.
func indentLines(_ text: String, _ indent: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false)
        .map { $0.isEmpty ? "" : indent + $0 }
        .joined(separator: "\n")
}

extension FileEmitter {
    struct Member {
        let caseName: String
        let typeName: String
        let swift: String
        let frameName: String
    }

    /// An open (or closed) union as an enum with a case per member and `unknown`.
    /// With `frames`, it also reads and names subscription frame bodies.
    func emitUnion(name: String, path: String, schema: JSON, frames: Bool) -> String {
        let refs = schema["refs"]?.strings ?? []
        let closed = schema["closed"]?.bool ?? false
        var members = [Member]()
        var used: Set<String> = ["unknown"]
        for ref in refs {
            guard let target = lex.resolve(ref, from: doc.id) else {
                shared.warnings.append("\(doc.id): unresolved union member \(ref)")
                continue
            }
            let typeName = Lexicons.typeName(ref, from: doc.id)
            let lastSegment = String(target.doc.id.split(separator: ".").last!)
            var caseName: String
            if target.name == "main" {
                caseName = lastSegment
            } else if target.doc.id == doc.id {
                caseName = target.name
            } else {
                caseName = lastSegment + Naming.upperFirst(target.name)
            }
            caseName = Naming.lowerFirst(caseName)
            if used.contains(caseName) {
                caseName = Naming.lowerFirst(typeName.split(whereSeparator: { $0 == "." || $0 == "#" }).map { Naming.upperFirst(String($0)) }.joined())
            }
            used.insert(caseName)
            let frameName = target.doc.id == doc.id ? "#" + target.name : typeName
            members.append(Member(
                caseName: caseName, typeName: typeName, swift: lex.swiftType(doc: target.doc, name: target.name), frameName: frameName))
        }
        var out = "/// One of: \(refs.map { "`\(Lexicons.typeName($0, from: doc.id))`" }.joined(separator: ", "))"
        out += closed ? " (closed).\n" : "; other types are kept as ``unknown(_:)``.\n"
        out += "public indirect enum \(name): \(frames ? "LexMessage" : "LexValue") {\n"
        for m in members { out += "    /// `\(m.typeName)`\n    case \(Naming.identifier(m.caseName))(\(m.swift))\n" }
        out += "    /// A member this version does not know, kept whole.\n    case unknown(DataValue)\n\n"
        out += entryPoints(indent: "    ")
        out += "    public init<D: LexDecoder>(from d: inout D) throws(LexError) {\n"
        out += "        let type = try d.peekType()\n        switch type {\n"
        for m in members {
            let alt = m.typeName.contains("#") ? "" : ", \(Naming.literal(m.typeName + "#main"))?"
            out += "        case \(Naming.literal(m.typeName))?\(alt): self = .\(Naming.identifier(m.caseName))(try \(m.swift)(from: &d))\n"
        }
        out += "        default:\n            if d.validating {\n"
        out += "                guard let type else { throw LexError(.missingField, \"a union member needs a $type\", path: [\"$type\"]) }\n"
        if closed {
            out += "                throw LexError(.wrongTypeName, \"'\\(type)' is not a member of this closed union\", path: [\"$type\"])\n"
        } else {
            out += "                _ = type\n"
        }
        out += "            }\n            self = .unknown(try d.decodeValue())\n        }\n    }\n\n"
        out += "    public func encode<E: LexEncoder>(to e: inout E) {\n        switch self {\n"
        for m in members { out += "        case .\(Naming.identifier(m.caseName))(let v): v.encode(to: &e, type: \(Naming.literal(m.typeName)))\n" }
        out += "        case .unknown(let v): e.encodeValue(v)\n        }\n    }\n"
        out += "\n    /// The member's `$type`.\n    public var typeName: String? {\n        switch self {\n"
        for m in members { out += "        case .\(Naming.identifier(m.caseName)): \(Naming.literal(m.typeName))\n" }
        out += "        case .unknown(let v): v[\"$type\"]?.stringValue\n        }\n    }\n"
        if frames {
            out += "\n    /// Reads a frame body whose header names it `frameType` (`#commit`, …).\n"
            out += "    public init<D: LexDecoder>(frameType: String, from d: inout D) throws(LexError) {\n        switch frameType {\n"
            for m in members { out += "        case \(Naming.literal(m.frameName)): self = .\(Naming.identifier(m.caseName))(try \(m.swift)(from: &d))\n" }
            out += "        default: self = .unknown(try d.decodeValue())\n        }\n    }\n"
            out += "\n    public init(frameType: String, decoding d: inout LexCBORDecoder) throws(LexError) { try self.init(frameType: frameType, from: &d) }\n"
            out += "    public func encodeFrameBody(into e: inout LexCBOREncoder) { encodeFrameBody(to: &e) }\n"
            out += "\n    /// The frame header's `t` for this message; `nil` for an unknown one.\n    public var frameType: String? {\n        switch self {\n"
            for m in members { out += "        case .\(Naming.identifier(m.caseName)): \(Naming.literal(m.frameName))\n" }
            out += "        case .unknown: nil\n        }\n    }\n"
            out += "\n    /// Writes the frame body: the member without `$type`.\n    public func encodeFrameBody<E: LexEncoder>(to e: inout E) {\n        switch self {\n"
            for m in members { out += "        case .\(Naming.identifier(m.caseName))(let v): v.encode(to: &e, type: nil)\n" }
            out += "        case .unknown(let v): e.encodeValue(v)\n        }\n    }\n"
        }
        out += "}\n"
        return out
    }
}

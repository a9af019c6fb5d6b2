import ATData
import ATSyntax
import Foundation

/// A set of lexicon documents, and validation of values against them.
public struct LexiconCatalog: Sendable {
    /// The documents by NSID.
    public private(set) var documents: [String: LexiconDocument] = [:]

    /// An empty catalog.
    public init() {}

    /// A catalog of `documents`.
    public init(_ documents: [LexiconDocument]) {
        for document in documents { add(document) }
    }

    /// Adds or replaces a document.
    public mutating func add(_ document: LexiconDocument) {
        documents[document.id.description] = document
    }

    /// The lexicons shipped with this package: every `com.atproto.*`, `app.bsky.*`,
    /// `chat.bsky.*` and `tools.ozone.*` document, and Jetstream's (see `lexicons/SOURCE.md`).
    public static func bundled() throws -> LexiconCatalog {
        guard let root = Bundle.module.url(forResource: "lexicons", withExtension: nil) else {
            throw LexiconError(.unknownSchema, "$", "the bundled lexicons are missing")
        }
        var catalog = LexiconCatalog()
        let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
        while let url = files?.nextObject() as? URL {
            guard url.pathExtension == "json" else { continue }
            let document = try LexiconDocument(json: try Data(contentsOf: url))
            catalog.add(document)
        }
        return catalog
    }

    /// The definition a ref names: `nsid#name`, or `nsid` for its `main`.
    public func resolve(_ ref: String) -> LexiconType? {
        let parts = ref.split(separator: "#", maxSplits: 1)
        guard let document = documents[String(parts[0])] else { return nil }
        return document.defs[parts.count > 1 ? String(parts[1]) : "main"]
    }

    /// Checks `record` against the record schema of `collection`.
    public func validate(record: DataValue, collection: NSID) throws(LexiconError) {
        guard case .record(_, let schema)? = resolve(collection.description) else {
            throw LexiconError(.unknownSchema, "$", "no record schema for \(collection)")
        }
        guard case .map(let map) = record else { throw LexiconError(.wrongType, "$", "a record is an object") }
        if let type = map["$type"], type.stringValue != collection.description {
            throw LexiconError(.wrongType, "$.$type", "must be \(collection)")
        }
        try validate(record, object: schema, path: "$")
    }

    /// Checks `value` against `type`; `path` names the value in errors.
    public func validate(_ value: DataValue, against type: LexiconType, path: String = "$") throws(LexiconError) {
        func wrong(_ expected: String) -> LexiconError {
            LexiconError(.wrongType, path, "expected \(expected), found \(value.kindName)")
        }
        switch type {
        case .boolean(let const, _):
            guard case .bool(let b) = value else { throw wrong("a boolean") }
            if let const, b != const { throw LexiconError(.notAllowed, path, "must be \(const)") }
        case .integer(let spec):
            guard case .int(let i) = value else { throw wrong("an integer") }
            if let const = spec.const, i != const { throw LexiconError(.notAllowed, path, "must be \(const)") }
            if let allowed = spec.allowed, !allowed.contains(i) { throw LexiconError(.notAllowed, path, "\(i) is not one of \(allowed)") }
            if let min = spec.minimum, i < min { throw LexiconError(.outOfRange, path, "\(i) is below \(min)") }
            if let max = spec.maximum, i > max { throw LexiconError(.outOfRange, path, "\(i) is above \(max)") }
        case .string(let spec):
            guard case .string(let s) = value else { throw wrong("a string") }
            try validate(string: s, spec, path: path)
        case .bytes(let min, let max):
            guard case .bytes(let b) = value else { throw wrong("bytes") }
            if let min, b.count < min { throw LexiconError(.outOfRange, path, "\(b.count) bytes, fewer than \(min)") }
            if let max, b.count > max { throw LexiconError(.outOfRange, path, "\(b.count) bytes, more than \(max)") }
        case .cidLink:
            guard case .link = value else { throw wrong("a cid-link") }
        case .blob(let accept, let maxSize):
            guard case .map(let m) = value, m["$type"] == "blob", case .link? = m["ref"],
                  case .string(let mime)? = m["mimeType"], case .int(let size)? = m["size"]
            else { throw wrong("a blob") }
            if let maxSize, size > maxSize { throw LexiconError(.outOfRange, path, "blob of \(size) bytes, over \(maxSize)") }
            if let accept, !accept.contains(where: { Self.mime(mime, matches: $0) }) {
                throw LexiconError(.blobMimeType, path, "\(mime) is not one of \(accept)")
            }
        case .unknown:
            guard case .map(let m) = value, m["$type"] != "blob" else { throw wrong("an object") }
        case .array(let items, let min, let max):
            guard case .array(let elements) = value else { throw wrong("an array") }
            if let min, elements.count < min { throw LexiconError(.outOfRange, path, "\(elements.count) items, fewer than \(min)") }
            if let max, elements.count > max { throw LexiconError(.outOfRange, path, "\(elements.count) items, more than \(max)") }
            for (i, element) in elements.enumerated() { try validate(element, against: items, path: "\(path)[\(i)]") }
        case .object(let object), .params(let object), .record(_, let object):
            try validate(value, object: object, path: path)
        case .ref(let ref):
            guard let target = resolve(ref) else { throw LexiconError(.unknownSchema, path, "no definition for \(ref)") }
            if case .token = target {
                guard case .string(let s) = value else { throw wrong("a token string") }
                guard s == ref else { throw LexiconError(.notAllowed, path, "must be the token \(ref)") }
                return
            }
            try validate(value, against: target, path: path)
        case .union(let refs, let closed):
            guard case .map(let m) = value else { throw wrong("an object") }
            guard case .string(let type)? = m["$type"] else { throw LexiconError(.unionMismatch, path, "a union value needs $type") }
            let normalized = type.hasSuffix("#main") ? String(type.dropLast(5)) : type
            guard let ref = refs.first(where: { $0 == normalized || $0 == normalized + "#main" }) else {
                if closed { throw LexiconError(.unionMismatch, path, "\(type) is not one of \(refs)") }
                return  // an open union accepts types it does not know
            }
            guard let target = resolve(ref) else { throw LexiconError(.unknownSchema, path, "no definition for \(ref)") }
            try validate(value, against: target, path: path)
        case .token:
            throw LexiconError(.wrongType, path, "a token is not a value type")
        case .query, .procedure, .subscription, .permissionSet:
            throw LexiconError(.wrongType, path, "\(type.name) definitions do not describe values")
        }
    }

    private func validate(_ value: DataValue, object: LexiconType.Object, path: String) throws(LexiconError) {
        guard case .map(let map) = value else {
            throw LexiconError(.wrongType, path, "expected an object, found \(value.kindName)")
        }
        for name in object.required where map[name] == nil {
            throw LexiconError(.missingField, "\(path).\(name)", "required")
        }
        for (name, type) in object.properties.sorted(by: { $0.key < $1.key }) {
            guard let field = map[name] else { continue }
            if field == .null {
                guard object.nullable.contains(name) else {
                    throw LexiconError(.wrongType, "\(path).\(name)", "may not be null")
                }
                continue
            }
            try validate(field, against: type, path: "\(path).\(name)")
        }
    }

    private func validate(string s: String, _ spec: LexiconType.StringType, path: String) throws(LexiconError) {
        if let const = spec.const, s != const { throw LexiconError(.notAllowed, path, "must be \"\(const)\"") }
        if let allowed = spec.allowed, !allowed.contains(s) { throw LexiconError(.notAllowed, path, "\"\(s)\" is not one of \(allowed)") }
        let bytes = s.utf8.count
        if let min = spec.minLength, bytes < min { throw LexiconError(.outOfRange, path, "\(bytes) bytes, fewer than \(min)") }
        if let max = spec.maxLength, bytes > max { throw LexiconError(.outOfRange, path, "\(bytes) bytes, more than \(max)") }
        if spec.minGraphemes != nil || spec.maxGraphemes != nil {
            let graphemes = s.count
            if let min = spec.minGraphemes, graphemes < min { throw LexiconError(.outOfRange, path, "\(graphemes) graphemes, fewer than \(min)") }
            if let max = spec.maxGraphemes, graphemes > max { throw LexiconError(.outOfRange, path, "\(graphemes) graphemes, more than \(max)") }
        }
        if let format = spec.format, !StringFormat.isValid(s, format: format) {
            throw LexiconError(.invalidFormat, path, "\"\(s.prefix(100))\" is not a valid \(format)")
        }
    }

    /// `image/png` matches `image/png`, `image/*` and `*/*`.
    static func mime(_ mime: String, matches pattern: String) -> Bool {
        if pattern == "*/*" || pattern == mime { return true }
        if pattern.hasSuffix("/*") { return mime.hasPrefix(pattern.dropLast(1)) }
        return false
    }
}

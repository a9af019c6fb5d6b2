import Foundation

/// One lexicon document as the generator sees it.
struct Doc {
    let id: String
    let json: JSON
    var defs: [(String, JSON)] { json["defs"]?.entries ?? [] }
    func def(_ name: String) -> JSON? { json["defs"]?[name] }
    var main: JSON? { def("main") }
    var mainType: String? { main?["type"]?.string }
    /// Whether the document's own type is a struct (an object or record main).
    var isStruct: Bool { mainType == "object" || mainType == "record" }
}

/// All documents, with the naming rules shared by both emitters.
struct Lexicons {
    let docs: [String: Doc]
    var sortedIDs: [String] { docs.keys.sorted() }

    init(directory: URL) throws {
        var docs = [String: Doc]()
        let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)!
        for case let url as URL in files where url.pathExtension == "json" {
            let json = try JSON.parse(Data(contentsOf: url))
            guard let id = json["id"]?.string else { continue }
            docs[id] = Doc(id: id, json: json)
        }
        self.docs = docs
    }

    /// The definition a reference names, resolved against `docID`.
    func resolve(_ ref: String, from docID: String) -> (doc: Doc, name: String, def: JSON)? {
        let full = ref.hasPrefix("#") ? docID + ref : ref
        let parts = full.split(separator: "#", maxSplits: 1).map(String.init)
        let name = parts.count > 1 ? parts[1] : "main"
        guard let doc = docs[parts[0]], let def = doc.def(name) else { return nil }
        return (doc, name, def)
    }

    /// `app.bsky.feed.post` → `App.Bsky.Feed.Post`.
    static func typePath(_ nsid: String) -> String {
        nsid.split(separator: ".").map { Naming.upperFirst(String($0)) }.joined(separator: ".")
    }

    /// The Swift type of a definition.
    func swiftType(doc: Doc, name: String) -> String {
        name == "main" ? Self.typePath(doc.id) : Self.typePath(doc.id) + "." + Naming.typeName(name)
    }

    /// A union member's `$type`: `nsid` for a main definition, else `nsid#name`.
    static func typeName(_ ref: String, from docID: String) -> String {
        let full = ref.hasPrefix("#") ? docID + ref : ref
        return full.hasSuffix("#main") ? String(full.dropLast(5)) : full
    }
}

enum Naming {
    static let keywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init", "inout", "internal",
        "let", "open", "operator", "private", "precedencegroup", "protocol", "public", "rethrows", "static", "struct",
        "subscript", "typealias", "var", "break", "case", "catch", "continue", "default", "defer", "do", "else",
        "fallthrough", "for", "guard", "if", "in", "repeat", "return", "throw", "switch", "where", "while", "Any", "as",
        "false", "is", "nil", "self", "Self", "super", "throws", "true", "try", "Type", "Protocol",
    ]

    static func upperFirst(_ s: String) -> String { s.prefix(1).uppercased() + s.dropFirst() }
    static func lowerFirst(_ s: String) -> String { s.prefix(1).lowercased() + s.dropFirst() }

    /// A def name as a type name; names that clash with Swift's are suffixed.
    static func typeName(_ name: String) -> String {
        let upper = upperFirst(name)
        return ["Type", "Protocol", "Self", "Any"].contains(upper) ? upper + "Def" : upper
    }

    /// A name usable as a Swift identifier in declarations.
    static func identifier(_ name: String) -> String { keywords.contains(name) ? "`\(name)`" : name }

    /// A Swift string literal.
    static func literal(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Doc comment lines for a description.
    static func docComment(_ text: String?, indent: String) -> String {
        guard let text, !text.isEmpty else { return "" }
        return text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { "\(indent)/// \($0)".replacingOccurrences(of: " +$", with: "", options: .regularExpression) }
            .joined(separator: "\n") + "\n"
    }

    /// DAG-CBOR key order: shorter first, then bytewise.
    static func canonicalOrder(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        return x.count != y.count ? x.count < y.count : x.lexicographicallyPrecedes(y)
    }
}

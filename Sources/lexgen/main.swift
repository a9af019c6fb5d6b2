import Foundation

/// lexgen: generates the ATProtoAPI types and the Bluesky SDK's methods from
/// the bundled lexicons.
///
///     swift run lexgen [package-root]
///
/// Output is deterministic; CI regenerates and fails on any difference.
let root = URL(fileURLWithPath: CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : FileManager.default.currentDirectoryPath)
let lexiconDir = root.appendingPathComponent("Sources/ATLexicon/Resources/lexicons")
let typesDir = root.appendingPathComponent("Sources/ATProtoAPI/Generated")
let clientDir = root.appendingPathComponent("Sources/Bluesky/Generated")

let lex: Lexicons
do { lex = try Lexicons(directory: lexiconDir) } catch {
    FileHandle.standardError.write(Data("lexgen: cannot read lexicons: \(error)\n".utf8))
    exit(1)
}

// Pass one finds the struct fields that close a cycle; pass two writes with them boxed.
var edges = [(from: String, field: String, to: String)]()
for id in lex.sortedIDs {
    let emitter = FileEmitter(lex: lex, doc: lex.docs[id]!, boxed: [])
    _ = emitter.emitFile()
    edges += emitter.edges
}
let boxed = Cycles.fieldsToBox(edges)

var files = [String: String]()
var warnings = [String]()
for id in lex.sortedIDs {
    let emitter = FileEmitter(lex: lex, doc: lex.docs[id]!, boxed: boxed)
    files[Lexicons.typePath(id) + ".swift"] = emitter.emitFile()
    warnings += emitter.warnings
}
files["Namespaces.swift"] = Index.namespaces(lex)
files["LexiconIndex.swift"] = Index.index(lex)

var clientFiles = ClientEmitter(lex: lex).files()

func write(_ files: [String: String], to dir: URL) throws {
    let fm = FileManager.default
    try fm.createDirectory(at: dir, withIntermediateDirectories: true)
    for name in try fm.contentsOfDirectory(atPath: dir.path) where name.hasSuffix(".swift") && files[name] == nil {
        try fm.removeItem(at: dir.appendingPathComponent(name))
    }
    for (name, text) in files {
        let url = dir.appendingPathComponent(name)
        if (try? String(contentsOf: url, encoding: .utf8)) != text { try text.write(to: url, atomically: true, encoding: .utf8) }
    }
}

do {
    try write(files, to: typesDir)
    try write(clientFiles, to: clientDir)
} catch {
    FileHandle.standardError.write(Data("lexgen: \(error)\n".utf8))
    exit(1)
}
for warning in Set(warnings).sorted() { FileHandle.standardError.write(Data("lexgen: warning: \(warning)\n".utf8)) }
print("lexgen: \(lex.docs.count) documents, \(files.count) type files, \(clientFiles.count) client files, \(boxed.count) boxed fields")

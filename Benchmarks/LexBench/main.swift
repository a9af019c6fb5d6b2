import ATData
import ATProtoAPI
import ATRepo
import Foundation

// Release-mode benchmark of the generated types: `app.bsky.feed.post` records
// decoded from DAG-CBOR and JSON into `App.Bsky.Feed.Post` (validating) and
// encoded back. The records are the real posts of the repository CARs given,
// repeated up to --records; the corpus is written out so that
// scripts/bench-lexicon runs the anchors (libipld, the atproto SDK) on the same bytes.
// Prints one JSON object per line: {"name", "seconds", "items", "bytes"}.
//
//   LexBench --out DIR [--records N] [--repeat N] CAR…

var total = 100_000
var repeats = 5
var out = ".build/bench"
var cars = [String]()
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    switch flag {
    case "--records": total = Int(arguments.popFirst() ?? "") ?? total
    case "--repeat": repeats = Int(arguments.popFirst() ?? "") ?? repeats
    case "--out": out = arguments.popFirst() ?? out
    default: cars.append(flag)
    }
}

/// Whether `value` holds a blob in the legacy `{cid, mimeType}` form, which
/// the atproto SDK's models do not take: such posts stay out of the corpus.
func hasLegacyBlob(_ value: DataValue) -> Bool {
    switch value {
    case .map(let map):
        if map["mimeType"] != nil, map["$type"] != "blob" { return true }
        return map.contains { hasLegacyBlob($0.value) }
    case .array(let items): return items.contains(where: hasLegacyBlob)
    default: return false
    }
}

// The real posts, in DAG-CBOR as their repositories hold them.
var real = [[UInt8]]()
for path in cars {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    for (path, block) in try Repository.recordBlocks(car: bytes) where path.hasPrefix("app.bsky.feed.post/") {
        // Only posts that are valid (and so round-trip) make the corpus.
        if let post = try? App.Bsky.Feed.Post(cbor: block), post.cbor() == block, !hasLegacyBlob(post.dataValue) { real.append(block) }
    }
}
guard !real.isEmpty else {
    FileHandle.standardError.write(Data("LexBench: no posts in \(cars)\n".utf8))
    exit(2)
}
let cbor = (0..<total).map { real[$0 % real.count] }
let json = cbor.map { try! App.Bsky.Feed.Post(cbor: $0).json() }

// The corpus for the anchors: length-prefixed DAG-CBOR, and JSON lines.
var cborFile = Data()
for record in cbor {
    var length = UInt32(record.count).bigEndian
    cborFile.append(Data(bytes: &length, count: 4))
    cborFile.append(contentsOf: record)
}
try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
try cborFile.write(to: URL(fileURLWithPath: out + "/posts.cbor"))
try Data(json.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: out + "/posts.jsonl"))

@MainActor func measure(_ name: String, bytes: Int, _ body: () throws -> Int) rethrows {
    var best = Duration.seconds(1_000_000)
    var items = 0
    for _ in 0..<repeats {
        let start = ContinuousClock.now
        items = try body()
        best = min(best, ContinuousClock.now - start)
    }
    let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) / 1e18
    print("{\"name\":\"\(name)\",\"seconds\":\(seconds),\"items\":\(items),\"bytes\":\(bytes),\"distinct\":\(real.count)}")
}

func decodeCBOR(_ records: [[UInt8]]) throws -> [App.Bsky.Feed.Post] {
    var posts = [App.Bsky.Feed.Post]()
    posts.reserveCapacity(records.count)
    for record in records { posts.append(try App.Bsky.Feed.Post(cbor: record)) }
    return posts
}

func decodeJSON(_ records: [[UInt8]]) throws -> [App.Bsky.Feed.Post] {
    var posts = [App.Bsky.Feed.Post]()
    posts.reserveCapacity(records.count)
    for record in records { posts.append(try App.Bsky.Feed.Post(json: record)) }
    return posts
}

let cborBytes = cbor.reduce(0) { $0 + $1.count }
let jsonBytes = json.reduce(0) { $0 + $1.count }
let posts = try decodeCBOR(cbor)
try measure("lex.cbor.decode", bytes: cborBytes) { try decodeCBOR(cbor).count }
try measure("lex.cbor.encode", bytes: cborBytes) {
    var n = 0
    for post in posts { n &+= post.cbor().count }
    return n == cborBytes ? posts.count : 0
}
try measure("lex.json.decode", bytes: jsonBytes) { try decodeJSON(json).count }
try measure("lex.json.encode", bytes: jsonBytes) {
    var n = 0
    for post in posts { n &+= post.json().count }
    return n == jsonBytes ? posts.count : 0
}
try measure("datavalue.cbor.decode", bytes: cborBytes) {
    var n = 0
    for record in cbor { if case .map = try DAGCBOR.decode(record) { n += 1 } }
    return n
}

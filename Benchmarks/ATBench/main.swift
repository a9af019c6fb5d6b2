import ATData
import Crypto
import Foundation

// Release-mode benchmarks of the data layer. Prints one JSON object per line:
// {"name", "seconds", "items", "bytes"}; scripts/bench runs the same workloads
// in libipld and cbrrr and prints the ratios.
//
//   ATBench [--posts N] [--records N] [--car PATH] [--repeat N] [--only NAME,NAME…]

var posts = 100_000
var records = 100_000
var carPath = ".build/bench/repo.car"
var repeats = 5
var only = ""
var commits = 2_000
let usage = "usage: ATBench [--posts N] [--records N] [--commits N] [--car PATH] [--repeat N] [--only NAME,NAME…]\n"
/// Prints the usage and exits with status 2.
func usageError(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n" + usage).utf8))
    exit(2)
}
/// The flag's value as a positive count.
func count(_ flag: String, _ value: String) -> Int {
    guard let n = Int(value), n > 0 else { usageError("\(flag) needs a positive number, not \(value)") }
    return n
}
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    if flag == "--help" || flag == "-h" { print(usage, terminator: ""); exit(0) }
    guard let value = arguments.popFirst() else { usageError("\(flag) needs a value") }
    switch flag {
    case "--posts": posts = count(flag, value)
    case "--records": records = count(flag, value)
    case "--car": carPath = value
    case "--repeat": repeats = count(flag, value)
    case "--only": only = value
    case "--commits": commits = count(flag, value)
    default: usageError("unknown flag \(flag)")
    }
}

/// Runs `body` `repeats` times and reports the fastest run.
@MainActor func measure(_ name: String, items: Int, bytes: Int = 0, _ body: () throws -> Void) rethrows {
    guard only.isEmpty || only.split(separator: ",").contains(Substring(name)) else { return }
    var best = Duration.seconds(1_000_000)
    for _ in 0..<repeats {
        let start = ContinuousClock.now
        try body()
        best = min(best, ContinuousClock.now - start)
    }
    let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) / 1e18
    FileHandle.standardOutput.write(Data("{\"name\":\"\(name)\",\"seconds\":\(seconds),\"items\":\(items),\"bytes\":\(bytes)}\n".utf8))
}

// MARK: Workload (a): DAG-CBOR encode and decode of small posts.

let values: [DataValue] = (0..<posts).map { i in
    [
        "$type": "app.bsky.feed.post",
        "text": .string("post number \(i)"),
        "createdAt": "2024-01-01T00:00:00.000Z",
        "langs": ["en"],
    ]
}
let encoded = values.map { DAGCBOR.encode($0) }
let postBytes = encoded.reduce(0) { $0 + $1.count }

// Each workload runs in a function over locals, so that the loop pays no
// exclusivity checks for top-level globals.
func encodeAll(_ values: [DataValue]) -> Int {
    var output = [[UInt8]]()
    output.reserveCapacity(values.count)
    for value in values { output.append(DAGCBOR.encode(value)) }
    return output.count
}

func decodeAll(_ encoded: [[UInt8]]) throws -> Int {
    var count = 0
    for bytes in encoded {
        if case .map(let map) = try DAGCBOR.decode(bytes) { count &+= map.count }
    }
    return count
}

var sink = 0
measure("cbor.encode", items: posts, bytes: postBytes) { sink &+= encodeAll(values) }
try measure("cbor.decode", items: posts, bytes: postBytes) { sink &+= try decodeAll(encoded) }

struct Post: Codable {
    var type: String
    var text: String
    var createdAt: String
    var langs: [String]
    enum CodingKeys: String, CodingKey { case type = "$type", text, createdAt, langs }
}
let structs = (0..<posts).map { Post(type: "app.bsky.feed.post", text: "post number \($0)", createdAt: "2024-01-01T00:00:00.000Z", langs: ["en"]) }
let encoder = DAGCBOREncoder()
try measure("cbor.encode.codable", items: posts, bytes: postBytes) {
    for post in structs { sink &+= try encoder.encode(post).count }
}
let decoder = DAGCBORDecoder()
try measure("cbor.decode.codable", items: posts, bytes: postBytes) {
    for bytes in encoded { sink &+= try decoder.decode(Post.self, from: bytes).text.utf8.count }
}

// MARK: Workload (b): scan and check a repository-shaped CAR.

/// A CAR shaped like a repository export: `records` post records, and one
/// MST-like node per four records that links them, about 1.25 blocks per record.
func makeRepositoryCAR(records: Int) -> [UInt8] {
    var blocks = [(CID, [UInt8])]()
    blocks.reserveCapacity(records + records / 4 + 2)
    var recordCIDs = [CID]()
    for i in 0..<records {
        let record: DataValue = [
            "$type": "app.bsky.feed.post",
            "text": .string("record \(i): " + String(repeating: "lorem ipsum ", count: i % 8)),
            "createdAt": "2024-01-01T00:00:00.000Z",
            "langs": ["en"],
        ]
        let (cid, bytes) = DAGCBOR.encodeWithCID(record)
        blocks.append((cid, bytes))
        recordCIDs.append(cid)
    }
    var previous: CID? = nil
    for start in stride(from: 0, to: records, by: 4) {
        let entries: [DataValue] = (start..<min(start + 4, records)).map { i in
            [
                "k": .bytes(Array("app.bsky.feed.post/3k\(String(i, radix: 32))".utf8)),
                "p": .int(Int64(i % 9)),
                "t": previous.map { .link($0) } ?? .null,
                "v": .link(recordCIDs[i]),
            ]
        }
        let node: DataValue = ["e": .array(entries), "l": previous.map { .link($0) } ?? .null]
        let (cid, bytes) = DAGCBOR.encodeWithCID(node)
        blocks.append((cid, bytes))
        previous = cid
    }
    let commit: DataValue = ["did": "did:plc:bench", "version": 3, "data": .link(previous!), "rev": "3kbench", "prev": .null, "sig": .bytes([UInt8](repeating: 7, count: 64))]
    let (root, commitBytes) = DAGCBOR.encodeWithCID(commit)
    return CARWriter.encode(roots: [root], blocks: [(root, commitBytes)] + blocks)
}

if only.isEmpty || only.contains("car") || only.contains("sha") {
let car = makeRepositoryCAR(records: records)
try FileManager.default.createDirectory(at: URL(fileURLWithPath: carPath).deletingLastPathComponent(), withIntermediateDirectories: true)
try Data(car).write(to: URL(fileURLWithPath: carPath))
let blockCount = try CARReader(car).forEachBlock { _, _ in }
let blockBytes = try CARReader(car).blocks().map(\.data)

// The ceiling: SHA-256 of the same blocks and nothing else.
measure("sha256.blocks", items: blockCount, bytes: car.count) {
    for data in blockBytes {
        data.withUnsafeBytes { sink &+= Int(SHA256Digest(hashing: $0).hashValue & 1) }
    }
}
try measure("car.scan.nocheck", items: blockCount, bytes: car.count) {
    sink &+= try CARReader(car, options: CAROptions(verifyBlocks: false)).forEachBlock { _, _ in }
}
try measure("car.scan.check", items: blockCount, bytes: car.count) {
    sink &+= try CARReader(car).forEachBlock { _, _ in }
}
try measure("car.scan.check.decode", items: blockCount, bytes: car.count) {
    try CARReader(car).forEachBlock { (_, data) throws(DataError) in
        if case .map(let map) = try DAGCBOR.decode(data) { sink &+= map.count }
    }
}

/// The CAR as an HTTP body would deliver it: 64 KiB chunks.
struct Chunks: AsyncSequence {
    let bytes: [UInt8]
    struct Iterator: AsyncIteratorProtocol {
        let bytes: [UInt8]
        var offset = 0
        mutating func next() async -> ArraySlice<UInt8>? {
            guard offset < bytes.count else { return nil }
            defer { offset += 64 << 10 }
            return bytes[offset..<Swift.min(offset + (64 << 10), bytes.count)]
        }
    }
    func makeAsyncIterator() -> Iterator { Iterator(bytes: bytes) }
}

func streamAll(_ car: [UInt8]) async throws -> Int {
    var count = 0
    for try await _ in CARStreamReader(Chunks(bytes: car)) { count += 1 }
    return count
}

if only.isEmpty || only.contains("car.stream") {
    var best = Duration.seconds(1_000_000)
    for _ in 0..<repeats {
        let start = ContinuousClock.now
        sink &+= try await streamAll(car)
        best = min(best, ContinuousClock.now - start)
    }
    let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) / 1e18
    FileHandle.standardOutput.write(Data("{\"name\":\"car.stream.check\",\"seconds\":\(seconds),\"items\":\(blockCount),\"bytes\":\(car.count)}\n".utf8))
}
}

if only.isEmpty || only.contains("mst") || only.contains("repo") || only.contains("crypto") {
    let directory = URL(fileURLWithPath: carPath).deletingLastPathComponent().path
    try RepoBench.run(records: records, commits: commits, directory: directory) { name, items, bytes, body in
        try measure(name, items: items, bytes: bytes, body)
    }
}
if sink == 42 { print("") }  // keeps the work observable

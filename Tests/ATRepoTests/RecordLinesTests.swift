import ATCrypto
import ATData
import ATRepo
import ATSyntax
import Foundation
import Testing

/// `RecordLines.parse` and `Repository.buildCAR`: what `bsky car build` runs.
@Suite("Record lines and CAR build")
struct RecordLinesTests {
    static func line(_ i: Int) -> (text: String, collection: String, rkey: String, record: String) {
        let collection = ["app.bsky.feed.post", "app.bsky.feed.like", "app.bsky.graph.follow"][i % 3]
        let rkey = "r\(String(i, radix: 36))"
        let record = i % 3 == 0
            ? #"{"text":"post \#(i) \u00e9","$type":"app.bsky.feed.post","langs":["en"],"createdAt":"2024-01-01T00:00:00.000Z"}"#
            : #"{"subject":{"uri":"at://did:plc:x/app.bsky.feed.post/\#(i)","cid":"c"},"$type":"\#(collection)","n":\#(i - 500)}"#
        // The keys of the line come in any order.
        let text = i % 2 == 0
            ? #"{"collection":"\#(collection)","rkey":"\#(rkey)","record":\#(record)}"#
            : #"{"record":\#(record), "note":[1,{"x":null}],"rkey":"\#(rkey)","collection":"\#(collection)"}"#
        return (text, collection, rkey, record)
    }

    /// Enough lines to be split over the cores, with blank ones among them.
    @Test func linesEncodeAsTheTreeDoesInOrder() throws {
        let rows = (0..<5000).map(Self.line)
        let text = rows.enumerated().map { $0.offset % 97 == 5 ? $0.element.text + "\n  " : $0.element.text }.joined(separator: "\n") + "\n"
        let records = try RecordLines.parse(Array(text.utf8))
        #expect(records.count == rows.count)
        for (record, row) in zip(records, rows) {
            let expected = DAGCBOR.encode(try DataValue(jsonString: row.record))
            #expect(record.bytes == expected)
            #expect(record.cid == CID.compute(expected, codec: .dagCBOR))
            #expect(try record.path == RepoPath(collection: NSID(row.collection), recordKey: RecordKey(row.rkey)))
        }
    }

    /// Each worker reuses its working storage from line to line: wide maps
    /// (sorted by `sort`), small ones (by insertion), repeated keys and maps
    /// reordered inside maps reordered, in lines that follow one another,
    /// and paths written with escapes.
    @Test func workingStorageCarriesNothingFromLineToLine() throws {
        var rng = SystemRandomNumberGenerator()
        var rows = [(text: String, record: String, path: String)]()
        for i in 0..<3000 {
            let record: String
            switch i % 3 {
            case 0:
                var keys = (0..<(17 + i % 5)).map { #""k\#($0)":\#($0)"# }
                keys.append(#""k3":"again \#(i)""#)
                keys.append(#""inner":{"zz":{"b":1,"a":[{"y":2,"x":1}]},"a":\#(i)}"#)
                keys.shuffle(using: &rng)
                record = "{" + keys.joined(separator: ",") + "}"
            case 1:
                record = #"{"b":{"d":1,"c":2,"d":\#(i)},"a":"\#(i)"}"#
            default:
                record = #"{"$type":"app.bsky.feed.like","createdAt":"2024-01-01T00:00:00.000Z"}"#
            }
            // "app.bsky.feed.post" and "r…" with escapes on every other line.
            let collection = i % 2 == 0 ? "app.bsky.feed.post" : #"app.bsky.feed.p\u006fst"#
            let rkey = i % 4 == 1 ? #"r\#(i)\u0078"# : "r\(i)x"
            rows.append((#"{"rkey":"\#(rkey)","record":\#(record),"collection":"\#(collection)"}"#, record, "app.bsky.feed.post/r\(i)x"))
        }
        let records = try RecordLines.parse(Array(rows.map(\.text).joined(separator: "\n").utf8))
        #expect(records.count == rows.count)
        for (record, row) in zip(records, rows) {
            #expect(record.bytes == DAGCBOR.encode(try DataValue(jsonString: row.record)), "\(row.text)")
            #expect(String(decoding: record.key, as: UTF8.self) == row.path)
        }
    }

    @Test(arguments: [
        (#"{"collection":"app.bsky.feed.post","rkey":"a"}"#, "needs"),
        (#"{"collection":"not an nsid","rkey":"a","record":{}}"#, "collection"),
        (#"{"collection":"app.bsky.feed.post","rkey":"a/b","record":{}}"#, "rkey"),
        (#"{"collection":"app.bsky.feed.post","rkey":"a","record":[1]}"#, "object"),
        (#"{"collection":"app.bsky.feed.post","rkey":"a","record":{"$link":"bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"}}"#, "object"),
        (#"{"collection":"app.bsky.feed.post","rkey":"a","record":{"x":1.5}}"#, "not an integer"),
        (#"{"collection":"app.bsky.feed.post","rkey":"a","record":{}} trailing"#, "after"),
        ("not json", "JSON"),
    ])
    func aBadLineIsNamedByItsNumber(_ bad: String, _ words: String) throws {
        // The bad line sits among thousands of good ones, past blank lines.
        var lines = (0..<4000).map { Self.line($0).text }
        lines.insert("", at: 10)
        lines.insert(bad, at: 3001)
        lines.append(bad)
        let error = #expect(throws: RecordLinesError.self) { try RecordLines.parse(Array(lines.joined(separator: "\n").utf8)) }
        #expect(error?.line == 3002)
        #expect(error?.description.contains(words) == true, "\(String(describing: error))")
    }

    @Test func manyCollectionsAreEachCheckedOnce() throws {
        // More collections than the few kept for a scan: the rest go to a set.
        let collections = (0..<40).map { "com.example.c\($0)" }
        var lines = (0..<400).map { i in
            #"{"collection":"\#(collections[(i * 7) % 40])","rkey":"r\#(i)","record":{"$type":"\#(collections[(i * 7) % 40])"}}"#
        }
        let records = try RecordLines.parse(Array(lines.joined(separator: "\n").utf8))
        #expect(Set(records.map { String(decoding: $0.key, as: UTF8.self).split(separator: "/")[0] }).count == 40)
        // A bad one still fails, whichever known one it looks like.
        lines.insert(#"{"collection":"com.example.c3.","rkey":"x","record":{}}"#, at: 300)
        let error = #expect(throws: RecordLinesError.self) { try RecordLines.parse(Array(lines.joined(separator: "\n").utf8)) }
        #expect(error?.line == 301)
    }

    @Test func buildCARGivesTheBytesOfBuildAndExport() throws {
        let key = try Keys.privateKey(.k256, rawBytes: Array(repeating: 0x11, count: 32))
        let did = try DID("did:plc:lines")
        let rev = try TID("3kabcdefghij2")
        // Enough blocks (over 4,096) that the file is written on two cores.
        var rows = (0..<5000).map(Self.line)
        // Two paths holding the same record: its block is written once.
        rows.append((#"{"collection":"app.bsky.feed.like","rkey":"twin","record":\#(rows[1].record)}"#, "app.bsky.feed.like", "twin", rows[1].record))
        let records = try RecordLines.parse(Array(rows.map(\.text).joined(separator: "\n").utf8))
        let built = try Repository.buildCAR(did: did, key: key, rev: rev, records: records.shuffled())
        let values = try rows.map { (RepoPath(collection: try NSID($0.collection), recordKey: try RecordKey($0.rkey)), try DataValue(jsonString: $0.record)) }
        let reference = try Repository.build(did: did, key: key, rev: rev, records: values)
        #expect(built.car == (try reference.exportCAR()))
        #expect(built.commitCID == reference.commitCID)
        // Records already in key order, and in reverse, give the same file.
        let inOrder = records.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        #expect(try Repository.buildCAR(did: did, key: key, rev: rev, records: inOrder).car == built.car)
        #expect(try Repository.buildCAR(did: did, key: key, rev: rev, records: inOrder.reversed()).car == built.car)
        let summary = try Repository.verify(car: built.car, key: key.publicKey)
        let blocks = try CARReader(built.car).blocks().count
        #expect(summary.records == rows.count && summary.blocks == blocks)

        let twice = records + [records[7]]
        #expect { _ = try Repository.buildCAR(did: did, key: key, rev: rev, records: twice) } throws: {
            ($0 as? RepoError)?.code == .keyExists
        }
    }
}

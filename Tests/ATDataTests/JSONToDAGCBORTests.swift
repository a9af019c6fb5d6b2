import ATData
import Foundation
import Testing

/// `DAGCBOR.encode(json:)`: atproto JSON straight to DAG-CBOR must give the
/// bytes of `DAGCBOR.encode(DataValue(json:))`, and refuse what it refuses.
@Suite("JSON to DAG-CBOR")
struct JSONToDAGCBORTests {
    /// Both ways of encoding `json`, or the error codes if either refuses it.
    static func both(_ json: String) -> (direct: Result<[UInt8], DataError>, tree: Result<[UInt8], DataError>) {
        let bytes = Array(json.utf8)
        let direct = Result { () throws(DataError) in try DAGCBOR.encode(json: bytes) }
        let tree = Result { () throws(DataError) in DAGCBOR.encode(try DataValue(json: Data(bytes))) }
        return (direct, tree)
    }

    static func expectSame(_ json: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let (direct, tree) = both(json)
        switch (direct, tree) {
        case (.success(let a), .success(let b)):
            #expect(a == b, "\(json)", sourceLocation: sourceLocation)
        case (.failure, .failure):
            break
        default:
            Issue.record("one way accepts what the other refuses: \(json)\ndirect: \(direct)\ntree: \(tree)", sourceLocation: sourceLocation)
        }
    }

    /// JSON for `value` with each object's keys in a random order and random
    /// white space, so that the encoder has to sort.
    static func shuffledJSON(_ value: DataValue, using rng: inout some RandomNumberGenerator) -> String {
        let space = [" ", "", "\n", "\t"].randomElement(using: &rng)!
        switch value {
        case .map(let map):
            let entries = map.map { entry in
                let key = String(decoding: try! JSONSerialization.data(withJSONObject: [entry.key], options: [.fragmentsAllowed]), as: UTF8.self)
                return "\(key.dropFirst().dropLast())\(space):\(shuffledJSON(entry.value, using: &rng))"
            }.shuffled(using: &rng)
            return "{" + space + entries.joined(separator: "," + space) + "}"
        case .array(let items):
            return "[" + items.map { shuffledJSON($0, using: &rng) }.joined(separator: ",") + "]"
        default:
            // Scalars, links and bytes: the canonical JSON form, unwrapped.
            let wrapped: DataValue = ["v": value]
            let text = wrapped.jsonString()
            return String(text.dropFirst(5).dropLast())
        }
    }

    @Test func randomValuesEncodeAsTheTreeDoes() throws {
        var rng = SystemRandomNumberGenerator()
        var checked = 0
        for _ in 0..<600 {
            var map = DataMap()
            for _ in 0..<Int.random(in: 0..<8, using: &rng) { map[RandomData.string(using: &rng)] = RandomData.value(depth: 1, using: &rng) }
            let value = DataValue.map(map)
            // Values with a "$type" the JSON form refuses are skipped by both.
            guard let expected = try? DAGCBOR.encode(DataValue(json: value.jsonData())) else { continue }
            #expect(try DAGCBOR.encode(json: Array(value.jsonData())) == expected)
            let shuffled = Self.shuffledJSON(value, using: &rng)
            #expect(try DAGCBOR.encode(json: Array(shuffled.utf8)) == expected, "\(shuffled)")
            checked += 1
        }
        #expect(checked > 300)
    }

    @Test func wideMapsAndArraysGetLongHeaders() throws {
        for count in [23, 24, 255, 256, 300] {
            let keys = (0..<count).map { "k\($0)" }.shuffled()
            Self.expectSame("{" + keys.map { "\"\($0)\":[" + (0..<count).map(String.init).joined(separator: ",") + "]" }.joined(separator: ",") + "}")
        }
        let longKey = String(repeating: "x", count: 300)
        Self.expectSame(#"{"\#(longKey)":1,"a":2,"\#(longKey)y":3}"#)
    }

    @Test(arguments: [
        #"{"s":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00","i":-42,"z":0,"big":9007199254740991,"f":3.0,"e":1e2,"t":true,"n":null}"#,
        #"{"a":[1,[2,{}],[]],"o":{"k":"v"},"dup":1,"dup":2,"emoji":"😀","min":-9223372036854775808}"#,
        #"{"b":{"$bytes":"AAEC"},"l":{"$link":"bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"},"d":{"x":1,"x":{"y":2}}}"#,
        #"{"$type":"app.bsky.feed.post","text":"hi","embed":{"$type":"blob","ref":{"$link":"bafkreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"},"mimeType":"image/png","size":3}}"#,
        #"{"$link":"bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"}"#,
        #"{"$bytes":""}"#,
        #"{"bb":1,"a":2,"ab":3,"b":4,"":5,"é":6,"z":7}"#,
        #"{"max":9223372036854775807,"neg0":-0,"e":1.0e+2,"E":2E1,"m":-1.5e1,"z":0.0}"#,
    ])
    func documentsEncodeAsTheTreeDoes(_ json: String) throws {
        #expect(throws: Never.self) { try DAGCBOR.encode(json: Array(json.utf8)) }
        Self.expectSame(json)
    }

    @Test(arguments: [
        // JSON syntax.
        #"{"a":1,}"#, #"{"a":[1,]}"#, #"{"a":01}"#, #"{"a":1.}"#, #"{"a":.5}"#, "{\"a\":\"\u{1}\"}", #"{"a":"\ud800"}"#,
        #"{"a":"\x"}"#, #"{"a":tru}"#, #"{"a":1} x"#, #"{a:1}"#, #"{"a":1"#, "", "[1]", #""s""#, "12",
        // The data model.
        #"{"a":1.5}"#, #"{"a":1e400}"#, #"{"a":99999999999999999999}"#, #"{"a":-9223372036854775809}"#,
        #"{"a":1.e5}"#, #"{"a":1e+}"#, #"{"a":1E}"#, #"{"a":-}"#, #"{"a":--1}"#, #"{"a":+1}"#,
        #"{"$type":""}"#, #"{"$type":3}"#, #"{"a":{"$type":null}}"#,
        #"{"$link":"bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm","x":1}"#,
        #"{"x":1,"$link":"bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"}"#,
        #"{"a":{"$link":3}}"#, #"{"a":{"$link":"nope"}}"#, #"{"a":{"$bytes":"***"}}"#, #"{"a":{"$bytes":"AA","b":1}}"#,
        #"{"$type":"blob","mimeType":"a/b","size":1}"#,
        #"{"$type":"blob","ref":"bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm","mimeType":"a/b","size":1}"#,
        #"{"$type":"blob","ref":{"$link":"bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"},"size":1}"#,
        #"{"$type":"blob","ref":{"$link":"bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"},"mimeType":"a/b","size":-1}"#,
    ])
    func bothRefuse(_ json: String) {
        let (direct, tree) = Self.both(json)
        guard case .failure(let a) = direct, case .failure(let b) = tree else {
            Issue.record("accepted: \(json)\ndirect: \(direct)\ntree: \(tree)")
            return
        }
        #expect(a.code == b.code || [a.code, b.code].allSatisfy { [.invalidJSON, .typeMismatch, .integerOutOfRange, .floatNotAllowed].contains($0) },
                "\(json): \(a) / \(b)")
    }

    @Test func depthIsBounded() {
        let deep = #"{"a":"# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        let error = #expect(throws: DataError.self) { try DAGCBOR.encode(json: Array(deep.utf8)) }
        #expect(error?.code == .depthExceeded)
        let fine = #"{"a":"# + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}"
        Self.expectSame(fine)
    }

    @Test func invalidUTF8IsRefused() {
        #expect(throws: DataError.self) { try DAGCBOR.encode(json: [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D]) }
        // An escaped string is checked too.
        #expect(throws: DataError.self) { try DAGCBOR.encode(json: [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0x5C, 0x6E, 0xC3, 0x22, 0x7D]) }
    }
}

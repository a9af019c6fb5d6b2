import ATData
import Foundation
import Testing

/// The atproto JSON reader (`DataValue(json:)`): strict JSON, read directly.
@Suite("JSON reader")
struct JSONReaderTests {
    @Test func valuesOfEveryKind() throws {
        let value = try DataValue(jsonString: #"""
            {"s":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00","i":-42,"z":0,"big":9007199254740991,"f":3.0,"e":1e2,"t":true,"n":null,
             "a":[1,[2,{}],[]],"o":{"k":"v"},"dup":1,"dup":2,"emoji":"😀"}
            """#)
        #expect(value["s"] == .string("a\"b\\c/d\u{8}\u{C}\n\r\té😀"))
        #expect(value["i"] == .int(-42) && value["z"] == .int(0) && value["big"] == .int(9_007_199_254_740_991))
        #expect(value["f"] == .int(3) && value["e"] == .int(100))
        #expect(value["t"] == .bool(true) && value["n"] == .null)
        #expect(value["a"] == [1, [2, .map(DataMap())], []])
        #expect(value["o"]?["k"] == "v" && value["dup"] == .int(2) && value["emoji"] == "😀")
    }

    @Test(arguments: [
        #"{"a":1,}"#, #"{"a":[1,]}"#, #"{"a":01}"#, #"{"a":1.}"#, #"{"a":.5}"#, #"{"a":1e}"#, #"{"a":-}"#, "{\"a\":\"\u{1}\"}",
        #"{"a":"\ud800"}"#, #"{"a":"\udc00x"}"#, #"{"a":"\x"}"#, #"{"a":"\u12"}"#, #"{"a":tru}"#, #"{"a":1} x"#, #"{a:1}"#, #"{"a" 1}"#,
        #"{"a":1"#, #"{"a":"x"#, "", "[1]", #"{"a":1.5}"#, #"{"a":1e400}"#, #"{"a":NaN}"#,
    ])
    func invalidDocumentsAreRefused(_ text: String) {
        #expect(throws: DataError.self, "\(text)") { try DataValue(jsonString: text) }
    }

    @Test func invalidUTF8AndDeepNestingAreRefused() {
        #expect(throws: DataError.self) { try DataValue(json: Data([0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D])) }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let error = #expect(throws: DataError.self) { try DataValue(jsonString: #"{"a":"# + deep + "}") }
        #expect(error?.code == .depthExceeded)
    }

    /// M1 of issue 11: half a million integers are read without `Codable`'s
    /// per-value container attempts (the seconds that took are gone).
    @Test func aLargeArrayOfIntegersParses() throws {
        let text = #"{"record":["# + (0..<500_000).map(String.init).joined(separator: ",") + "]}"
        let value = try DataValue(jsonString: text)
        #expect(value["record"]?.arrayValue?.count == 500_000)
        #expect(value["record"]?.arrayValue?.last == .int(499_999))
    }
}

import ATData
import Foundation
import Testing

@Suite("DAG-CBOR")
struct DAGCBORTests {
    static func expectError(_ bytes: [UInt8], _ code: DataError.Code, offset: Int? = nil, limits: DAGCBOR.Limits = .default,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let value = try DAGCBOR.decode(bytes, limits: limits)
            Issue.record("expected \(code), decoded \(value)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == code, sourceLocation: sourceLocation)
            if let offset { #expect(error.offset == offset, sourceLocation: sourceLocation) }
        }
        // Validation without building values applies the same rules.
        do {
            try DAGCBOR.validate(bytes, limits: limits)
            Issue.record("validate accepted what decode rejects (\(code))", sourceLocation: sourceLocation)
        } catch let error as DataError {
            #expect(error.code == code, "validate", sourceLocation: sourceLocation)
        } catch {
            Issue.record("untyped \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func encodesKnownBytes() {
        #expect(DAGCBOR.encode(0) == [0x00])
        #expect(DAGCBOR.encode(23) == [0x17])
        #expect(DAGCBOR.encode(24) == [0x18, 0x18])
        #expect(DAGCBOR.encode(256) == [0x19, 0x01, 0x00])
        #expect(DAGCBOR.encode(-1) == [0x20])
        #expect(DAGCBOR.encode(.int(Int64.min)) == [0x3B, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(DAGCBOR.encode("a") == [0x61, 0x61])
        #expect(DAGCBOR.encode(.null) == [0xF6])
        #expect(DAGCBOR.encode(true) == [0xF5])
        #expect(DAGCBOR.encode(["b": 1, "aa": 2, "a": 3]) == [0xA3, 0x61, 0x61, 0x03, 0x61, 0x62, 0x01, 0x62, 0x61, 0x61, 0x02])
    }

    @Test func mapsKeepCanonicalOrder() {
        var map = DataMap()
        for key in ["zzz", "a", "bb", "b", "aaa", "c"] { map[key] = .string(key) }
        #expect(map.keys == ["a", "b", "c", "bb", "aaa", "zzz"])
        map["bb"] = nil
        #expect(map.keys == ["a", "b", "c", "aaa", "zzz"])
        #expect(map["zzz"] == "zzz")
    }

    @Test func roundTripsRandomValues() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let value = RandomData.value(depth: 0, using: &rng)
            let bytes = DAGCBOR.encode(value)
            #expect(try DAGCBOR.decode(bytes) == value)
            #expect(throws: Never.self) { try DAGCBOR.validate(bytes) }
            #expect(DAGCBOR.encode(try DAGCBOR.decode(bytes)) == bytes)
        }
    }

    @Test func largeValuesRoundTrip() throws {
        // Past the encoder's 1 KiB scratch, values are measured and written exactly.
        let links: [DataValue] = (0..<60).map { .link(CID.compute([UInt8($0)])) }
        let value: DataValue = [
            "text": .string(String(repeating: "é", count: 700)),
            "links": .array(links),
            "bytes": .bytes([UInt8](repeating: 7, count: 300)),
            "z": .int(Int64.max),
            "zz": .link(CID.compute([1], codec: .raw)),
        ]
        let bytes = DAGCBOR.encode(value)
        #expect(bytes.count > 4000)
        #expect(try DAGCBOR.decode(bytes) == value)
        // Each part encodes the same alone as inside the whole.
        let map = try #require(value.mapValue)
        var expected: [UInt8] = [0xA5]
        for entry in map.entries { expected += DAGCBOR.encode(.string(entry.key)) + DAGCBOR.encode(entry.value) }
        #expect(bytes == expected)
    }

    // MARK: Adversarial input: each gets its typed error.

    @Test func truncation() {
        let full = DAGCBOR.encode(["text": "hello world", "n": 1000, "list": [1, 2, 3], "l": .link(CID.compute([1]))])
        for length in 0..<full.count {
            Self.expectError(Array(full.prefix(length)), .truncated)
        }
    }

    @Test func nonCanonicalIntegers() {
        Self.expectError([0x18, 0x17], .nonCanonicalInteger, offset: 0)  // 23 in two bytes
        Self.expectError([0x19, 0x00, 0xFF], .nonCanonicalInteger)
        Self.expectError([0x1A, 0x00, 0x00, 0xFF, 0xFF], .nonCanonicalInteger)
        Self.expectError([0x1B, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF], .nonCanonicalInteger)
        Self.expectError([0x38, 0x00], .nonCanonicalInteger)  // -1 in two bytes
        Self.expectError([0x62, 0x61, 0x62, 0x78, 0x01, 0x61], .trailingBytes)
        Self.expectError([0x78, 0x01, 0x61], .nonCanonicalInteger)  // string length in two bytes
        Self.expectError([0x98, 0x01, 0x01], .nonCanonicalInteger)  // array length in two bytes
    }

    @Test func integersOutsideInt64() {
        Self.expectError([0x1B, 0x80, 0, 0, 0, 0, 0, 0, 0], .integerOutOfRange)
        Self.expectError([0x3B, 0x80, 0, 0, 0, 0, 0, 0, 0], .integerOutOfRange)
    }

    @Test func unsortedAndDuplicateKeys() {
        // {"b": 1, "a": 2}
        Self.expectError([0xA2, 0x61, 0x62, 0x01, 0x61, 0x61, 0x02], .unsortedMapKeys, offset: 4)
        // {"aa": 1, "b": 2}: length-first order puts "b" first
        Self.expectError([0xA2, 0x62, 0x61, 0x61, 0x01, 0x61, 0x62, 0x02], .unsortedMapKeys)
        // {"a": 1, "a": 2}
        Self.expectError([0xA2, 0x61, 0x61, 0x01, 0x61, 0x61, 0x02], .duplicateMapKey, offset: 4)
        // {1: 2}
        Self.expectError([0xA1, 0x01, 0x02], .nonStringMapKey, offset: 1)
    }

    @Test func floats() {
        Self.expectError([0xF9, 0x3C, 0x00], .floatNotAllowed)
        Self.expectError([0xFA, 0x3F, 0x80, 0x00, 0x00], .floatNotAllowed)
        Self.expectError([0xFB, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0], .floatNotAllowed)
        Self.expectError([0xA1, 0x61, 0x61, 0xFB, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0], .floatNotAllowed, offset: 3)
    }

    @Test func tags() throws {
        let cid = CID.compute([1, 2, 3]).bytes
        Self.expectError([0xC1, 0x01], .invalidTag)  // tag 1 (epoch time)
        Self.expectError([0xD8, 0x2B] + [0x58, 0x25, 0x00] + cid, .invalidTag)  // tag 43
        Self.expectError([0xD8, 0x2A, 0x58, 0x24] + cid, .invalidTag)  // no 0x00 prefix
        Self.expectError([0xD8, 0x2A, 0x01], .invalidTag)  // tag 42 over an integer
        Self.expectError([0xD8, 0x2A, 0x58, 0x26, 0x00] + cid + [0x00], .invalidCID)  // a byte after the CID
        Self.expectError([0xD8, 0x2A, 0x43, 0x00, 0x01, 0x71], .truncated)  // CID cut short inside the link
        #expect(try DAGCBOR.decode([0xD8, 0x2A, 0x58, 0x25, 0x00] + cid) == .link(try CID(bytes: cid)))
    }

    @Test func hugeDeclaredLengths() {
        // A byte string, a text string, an array and a map each claim 2^32 - 1.
        for major: UInt8 in [0x5A, 0x7A, 0x9A, 0xBA] {
            Self.expectError([major, 0xFF, 0xFF, 0xFF, 0xFF], .lengthTooLarge)
        }
        Self.expectError([0x5B, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], .lengthTooLarge)
        // Within the limit but longer than the input.
        Self.expectError([0x59, 0x10, 0x00, 0x01], .truncated)
        let tight = DAGCBOR.Limits(maxDepth: 8, maxContainerCount: 2, maxStringLength: 3)
        Self.expectError([0x83, 0x01, 0x02, 0x03], .lengthTooLarge, limits: tight)
        Self.expectError([0x64, 0x61, 0x62, 0x63, 0x64], .lengthTooLarge, limits: tight)
    }

    @Test func otherForbiddenForms() {
        Self.expectError([0x5F, 0x41, 0x00, 0xFF], .indefiniteLength)
        Self.expectError([0x9F, 0x01, 0xFF], .indefiniteLength)
        Self.expectError([0xBF, 0xFF], .indefiniteLength)
        Self.expectError([0xF7], .unsupportedValue)  // undefined
        Self.expectError([0xF0], .unsupportedValue)  // simple(16)
        Self.expectError([0xF8, 0x20], .unsupportedValue)
        Self.expectError([0xFF], .unsupportedValue)  // lone break
        Self.expectError([0x1C], .unsupportedValue)  // reserved additional info
        Self.expectError([0x62, 0xC3, 0x28], .invalidUTF8)
        Self.expectError([0x01, 0x02], .trailingBytes, offset: 1)
    }

    @Test func depthIsBounded() {
        let deep = [UInt8](repeating: 0x81, count: 10_000) + [0x01]
        Self.expectError(deep, .depthExceeded)
        let ok = [UInt8](repeating: 0x81, count: 100) + [0x01]
        #expect(throws: Never.self) { try DAGCBOR.decode(ok) }
    }
}

/// Random values of the data model, for property tests.
enum RandomData {
    static func value(depth: Int, using rng: inout some RandomNumberGenerator) -> DataValue {
        let kind = Int.random(in: 0..<(depth > 3 ? 6 : 8), using: &rng)
        switch kind {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .int([Int64.random(in: -30...30, using: &rng), Int64.random(in: Int64.min...Int64.max, using: &rng)].randomElement(using: &rng)!)
        case 3: return .string(string(using: &rng))
        case 4: return .bytes((0..<Int.random(in: 0..<40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        case 5: return .link(CID.compute([UInt8.random(in: 0...255, using: &rng)], codec: Bool.random(using: &rng) ? .raw : .dagCBOR))
        case 6: return .array((0..<Int.random(in: 0..<5, using: &rng)).map { _ in value(depth: depth + 1, using: &rng) })
        default:
            var map = DataMap()
            for _ in 0..<Int.random(in: 0..<6, using: &rng) { map[string(using: &rng)] = value(depth: depth + 1, using: &rng) }
            return .map(map)
        }
    }

    static func string(using rng: inout some RandomNumberGenerator) -> String {
        let pieces = ["a", "b", "z", "$type", "é", "😀", "text", "\u{0}", "ab", "ü"]
        return (0..<Int.random(in: 0..<5, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
    }
}

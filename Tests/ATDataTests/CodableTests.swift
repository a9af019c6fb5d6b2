import ATData
import Foundation
import Testing

@Suite("Codable bridging")
struct CodableTests {
    struct Post: Codable, Equatable {
        var type = "app.bsky.feed.post"
        var text: String
        var createdAt: String
        var langs: [String]?
        var reply: StrongRef?
        var count: Int
        var thumb: Data?

        enum CodingKeys: String, CodingKey {
            case type = "$type", text, createdAt, langs, reply, count, thumb
        }
    }

    struct StrongRef: Codable, Equatable {
        var uri: String
        var cid: CID
    }

    @Test func structsRoundTripAndMatchTheValueModel() throws {
        let ref = StrongRef(uri: "at://did:plc:abc/app.bsky.feed.post/1", cid: CID.compute(Array("x".utf8)))
        let post = Post(text: "hi", createdAt: "2024-01-01T00:00:00.000Z", langs: ["en"], reply: ref, count: -5, thumb: Data([1, 2, 3]))
        let bytes = try DAGCBOREncoder().encode(post)
        #expect(try DAGCBORDecoder().decode(Post.self, from: bytes) == post)

        let expected: DataValue = [
            "$type": "app.bsky.feed.post", "text": "hi", "createdAt": "2024-01-01T00:00:00.000Z",
            "langs": ["en"], "count": -5, "thumb": .bytes([1, 2, 3]),
            "reply": ["uri": "at://did:plc:abc/app.bsky.feed.post/1", "cid": .link(ref.cid)],
        ]
        #expect(bytes == DAGCBOR.encode(expected))
    }

    @Test func nilOptionalsAreLeftOut() throws {
        let post = Post(text: "x", createdAt: "2024-01-01T00:00:00.000Z", langs: nil, reply: nil, count: 0, thumb: nil)
        let value = try DAGCBOREncoder().encodeToValue(post)
        #expect(value.mapValue?.keys == ["text", "$type", "count", "createdAt"])
    }

    @Test func floatsAreRejected() {
        struct Bad: Encodable { let x: Double }
        #expect(throws: EncodingError.self) { try DAGCBOREncoder().encode(Bad(x: 1.5)) }
    }

    @Test func shapeErrorsAreDecodingErrors() throws {
        let bytes = DAGCBOR.encode(["text": 5])
        #expect(throws: DecodingError.self) { try DAGCBORDecoder().decode(StrongRef.self, from: bytes) }
        #expect(throws: DataError.self) { try DAGCBORDecoder().decode(StrongRef.self, from: [0xA1]) }
        let big = DAGCBOR.encode(["v": .int(300)])
        struct Small: Decodable { let v: UInt8 }
        #expect(throws: DecodingError.self) { try DAGCBORDecoder().decode(Small.self, from: big) }
    }

    @Test func errorsCarryTheCodingPath() throws {
        struct Outer: Codable { var items: [StrongRef] }
        let bad: DataValue = ["items": [["uri": "at://a", "cid": .link(CID.compute([1]))], ["uri": 5, "cid": .link(CID.compute([2]))]]]
        do {
            _ = try DAGCBORDecoder().decode(Outer.self, from: bad)
            Issue.record("expected a type mismatch")
        } catch let DecodingError.typeMismatch(_, context) {
            #expect(context.codingPath.map(\.stringValue) == ["items", "1", "uri"])
        }
        struct Floaty: Encodable { var list: [Double] }
        do {
            _ = try DAGCBOREncoder().encode(Floaty(list: [1.5]))
            Issue.record("expected an error")
        } catch let EncodingError.invalidValue(_, context) {
            #expect(context.codingPath.map(\.stringValue) == ["list", "0"])
        }
    }

    @Test func handWrittenContainersWork() throws {
        struct Custom: Codable, Equatable {
            var name: String
            var tags: [String]
            var nested: [String: Int]
            init(name: String, tags: [String], nested: [String: Int]) { (self.name, self.tags, self.nested) = (name, tags, nested) }
            enum Keys: String, CodingKey { case name, info }
            enum InfoKeys: String, CodingKey { case tags, nested }
            init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: Keys.self)
                name = try c.decode(String.self, forKey: .name)
                let info = try c.nestedContainer(keyedBy: InfoKeys.self, forKey: .info)
                var list = try info.nestedUnkeyedContainer(forKey: .tags)
                tags = []
                while !list.isAtEnd { tags.append(try list.decode(String.self)) }
                nested = try info.decode([String: Int].self, forKey: .nested)
            }
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: Keys.self)
                try c.encode(name, forKey: .name)
                var info = c.nestedContainer(keyedBy: InfoKeys.self, forKey: .info)
                var list = info.nestedUnkeyedContainer(forKey: .tags)
                for tag in tags { try list.encode(tag) }
                try info.encode(nested, forKey: .nested)
                try c.encode("second", forKey: .name)  // the later value wins
            }
        }
        let value = Custom(name: "first", tags: ["a", "b"], nested: ["zz": 1, "a": 2])
        let bytes = try DAGCBOREncoder().encode(value)
        let expected: DataValue = ["name": "second", "info": ["tags": ["a", "b"], "nested": ["a": 2, "zz": 1]]]
        #expect(bytes == DAGCBOR.encode(expected))
        var back = value
        back.name = "second"
        #expect(try DAGCBORDecoder().decode(Custom.self, from: bytes) == back)
    }
}

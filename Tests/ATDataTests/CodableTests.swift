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
}

import ATData
import ATSyntax
import Bluesky
import Foundation
import Testing

@Suite("Pagination")
struct PaginationTests {
    let did = try! DID("did:plc:abc")
    static let cids = (0..<6).map { CID.compute([UInt8($0)], codec: .raw).description }

    func page(_ cids: ArraySlice<String>, cursor: String?) -> ScriptedTransport.Handler {
        let list = cids.map { "\"\($0)\"" }.joined(separator: ",")
        return reply(200, cursor.map { #"{"cids":[\#(list)],"cursor":"\#($0)"}"# } ?? #"{"cids":[\#(list)]}"#)
    }

    func walk(_ transport: ScriptedTransport) async throws -> [[String]] {
        var pages = [[String]]()
        for try await page in client(transport).sync.listBlobs(did: did, limit: 2) {
            pages.append(page.cids.map(\.description))
        }
        return pages
    }

    @Test func endsWhenTheCursorIsAbsent() async throws {
        let c = Self.cids
        let transport = ScriptedTransport([page(c[0..<2], cursor: "a"), page(c[2..<4], cursor: "b"), page(c[4..<6], cursor: nil)])
        #expect(try await walk(transport) == [Array(c[0..<2]), Array(c[2..<4]), Array(c[4..<6])])
        let queries = transport.requests.map { $0.request.path ?? "" }
        #expect(queries == [
            "/xrpc/com.atproto.sync.listBlobs?did=did:plc:abc&limit=2",
            "/xrpc/com.atproto.sync.listBlobs?did=did:plc:abc&limit=2&cursor=a",
            "/xrpc/com.atproto.sync.listBlobs?did=did:plc:abc&limit=2&cursor=b",
        ])
    }

    @Test func endsWhenTheCursorIsEmpty() async throws {
        let transport = ScriptedTransport([page(Self.cids[0..<2], cursor: "a"), page(Self.cids[2..<3], cursor: ""), page([], cursor: nil)])
        #expect(try await walk(transport).count == 2)
        #expect(transport.requests.count == 2)
    }

    @Test func endsWhenTheCursorRepeats() async throws {
        let transport = ScriptedTransport(
            [page(Self.cids[0..<2], cursor: "a"), page(Self.cids[2..<4], cursor: "b"), page(Self.cids[4..<6], cursor: "a")],
            fallback: page(Self.cids[0..<1], cursor: "z"))
        #expect(try await walk(transport).count == 3)
        #expect(transport.requests.count == 3)
    }

    @Test func anEmptyFirstPageEndsIt() async throws {
        let transport = ScriptedTransport([page([], cursor: nil)])
        #expect(try await walk(transport) == [[]])
    }

    @Test func anErrorEndsTheSequence() async throws {
        let transport = ScriptedTransport([page(Self.cids[0..<2], cursor: "a"), reply(400, #"{"error":"RepoNotFound"}"#)])
        var iterator = client(transport).sync.listBlobs(did: did).makeAsyncIterator()
        #expect(try await iterator.next()?.cids.count == 2)
        let error = await #expect(throws: BlueskyError.self) { try await iterator.next() }
        #expect(error?.kind == .xrpc(.repoNotFound))
        #expect(try await iterator.next() == nil)
        #expect(transport.requests.count == 2)
    }

    @Test func aSinglePageTakesACursor() async throws {
        let transport = ScriptedTransport([page(Self.cids[0..<1], cursor: "next")])
        let page = try await client(transport).sync.listBlobs(did: did, since: try TID("3jzfcijpj2z2a"), limit: 5, cursor: "x+y/z")
        #expect(page.cursor == "next")
        #expect(transport.requests.first?.request.path == "/xrpc/com.atproto.sync.listBlobs?did=did:plc:abc&since=3jzfcijpj2z2a&limit=5&cursor=x%2By%2Fz")
    }

    @Test func pagesCanStartAtACursorAndNeverRevisitIt() async throws {
        var seen = [String?]()
        let pages = Pages<Int>(startingAt: "s") { cursor in
            (cursor == "s" ? 1 : 2, cursor == "s" ? "t" : "s")
        }
        for try await page in pages { seen.append(String(page)) }
        #expect(seen == ["1", "2"])
    }
}

import ATSyntax
import Foundation
import Testing

@Suite("Syntax values")
struct SyntaxValueTests {
    @Test func didParts() throws {
        let did = try DID("did:plc:7iza6de2dwap2sbkpav7c6c6")
        #expect(did.method == "plc")
        #expect(did.identifier == "7iza6de2dwap2sbkpav7c6c6")
    }

    @Test func errorsSayWhatIsWrong() {
        #expect(throws: SyntaxError("DID", .invalidStructure, "must start with 'did:'")) { try DID("plc:abc") }
        do {
            _ = try Handle("jo_hn.test")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidCharacter)
            #expect(error.type == "Handle")
        }
        do {
            _ = try Datetime("1985-13-12T23:20:50.123Z")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .outOfRange)
        }
        do {
            _ = try Language("en-a-foo-a-bar")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .duplicate)
        }
    }

    @Test func handleIsNormalisedToLowercase() throws {
        #expect(try Handle("XX.LCS.MIT.EDU") == Handle("xx.lcs.mit.edu"))
        #expect(try Handle("Alice.Bsky.Social").description == "alice.bsky.social")
    }

    @Test func nsidAuthorityAndName() throws {
        let nsid = try NSID("app.bsky.feed.post")
        #expect(nsid.authority == "feed.bsky.app")
        #expect(nsid.name == "post")
        #expect(try NSID("com.Example.fooBar").name == "fooBar")
        #expect(try NSID("com.Example.fooBar").authority == "example.com")
    }

    @Test func tidRoundTripsThroughItsParts() throws {
        let tid = TID(microseconds: 1_700_000_000_000_000, clockID: 42)
        #expect(tid.microseconds == 1_700_000_000_000_000)
        #expect(tid.clockID == 42)
        #expect(try TID(tid.description) == tid)
        #expect(tid.description.count == 13)
        #expect(try TID("2222222222222").rawValue == 0)
        #expect(try TID("3jzfcijpj2z2a").description == "3jzfcijpj2z2a")
    }

    @Test func tidOrderMatchesStringOrder() {
        var previous = TID(rawValue: 0)
        for step in [1, 1000, 123_456, 1 << 40] {
            let next = TID(rawValue: previous.rawValue + UInt64(step))
            #expect(previous < next)
            #expect(previous.description < next.description)
            previous = next
        }
    }

    @Test func tidClockIsMonotonicAcrossTasks() async {
        // A frozen system clock forces the clock to step by itself.
        let clock = TIDClock(clockID: 7, now: { 1_000 })
        let perTask = await withTaskGroup(of: [TID].self) { group in
            for _ in 0..<8 {
                group.addTask { (0..<500).map { _ in clock.next() } }
            }
            var all = [[TID]]()
            for await tids in group { all.append(tids) }
            return all
        }
        for tids in perTask { #expect(tids == tids.sorted()) }
        let all = perTask.flatMap { $0 }
        #expect(Set(all).count == 4000)
        #expect(all.allSatisfy { $0.clockID == 7 })
    }

    @Test func tidClockFollowsTheSystemClock() {
        let clock = TIDClock()
        let before = UInt64(Date().timeIntervalSince1970 * 1_000_000)
        let tid = clock.next()
        let after = UInt64(Date().timeIntervalSince1970 * 1_000_000)
        #expect(tid.microseconds >= before)
        #expect(tid.microseconds <= after)
    }

    @Test func atURIParts() throws {
        let uri = try ATURI("at://did:plc:asdf123/app.bsky.feed.post/3jzfcijpj2z2a")
        #expect(uri.authority == .did(try DID("did:plc:asdf123")))
        #expect(uri.collection == (try NSID("app.bsky.feed.post")))
        #expect(uri.recordKey == (try RecordKey("3jzfcijpj2z2a")))
        let built = ATURI(authority: .handle(try Handle("alice.test")), collection: try NSID("app.bsky.feed.post"), recordKey: try RecordKey("self"))
        #expect(built.description == "at://alice.test/app.bsky.feed.post/self")
        #expect(try ATURI("at://alice.test").collection == nil)
    }

    @Test func datetimeInstant() throws {
        let dt = try Datetime("1985-04-12T23:20:50.123Z")
        #expect(abs(dt.date.timeIntervalSince1970 - 482_196_050.123) < 0.0005)
        let offset = try Datetime("1985-04-12T23:20:50.123-07:00")
        #expect(abs(offset.date.timeIntervalSince(dt.date) - 7 * 3600) < 0.0005)
        #expect(try Datetime("0000-01-01T00:00:00.000Z").date.timeIntervalSince1970 == -62_167_219_200)
        // Fractions of one to twelve digits: nine count, the rest are kept in the text only.
        let base = 482_196_050.0
        for (fraction, expected) in [("5", 0.5), ("05", 0.05), ("123456", 0.123456), ("123456789", 0.123456789), ("123456789999", 0.123456789)] {
            let value = try Datetime("1985-04-12T23:20:50.\(fraction)Z")
            #expect(abs(value.date.timeIntervalSince1970 - base - expected) < 1e-6)
            #expect(value.description == "1985-04-12T23:20:50.\(fraction)Z")
        }
    }

    @Test func atURIKeepsDIDsAsGivenAndLowercasesHandles() throws {
        #expect(try ATURI("at://did:plc:ABC/app.bsky.feed.post/3k").description == "at://did:plc:ABC/app.bsky.feed.post/3k")
        #expect(try ATURI("at://Alice.TEST/app.bsky.feed.post/Ab").description == "at://alice.test/app.bsky.feed.post/Ab")
        #expect(try ATURI("at://alice.test/app.bsky.feed.post/Ab").description == "at://alice.test/app.bsky.feed.post/Ab")
    }

    @Test func datetimeFromDateIsValidAndExact() throws {
        let date = Date(timeIntervalSince1970: 1_700_000_000.250)
        let dt = Datetime(date)
        #expect(dt.description == "2023-11-14T22:13:20.250Z")
        #expect(try Datetime(dt.description).date == dt.date)
        let now = Datetime.now()
        #expect(try Datetime(now.description).description == now.description)
    }

    @Test func codableUsesTheStringForm() throws {
        struct Row: Codable, Equatable {
            let did: DID
            let uri: ATURI
            let at: Datetime
            let lang: Language
            let who: ATIdentifier
        }
        let row = Row(
            did: try DID("did:web:example.com"), uri: try ATURI("at://alice.test/app.bsky.feed.post/abc"),
            at: try Datetime("2024-01-01T00:00:00Z"), lang: try Language("pt-BR"), who: try ATIdentifier("alice.test"))
        let json = try JSONEncoder().encode(row)
        #expect(try JSONDecoder().decode(Row.self, from: json) == row)
        let bad = Data(#"{"did":"nope","uri":"at://a.test","at":"2024-01-01T00:00:00Z","lang":"en","who":"a.test"}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Row.self, from: bad) }
    }
}

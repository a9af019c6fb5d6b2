import ATSyntax
import Foundation
import Testing
import TestSupport

/// Every `syntax/*` interop fixture: valid lines parse, invalid lines throw.
@Suite("Syntax interop fixtures")
struct SyntaxFixtureTests {
    static func parses<T: SyntaxValue>(_ type: T.Type, _ line: String) -> Result<T, SyntaxError> {
        Result { () throws(SyntaxError) -> T in try T(line) }
    }

    @Test(arguments: Fixtures.lines("syntax/did_syntax_valid.txt"))
    func validDID(_ line: String) throws { #expect(try DID(line).description == line) }

    @Test(arguments: Fixtures.lines("syntax/did_syntax_invalid.txt"))
    func invalidDID(_ line: String) { #expect(throws: SyntaxError.self) { try DID(line) } }

    @Test(arguments: Fixtures.lines("syntax/handle_syntax_valid.txt"))
    func validHandle(_ line: String) throws { #expect(try Handle(line).description == line.lowercased()) }

    @Test(arguments: Fixtures.lines("syntax/handle_syntax_invalid.txt"))
    func invalidHandle(_ line: String) { #expect(throws: SyntaxError.self) { try Handle(line) } }

    @Test(arguments: Fixtures.lines("syntax/nsid_syntax_valid.txt"))
    func validNSID(_ line: String) throws { #expect(try NSID(line).description == line) }

    @Test(arguments: Fixtures.lines("syntax/nsid_syntax_invalid.txt"))
    func invalidNSID(_ line: String) { #expect(throws: SyntaxError.self) { try NSID(line) } }

    @Test(arguments: Fixtures.lines("syntax/recordkey_syntax_valid.txt"))
    func validRecordKey(_ line: String) throws { #expect(try RecordKey(line).description == line) }

    @Test(arguments: Fixtures.lines("syntax/recordkey_syntax_invalid.txt"))
    func invalidRecordKey(_ line: String) { #expect(throws: SyntaxError.self) { try RecordKey(line) } }

    @Test(arguments: Fixtures.lines("syntax/tid_syntax_valid.txt"))
    func validTID(_ line: String) throws { #expect(try TID(line).description == line) }

    @Test(arguments: Fixtures.lines("syntax/tid_syntax_invalid.txt"))
    func invalidTID(_ line: String) { #expect(throws: SyntaxError.self) { try TID(line) } }

    @Test(arguments: Fixtures.lines("syntax/aturi_syntax_valid.txt"))
    func validATURI(_ line: String) throws { #expect(try ATURI(line).description == line) }

    @Test(arguments: Fixtures.lines("syntax/aturi_syntax_invalid.txt"))
    func invalidATURI(_ line: String) { #expect(throws: SyntaxError.self) { try ATURI(line) } }

    @Test(arguments: Fixtures.lines("syntax/atidentifier_syntax_valid.txt"))
    func validATIdentifier(_ line: String) throws {
        #expect(try ATIdentifier(line).description == (line.hasPrefix("did:") ? line : line.lowercased()))
    }

    @Test(arguments: Fixtures.lines("syntax/atidentifier_syntax_invalid.txt"))
    func invalidATIdentifier(_ line: String) { #expect(throws: SyntaxError.self) { try ATIdentifier(line) } }

    @Test(arguments: Fixtures.lines("syntax/datetime_syntax_valid.txt"))
    func validDatetime(_ line: String) throws { #expect(try Datetime(line).description == line) }

    @Test(arguments: Fixtures.lines("syntax/datetime_syntax_invalid.txt") + Fixtures.lines("syntax/datetime_parse_invalid.txt"))
    func invalidDatetime(_ line: String) { #expect(throws: SyntaxError.self) { try Datetime(line) } }

    @Test(arguments: Fixtures.lines("syntax/language_syntax_valid.txt"))
    func validLanguage(_ line: String) throws { #expect(try Language(line).description == line) }

    @Test(arguments: Fixtures.lines("syntax/language_syntax_invalid.txt") + Fixtures.lines("syntax/language_parse_invalid.txt"))
    func invalidLanguage(_ line: String) { #expect(throws: SyntaxError.self) { try Language(line) } }

    @Test func fixturesWereFound() {
        // Guards against a silently empty parameter list.
        #expect(Fixtures.lines("syntax/did_syntax_valid.txt").count > 10)
        #expect(Fixtures.lines("syntax/aturi_syntax_invalid.txt").count > 50)
    }
}

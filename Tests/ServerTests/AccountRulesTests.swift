import ATData
import ATProtoAPI
import ATSyntax
import Foundation
import Logging
@testable import Server
import Testing

/// Sign-up and login rules of the PDS, in process over a temporary data
/// directory: issue 11's rows L3, L4 and L5.
@Suite("Accounts: passwords, handles, logins")
struct AccountRulesTests {
    func pds() async throws -> PDS {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pds-\(UUID())")
        let config = ServerConfig(dataDirectory: dir, port: 0, bcryptCost: 4)
        return try await PDS.open(config: config, publicURL: URL(string: "http://127.0.0.1:2583")!, logger: Logger(label: "test"))
    }

    func error(_ body: () async throws -> Void) async -> XRPCError? {
        do {
            try await body()
            return nil
        } catch let error as XRPCError {
            return error
        } catch {
            Issue.record("not an XRPCError: \(error)")
            return nil
        }
    }

    /// L3: a password with a NUL is refused; every byte of a long one counts
    /// (bcrypt alone reads 72); one past 256 bytes is refused.
    @Test func l3PasswordsAreWholeOrRefused() async throws {
        let pds = try await pds()
        let nul = await error { _ = try await pds.createAccount(["handle": "nul.test", "password": "pass\u{0}word-long"], admin: false) }
        #expect(nul?.name == "InvalidPassword")
        let long = String(repeating: "p", count: 72) + "-the-rest-matters"
        _ = try await pds.createAccount(["handle": "long.test", "password": .string(long)], admin: false)
        let truncated = await error { _ = try await pds.createSession(["identifier": "long.test", "password": .string(String(long.prefix(72)))]) }
        #expect(truncated?.status == .unauthorized)
        _ = try await pds.createSession(["identifier": "long.test", "password": .string(long)])
        let nulLogin = await error { _ = try await pds.createSession(["identifier": "long.test", "password": .string(long + "\u{0}")]) }
        #expect(nulLogin?.status == .unauthorized)
        let huge = await error { _ = try await pds.createAccount(["handle": "huge.test", "password": .string(String(repeating: "x", count: 257))], admin: false) }
        #expect(huge?.name == "InvalidPassword")
    }

    /// L4: a login for an account that does not exist runs bcrypt as one for
    /// an account that does (so timing does not tell them apart).
    @Test func l4UnknownAccountsCostTheSameBcrypt() async throws {
        let pds = try await pds()
        _ = try await pds.createAccount(["handle": "known.test", "password": "right"], admin: false)
        let before = pds.passwords.bcryptRuns
        let unknown = await error { _ = try await pds.createSession(["identifier": "nobody.test", "password": "x"]) }
        #expect(pds.passwords.bcryptRuns == before + 1)
        let wrong = await error { _ = try await pds.createSession(["identifier": "known.test", "password": "x"]) }
        #expect(pds.passwords.bcryptRuns == before + 2)
        #expect(unknown?.status == .unauthorized && wrong?.status == .unauthorized)
        #expect(unknown?.message == wrong?.message)
    }

    /// L5: reserved handles and malformed emails are refused at sign-up.
    @Test(arguments: ["admin", "root", "support", "ad-min", "Bsky", "postmaster"])
    func l5ReservedHandlesAreRefused(_ name: String) async throws {
        let pds = try await pds()
        let refused = await error { _ = try await pds.createAccount(["handle": .string("\(name).test"), "password": "pw"], admin: false) }
        #expect(refused?.name == "HandleNotAvailable")
    }

    @Test(arguments: [
        ("alice@example.com", true), ("a.b+c@mail.example.org", true), ("not-an-email", false), ("a@b", false), ("@example.com", false),
        ("a@@example.com", false), ("a b@example.com", false), ("a@example..com", false), ("a@-x.com", false), (".a@example.com", false),
        ("a@example.123", false), ("\u{0}@example.com", false),
    ])
    func l5EmailsMustHaveTheShapeOfOne(_ email: String, _ valid: Bool) {
        #expect((AccountRules.emailProblem(email) == nil) == valid, "\(email)")
    }

    @Test func l5ABadEmailIsRefusedAtSignUp() async throws {
        let pds = try await pds()
        let refused = await error { _ = try await pds.createAccount(["handle": "emily.test", "password": "pw", "email": "not-an-email"], admin: false) }
        #expect(refused?.name == "InvalidEmail")
    }
}

/// The inputs as the tests write them: data model literals, read through the generated types.
extension PDS {
    func createAccount(_ input: DataValue, admin: Bool) async throws -> Com.Atproto.Server.CreateAccount.Output {
        try await createAccount(try Com.Atproto.Server.CreateAccount.Input(input), admin: admin)
    }

    func createSession(_ input: DataValue) async throws -> Com.Atproto.Server.CreateSession.Output {
        try await createSession(try Com.Atproto.Server.CreateSession.Input(input))
    }
}

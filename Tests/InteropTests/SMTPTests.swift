import ATSyntax
import Bluesky
import Foundation
import Testing
import TestSupport

/// The server's email over SMTP to a local sink (PyPI `aiosmtpd`), with
/// `bsky serve --smtp-url … --email-from …`: a password reset, an email
/// confirmation and an email update arrive, and their tokens work (the
/// PLC-operation token is delivered the same way in `MigrationTests`).
@Suite("Email over SMTP", .serialized)
struct SMTPTests {
    static func token(in message: String) -> String? {
        message.split(whereSeparator: \.isWhitespace).map(String.init).first { $0.count == 11 && $0.dropFirst(5).first == "-" }
    }

    @Test func tokensArriveBySMTPAndWorkOnce() async throws {
        let inbox = try Tools.temporaryDirectory()
        let sink = try PeerServer(script: "smtp_sink.py", arguments: [inbox.path])
        defer { sink.stop() }
        let serve = try ServeProcess(arguments: ["--smtp-url", "smtp://pds:secret@127.0.0.1:\(sink["port"])", "--email-from", "pds@example.test"])
        defer { serve.kill() }
        let base = Bluesky(serverURL: serve.url, retryConfig: .none)
        let name = "sm\(UInt16.random(in: 0...9999))"
        let created = try await base.server.createAccount(handle: try Handle("\(name).test"), email: "\(name)@example.test", password: "first password")

        // The call returns once the sink has answered 250, so the message is on disk.
        try await base.com.atproto.server.requestPasswordReset(email: "\(name)@example.test")
        let files = try FileManager.default.contentsOfDirectory(atPath: inbox.path).filter { $0.hasSuffix(".eml") }
        #expect(files.count == 1)
        let message = try String(contentsOf: inbox.appendingPathComponent(try #require(files.first)), encoding: .utf8)
        #expect(message.hasPrefix("\(name)@example.test\n"))
        #expect(message.contains("From: <pds@example.test>") && message.contains("Subject: Reset your password"))
        let token = try #require(Self.token(in: message))
        try await base.com.atproto.server.resetPassword(token: token, password: "second password")
        await #expect(throws: BlueskyError.self) { try await base.com.atproto.server.resetPassword(token: token, password: "third password") }
        _ = try await base.server.createSession(identifier: created.did.description, password: "second password")

        // Confirmation, through the same relay.
        let authed = Bluesky(serverURL: serve.url, bearer: .token(created.accessJwt), retryConfig: .none)
        try await authed.com.atproto.server.requestEmailConfirmation()
        let second = try String(contentsOf: inbox.appendingPathComponent("2.eml"), encoding: .utf8)
        try await authed.com.atproto.server.confirmEmail(email: "\(name)@example.test", token: try #require(Self.token(in: second)))
        #expect(try await authed.com.atproto.server.getSession().emailConfirmed == true)

        // A confirmed address approves its replacement with a token sent to it, once.
        #expect(try await authed.com.atproto.server.requestEmailUpdate().tokenRequired == true)
        let third = try String(contentsOf: inbox.appendingPathComponent("3.eml"), encoding: .utf8)
        #expect(third.hasPrefix("\(name)@example.test\n") && third.contains("Subject: Change your email"))
        let updateToken = try #require(Self.token(in: third))
        await #expect(throws: BlueskyError.self) {
            try await authed.com.atproto.server.updateEmail(email: "\(name)-other@example.test", token: "AAAAA-AAAAA")
        }
        try await authed.com.atproto.server.updateEmail(email: "\(name)-new@example.test", token: updateToken)
        #expect(try await authed.com.atproto.server.getSession().email == "\(name)-new@example.test")
        // The new address is unconfirmed until it is confirmed in turn.
        #expect(try await authed.com.atproto.server.getSession().emailConfirmed == false)
    }
}

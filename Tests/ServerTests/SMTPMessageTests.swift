import Foundation
@testable import Server
import Testing

/// The SMTP mailer's message and its refusals, without a network.
@Suite("SMTP messages")
struct SMTPMessageTests {
    @Test func linesEndInCRLFAndDotsAreStuffed() {
        let message = SMTPMailer.message(from: "pds@example.test", to: "a@example.test", subject: "Hi", body: "one\n.two\n..three\nfour")
        #expect(message.hasSuffix("\r\n.\r\n"))
        #expect(message.contains("\r\n..two\r\n...three\r\nfour\r\n"))
        #expect(!message.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(message.contains("Subject: Hi\r\n") && message.contains("Content-Type: text/plain; charset=utf-8\r\n"))
    }

    @Test func urlsAndHeaderInjectionAreRefused() async throws {
        #expect(throws: MailError.self) { try SMTPMailer(url: URL(string: "https://mail.example")!, from: "pds@example.test") }
        #expect(throws: MailError.self) { try SMTPMailer(url: URL(string: "smtp://mail.example")!, from: "pds@example.test\r\nBcc: x@y") }
        let mailer = try SMTPMailer(url: URL(string: "smtp://user:p%40ss@mail.example:2525")!, from: "pds@example.test")
        #expect(mailer.port == 2525 && mailer.credentials?.user == "user" && mailer.credentials?.password == "p@ss")
        await #expect(throws: MailError.self) { try await mailer.send(to: "a@example.test\r\nRCPT TO:<b@example.test>", subject: "x", body: "y") }
    }
}

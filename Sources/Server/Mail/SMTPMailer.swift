import Foundation
import NIOCore
import NIOPosix

/// Sends mail over SMTP (RFC 5321) to one relay: `smtp://[user:password@]host[:port]`,
/// with `AUTH PLAIN` when credentials are given. Plain TCP: meant for a
/// relay on the same host or network (Postfix, a provider's submission
/// relay behind a local stunnel, a test sink); TLS is not spoken.
public struct SMTPMailer: Mailer {
    /// The relay's host.
    public let host: String
    /// Its port (25 when the URL names none).
    public let port: Int
    /// `AUTH PLAIN` credentials, if any.
    public let credentials: (user: String, password: String)?
    /// The sender address (`MAIL FROM` and `From:`).
    public let from: String
    /// How long a whole delivery may take.
    public var timeout: Duration = .seconds(30)

    /// A mailer for `url` (`smtp://…`), sending as `from`.
    ///
    /// - Throws: ``MailError`` when the URL is not an `smtp://` URL with a host.
    public init(url: URL, from: String) throws {
        guard url.scheme == "smtp", let host = url.host, !host.isEmpty else {
            throw MailError("the SMTP URL must be smtp://[user:password@]host[:port], not \(url)")
        }
        guard Self.isSafe(from), from.contains("@") else { throw MailError("the sender \(from) is not an address") }
        self.host = host
        self.port = url.port ?? 25
        self.credentials = url.user.map { ($0.removingPercentEncoding ?? $0, (url.password ?? "").removingPercentEncoding ?? "") }
        self.from = from
    }

    public func send(to address: String, subject: String, body: String) async throws {
        guard Self.isSafe(address), address.contains("@"), Self.isSafe(subject) else {
            throw MailError("refusing a recipient or subject with line breaks")
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await deliver(to: address, subject: subject, body: body) }
            group.addTask { [timeout] in
                try await Task.sleep(for: timeout)
                throw MailError("the SMTP relay \(host):\(port) did not finish within \(timeout)")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    private func deliver(to address: String, subject: String, body: String) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            var session = SMTPSession(inbound: inbound.makeAsyncIterator(), outbound: outbound)
            try await session.expect(220)
            try await session.command("EHLO \(Self.localName)", expect: 250)
            if let credentials {
                let token = Data(("\u{0}" + credentials.user + "\u{0}" + credentials.password).utf8).base64EncodedString()
                try await session.command("AUTH PLAIN \(token)", expect: 235)
            }
            try await session.command("MAIL FROM:<\(from)>", expect: 250)
            try await session.command("RCPT TO:<\(address)>", expect: 250, 251)
            try await session.command("DATA", expect: 354)
            try await session.send(Self.message(from: from, to: address, subject: subject, body: body))
            try await session.expect(250)
            try? await session.command("QUIT", expect: 221)
        }
    }

    /// The message with its headers, lines ending in CRLF, dot-stuffed, and the final `.`.
    static func message(from: String, to: String, subject: String, body: String, date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let headers = [
            "From: <\(from)>", "To: <\(to)>", "Subject: \(subject)", "Date: \(formatter.string(from: date))",
            "Message-ID: <\(UUID().uuidString.lowercased())@\(from.split(separator: "@").last ?? "localhost")>",
            "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit",
        ]
        let lines = body.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map { $0.hasPrefix(".") ? "." + $0 : String($0) }
        return (headers + [""] + lines + ["."]).joined(separator: "\r\n") + "\r\n"
    }

    private static func isSafe(_ text: String) -> Bool { !text.contains("\r") && !text.contains("\n") }

    private static var localName: String { ProcessInfo.processInfo.hostName.isEmpty ? "localhost" : ProcessInfo.processInfo.hostName }
}

/// A mail delivery that failed.
public struct MailError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public let description: String
    init(_ description: String) { self.description = description }
}

/// One SMTP conversation: commands out, replies (possibly multi-line) in.
struct SMTPSession {
    var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var pending = ByteBuffer()

    init(inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.inbound = inbound
        self.outbound = outbound
    }

    mutating func send(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    mutating func command(_ line: String, expect codes: Int...) async throws {
        try await send(line + "\r\n")
        try await expect(codes)
    }

    mutating func expect(_ codes: Int...) async throws { try await expect(codes) }

    /// Reads one reply: lines `NNN-…` then a last `NNN …`. Replies are bounded at 64 KiB.
    mutating func expect(_ codes: [Int]) async throws {
        var text = ""
        while true {
            let line = try await readLine()
            text += line + "\n"
            guard line.count >= 3, let code = Int(line.prefix(3)) else { throw MailError("the SMTP relay said: \(text)") }
            if line.count == 3 || line.dropFirst(3).first == " " {
                guard codes.contains(code) else { throw MailError("the SMTP relay answered \(text.trimmingCharacters(in: .newlines))") }
                return
            }
            guard text.utf8.count < 65_536 else { throw MailError("the SMTP relay's reply is too long") }
        }
    }

    private mutating func readLine() async throws -> String {
        while true {
            if let index = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                let length = index - pending.readerIndex
                let line = pending.readString(length: length) ?? ""
                pending.moveReaderIndex(forwardBy: 1)
                return line.hasSuffix("\r") ? String(line.dropLast()) : line
            }
            guard pending.readableBytes < 65_536 else { throw MailError("the SMTP relay sent a line too long") }
            guard var chunk = try await inbound.next() else { throw MailError("the SMTP relay closed the connection") }
            pending.writeBuffer(&chunk)
        }
    }
}

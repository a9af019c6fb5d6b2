import Foundation
import Logging

/// What sends the PDS's email: confirmation codes, deletion and PLC tokens.
public protocol Mailer: Sendable {
    /// Sends `body` to `address`.
    func send(to address: String, subject: String, body: String) async throws
}

/// Writes each message to the server log instead of sending it, as the
/// reference PDS does without SMTP: for development and closed networks.
public struct LogMailer: Mailer {
    let logger: Logger

    /// A mailer that logs at `notice` level through `logger`.
    public init(logger: Logger = Logger(label: "bsky.mail")) {
        self.logger = logger
    }

    public func send(to address: String, subject: String, body: String) async throws {
        logger.notice("mail to \(address): \(subject)\n\(body)")
    }
}

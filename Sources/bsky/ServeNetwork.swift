import ArgumentParser
import ATSyntax
import Bluesky
import Foundation
import Server

/// The services `bsky serve`'s PDS forwards calls to: an AppView for
/// `app.bsky.*`, a chat service for `chat.bsky.*`, and what `atproto-proxy`
/// may name.
struct ServeNetwork: ParsableArguments {
    @Option(help: "The AppView app.bsky.* calls go to, e.g. https://api.bsky.app ($BSKY_APPVIEW_URL).") var appviewURL: String?
    @Option(help: "The AppView's DID, e.g. did:web:api.bsky.app ($BSKY_APPVIEW_DID).") var appviewDID: String?
    @Option(help: "The chat service chat.bsky.* calls go to, e.g. https://api.bsky.chat ($BSKY_CHAT_URL).") var chatURL: String?
    @Option(help: "The chat service's DID, e.g. did:web:api.bsky.chat ($BSKY_CHAT_DID).") var chatDID: String?
    @Flag(help: "Let atproto-proxy name services on private or loopback addresses ($BSKY_PROXY_ALLOW_PRIVATE=1).")
    var proxyAllowPrivate = false
    @Option(help: "Seconds a proxied call waits for the service to answer ($BSKY_PROXY_TIMEOUT; default 30).") var proxyTimeout: Int?
    @Option(help: "A file of `name TXT-value` lines answered before DNS, for handles in closed networks ($BSKY_DNS_TXT_FILE).")
    var dnsTxtFile: String?
    @Option(help: "Send email through this relay: smtp://[user:password@]host[:port] ($BSKY_SMTP_URL; default: write it to the log).")
    var smtpURL: String?
    @Option(help: "The sender address of the server's email ($BSKY_EMAIL_FROM; needed with --smtp-url).") var emailFrom: String?

    /// Applies the options (or their environment variables) to the PDS's configuration.
    func apply(to config: inout ServerConfig) throws {
        let env = ProcessInfo.processInfo.environment
        func value(_ option: String?, _ name: String) -> String? { option ?? env[name].flatMap { $0.isEmpty ? nil : $0 } }
        func service(_ url: String?, _ did: String?, _ what: String) throws -> ProxiedService? {
            switch (url, did) {
            case (nil, nil): return nil
            case (let url?, let did?):
                guard let parsed = URL(string: url), parsed.scheme == "http" || parsed.scheme == "https", parsed.host != nil else {
                    throw ValidationError("--\(what)-url \(url): not an http(s) URL")
                }
                guard (try? DID(did)) != nil else { throw ValidationError("--\(what)-did \(did): not a DID") }
                return ProxiedService(url: parsed, did: did)
            default:
                throw ValidationError("--\(what)-url and --\(what)-did go together")
            }
        }
        config.appview = try service(value(appviewURL, "BSKY_APPVIEW_URL"), value(appviewDID, "BSKY_APPVIEW_DID"), "appview")
        config.chat = try service(value(chatURL, "BSKY_CHAT_URL"), value(chatDID, "BSKY_CHAT_DID"), "chat")
        config.proxyAllowPrivate = proxyAllowPrivate || ["1", "true", "yes"].contains(env["BSKY_PROXY_ALLOW_PRIVATE"]?.lowercased() ?? "")
        if let path = value(dnsTxtFile, "BSKY_DNS_TXT_FILE") {
            config.dns = TableDNSResolver(file: URL(fileURLWithPath: path))
        }
        if let text = value(smtpURL, "BSKY_SMTP_URL") {
            guard let url = URL(string: text), let from = value(emailFrom, "BSKY_EMAIL_FROM") else {
                throw ValidationError("--smtp-url needs a URL and --email-from a sender address")
            }
            do {
                config.mailer = try SMTPMailer(url: url, from: from)
            } catch {
                throw ValidationError("--smtp-url: \(error)")
            }
        }
        if let text = value(proxyTimeout.map(String.init), "BSKY_PROXY_TIMEOUT") {
            guard let seconds = Int(text), seconds > 0 else { throw ValidationError("--proxy-timeout must be a positive number of seconds") }
            config.proxyTimeout = TimeInterval(seconds)
        }
    }
}

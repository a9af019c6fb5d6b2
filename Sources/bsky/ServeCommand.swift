import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Server

/// `bsky serve`: the PDS, with its PLC directory, on embedded SQLite.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run a PDS (with a PLC directory for local identities) on embedded SQLite.",
        discussion: """
            Every option can also come from the environment variable named in its help. \
            SIGINT and SIGTERM stop the server after the requests in flight; every acknowledged write is on disk.
            """)

    @Option(help: "The data directory: database, blobs, keys ($BSKY_DATA; default ./bsky-data).") var data: String?
    @Option(help: "The address to listen on ($BSKY_HOST; default 127.0.0.1).") var host: String?
    @Option(help: "The port, 0 for any free one ($BSKY_PORT; default 2583).") var port: Int?
    @Option(help: "The URL clients reach the server at ($BSKY_PUBLIC_URL; default http://HOST:PORT).") var publicURL: String?
    @Option(help: "The domain handles live under ($BSKY_HANDLE_DOMAIN; default test).") var handleDomain: String?
    @Option(help: "An external PLC directory instead of the embedded one ($BSKY_PLC_URL).") var plcURL: String?
    @Flag(help: "Require an invite code (or the admin password) to create an account ($BSKY_INVITE_REQUIRED=1).")
    var inviteRequired = false
    @Option(help: "The admin password, for invite codes ($BSKY_ADMIN_PASSWORD).") var adminPassword: String?
    @Option(help: "Writes per client: N/SECONDS or off ($BSKY_WRITE_LIMIT; default 5000/3600).") var writeLimit: String?
    @Option(help: "getRepo calls per client: N/SECONDS or off ($BSKY_GET_REPO_LIMIT; default 300/3600).") var getRepoLimit: String?
    @Option(help: "The largest blob in bytes ($BSKY_MAX_BLOB; default 52428800).") var maxBlob: Int?
    @Option(help: "bcrypt's cost, 4 to 31 ($BSKY_BCRYPT_COST; default 10).") var bcryptCost: Int?
    @Option(help: "SQLite synchronous mode: NORMAL survives a crash of the process, FULL also a power cut ($BSKY_SYNCHRONOUS).")
    var synchronous: String?

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        func value(_ option: String?, _ name: String) -> String? { option ?? env[name].flatMap { $0.isEmpty ? nil : $0 } }
        func number(_ option: Int?, _ name: String) throws -> Int? {
            if let option { return option }
            guard let text = value(nil, name) else { return nil }
            guard let n = Int(text) else { throw ValidationError("$\(name) must be a number, not \(text)") }
            return n
        }
        func url(_ text: String?, _ what: String) throws -> URL? {
            guard let text else { return nil }
            guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw ValidationError("\(what) \(text): not an http(s) URL")
            }
            return url
        }
        var config = ServerConfig()
        config.dataDirectory = URL(fileURLWithPath: value(data, "BSKY_DATA") ?? "bsky-data")
        config.host = value(host, "BSKY_HOST") ?? config.host
        config.port = try number(port, "BSKY_PORT") ?? config.port
        guard (0...65535).contains(config.port) else { throw ValidationError("--port must be 0 to 65535") }
        config.publicURL = try url(value(publicURL, "BSKY_PUBLIC_URL"), "--public-url")
        if let domain = value(handleDomain, "BSKY_HANDLE_DOMAIN") { config.handleDomain = domain }
        config.plcURL = try url(value(plcURL, "BSKY_PLC_URL"), "--plc-url")
        config.inviteRequired = inviteRequired || ["1", "true", "yes"].contains(env["BSKY_INVITE_REQUIRED"]?.lowercased() ?? "")
        config.adminPassword = value(adminPassword, "BSKY_ADMIN_PASSWORD")
        if let text = value(writeLimit, "BSKY_WRITE_LIMIT") { config.writeLimit = try Self.rule(text, "--write-limit") }
        if let text = value(getRepoLimit, "BSKY_GET_REPO_LIMIT") { config.getRepoLimit = try Self.rule(text, "--get-repo-limit") }
        if let n = try number(maxBlob, "BSKY_MAX_BLOB") { config.maxBlob = n }
        if let n = try number(bcryptCost, "BSKY_BCRYPT_COST") {
            guard (4...31).contains(n) else { throw ValidationError("--bcrypt-cost must be 4 to 31") }
            config.bcryptCost = UInt8(n)
        }
        if let mode = value(synchronous, "BSKY_SYNCHRONOUS")?.uppercased() {
            guard mode == "NORMAL" || mode == "FULL" else { throw ValidationError("--synchronous must be NORMAL or FULL") }
            config.synchronous = mode
        }

        var logger = Logger(label: "bsky")
        logger.logLevel = env["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .notice
        let dataPath = config.dataDirectory.path
        let app = try await PDSServer.application(config: config, logger: logger) { url in
            writeLine("bsky serve: PDS and PLC directory listening on \(url.absoluteString) (data in \(dataPath))")
        }
        try await app.runService()
    }

    /// `N/SECONDS`, or `off`.
    static func rule(_ text: String, _ what: String) throws -> RateLimitRule? {
        if text.lowercased() == "off" { return nil }
        let parts = text.split(separator: "/")
        guard parts.count == 2, let limit = Int(parts[0]), let window = Int(parts[1]), limit > 0, window > 0 else {
            throw ValidationError("\(what) \(text): expected N/SECONDS or off")
        }
        return RateLimitRule(limit: limit, window: window)
    }
}

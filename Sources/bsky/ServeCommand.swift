import ArgumentParser
import ATCrypto
import Foundation
import Hummingbird
import Logging
import Server
import ServiceLifecycle

/// `bsky serve`: the PDS with its PLC directory, and the relay, on embedded SQLite.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run a PDS (with a PLC directory for local identities) and a relay, on embedded SQLite.",
        discussion: """
            By default both roles run: the PDS on --port, the relay on --relay-port, and the PDS asks the relay to crawl it. \
            --role pds or --role relay runs one of them. \
            Every option can also come from the environment variable named in its help. \
            SIGINT and SIGTERM stop the server after the requests in flight; every acknowledged write is on disk.
            """)

    enum Role: String, ExpressibleByArgument, CaseIterable { case all, pds, relay }

    @Option(help: "What to run: all, pds or relay ($BSKY_ROLE; default all).") var role: Role?

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
    @Option(help: "The largest blob in bytes ($BSKY_MAX_BLOB; default 104857600).") var maxBlob: Int?
    @Option(help: "The largest repository CAR importRepo takes, in bytes ($BSKY_MAX_IMPORT; default 17179869184).") var maxImport: Int?
    @Option(help: "Repositories whose trees stay in memory, the most recently written ($BSKY_REPO_CACHE; default 256).") var repoCache: Int?
    @Option(help: "bcrypt's cost, 4 to 31 ($BSKY_BCRYPT_COST; default 10).") var bcryptCost: Int?
    @Option(help: "SQLite synchronous mode: NORMAL survives a crash of the process, FULL also a power cut ($BSKY_SYNCHRONOUS).")
    var synchronous: String?
    @Option(help: "The curve of new accounts' signing keys: k256 or p256 ($BSKY_SIGNING_CURVE; default k256).") var signingCurve: String?
    @Option(help: "A relay the PDS asks to crawl it at start-up; repeatable ($BSKY_CRAWLERS, comma-separated).") var crawler: [String] = []
    @Option(help: "Also send the crawlers notifyOfUpdate after writes, at most once per this many seconds ($BSKY_NOTIFY_INTERVAL).")
    var notifyInterval: Int?
    @Option(help: "The relay's port, 0 for any free one ($BSKY_RELAY_PORT; default 2584).") var relayPort: Int?
    @Option(help: "The URL clients reach the relay at ($BSKY_RELAY_PUBLIC_URL; default http://HOST:RELAY_PORT).") var relayPublicURL: String?
    @Flag(help: "Let the relay crawl private, loopback and link-local hosts ($BSKY_RELAY_ALLOW_PRIVATE=1). Off: the SSRF guard.")
    var relayAllowPrivate = false
    @Option(help: "A host the relay never crawls; repeatable ($BSKY_RELAY_BANNED, comma-separated).") var relayBan: [String] = []
    @Option(help: "Events per host the relay takes: N/SECONDS or off ($BSKY_RELAY_HOST_LIMIT; default 1000/1).") var relayHostLimit: String?
    @OptionGroup(title: "Network") var network: ServeNetwork
    @OptionGroup(title: "Limits") var limits: ServeLimits

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
        if let n = try number(maxImport, "BSKY_MAX_IMPORT") { config.maxImportBytes = n }
        if let n = try number(repoCache, "BSKY_REPO_CACHE") {
            guard n >= 1 else { throw ValidationError("--repo-cache must be at least 1") }
            config.writerCacheSize = n
        }
        if let n = try number(bcryptCost, "BSKY_BCRYPT_COST") {
            guard (4...31).contains(n) else { throw ValidationError("--bcrypt-cost must be 4 to 31") }
            config.bcryptCost = UInt8(n)
        }
        if let mode = value(synchronous, "BSKY_SYNCHRONOUS")?.uppercased() {
            guard mode == "NORMAL" || mode == "FULL" else { throw ValidationError("--synchronous must be NORMAL or FULL") }
            config.synchronous = mode
        }

        var logger = Logger(label: "bsky") { ServerLogHandler(label: $0) }
        logger.logLevel = env["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .notice
        let role = try role ?? value(nil, "BSKY_ROLE").map { text in
            guard let role = Role(rawValue: text) else { throw ValidationError("$BSKY_ROLE must be all, pds or relay") }
            return role
        } ?? .all
        let pdsURL = role == .relay ? nil : try PDSServer.resolve(host: config.host, port: &config.port, publicURL: config.publicURL)

        var relay = RelayConfig(
            dataDirectory: config.dataDirectory.appendingPathComponent("relay"), host: config.host,
            plcURL: config.plcURL ?? pdsURL ?? Self.publicPLC)
        relay.port = try number(relayPort, "BSKY_RELAY_PORT") ?? relay.port
        guard (0...65535).contains(relay.port) else { throw ValidationError("--relay-port must be 0 to 65535") }
        relay.publicURL = try url(value(relayPublicURL, "BSKY_RELAY_PUBLIC_URL"), "--relay-public-url")
        relay.allowPrivateHosts = relayAllowPrivate || ["1", "true", "yes"].contains(env["BSKY_RELAY_ALLOW_PRIVATE"]?.lowercased() ?? "")
        relay.bannedHosts = Set(relayBan + Self.list(env["BSKY_RELAY_BANNED"]))
        if let text = value(relayHostLimit, "BSKY_RELAY_HOST_LIMIT") { relay.hostEventLimit = try Self.rule(text, "--relay-host-limit") }
        relay.adminPassword = config.adminPassword
        relay.synchronous = config.synchronous

        for text in crawler + Self.list(env["BSKY_CRAWLERS"]) {
            guard let crawlerURL = try url(text, "--crawler") else { continue }
            config.crawlers.append(crawlerURL)
        }
        if let text = value(signingCurve, "BSKY_SIGNING_CURVE") {
            guard let curve = Curve(rawValue: text.lowercased()) else { throw ValidationError("--signing-curve must be k256 or p256") }
            config.signingCurve = curve
        }
        if let seconds = try number(notifyInterval, "BSKY_NOTIFY_INTERVAL") { config.notifyInterval = TimeInterval(seconds) }
        try network.apply(to: &config)
        try limits.apply(to: &config, relay: &relay)
        if role == .all { try PDSServer.pair(pds: &config, relay: &relay) }

        let dataPath = config.dataDirectory.path
        var services = [any Service]()
        if role != .relay {
            services.append(try await PDSServer.application(config: config, logger: logger) { url in
                writeLine("bsky serve: PDS and PLC directory listening on \(url.absoluteString) (data in \(dataPath))")
            })
        }
        if role != .pds {
            let plc = relay.plcURL.absoluteString
            services.append(try await PDSServer.relayApplication(config: relay, logger: logger) { url in
                writeLine("bsky serve: relay listening on \(url.absoluteString) (resolving DIDs with \(plc))")
            })
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// The network's PLC directory (a constant, so the unwrap cannot fail).
    static let publicPLC = URL(string: "https://plc.directory")!

    /// A comma-separated list from the environment.
    static func list(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
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

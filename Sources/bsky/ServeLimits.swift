import ArgumentParser
import Foundation
import Server

/// The limits of `bsky serve`: connections, uploads, logins and what the
/// relay takes from hosts. Each has a default that holds a hostile client or
/// host to a bounded share of the machine.
struct ServeLimits: ParsableArguments {
    @Option(help: "Close a connection idle (nothing read or written) this many seconds ($BSKY_IDLE_TIMEOUT; default 60).")
    var idleTimeout: Int?
    @Option(help: "Close a connection whose peer reads nothing for this many seconds ($BSKY_WRITE_TIMEOUT; default 30).")
    var writeTimeout: Int?
    @Option(help: "Connections open at once from one IP address ($BSKY_MAX_CONNECTIONS_PER_IP; default 512).")
    var maxConnectionsPerIP: Int?
    @Option(help: "Firehose subscriptions at once from one IP address ($BSKY_MAX_SUBSCRIBERS_PER_IP; default 32).")
    var maxSubscribersPerIP: Int?
    @Option(help: "Bytes queued for one firehose subscriber before it is dropped ($BSKY_SUBSCRIBER_QUEUE_BYTES; default 8388608).")
    var subscriberQueueBytes: Int?
    @Option(help: "Bytes of uploaded blobs no record references, per account ($BSKY_BLOB_QUOTA; default 268435456).")
    var blobQuota: Int?
    @Option(help: "Seconds an uploaded blob may stay unreferenced before it is deleted ($BSKY_ORPHAN_BLOB_LIFETIME; default 3600).")
    var orphanBlobLifetime: Int?
    @Option(help: "Login attempts per account: N/SECONDS or off ($BSKY_LOGIN_LIMIT; default 30/300).") var loginLimit: String?
    @Option(help: "Operations posted to the PLC directory per client: N/SECONDS or off ($BSKY_PLC_WRITE_LIMIT; default 100/3600).")
    var plcWriteLimit: String?
    @Option(help: "The largest repository the relay fetches in a resync, in bytes ($BSKY_RELAY_MAX_REPO_BYTES; default 134217728).")
    var relayMaxRepoBytes: Int?
    @Option(help: "The largest firehose frame the relay takes from a host ($BSKY_RELAY_MAX_FRAME_BYTES; default 5242880).")
    var relayMaxFrameBytes: Int?
    @Option(help: "Bytes of a host's events the relay holds being verified, and again in each batch being stored ($BSKY_RELAY_INGEST_BYTES; default 33554432).")
    var relayIngestBytes: Int?
    @Option(help: "getRepo calls per client on the relay: N/SECONDS or off ($BSKY_RELAY_GET_REPO_LIMIT; default 300/3600).")
    var relayGetRepoLimit: String?

    /// Applies the options (or their environment variables) to both roles' configurations.
    func apply(to pds: inout ServerConfig, relay: inout RelayConfig) throws {
        let env = ProcessInfo.processInfo.environment
        func number(_ option: Int?, _ name: String, _ what: String, min: Int = 1) throws -> Int? {
            guard let value = try option ?? env[name].flatMap({ text in
                guard !text.isEmpty else { return nil }
                guard let n = Int(text) else { throw ValidationError("$\(name) must be a number, not \(text)") }
                return n
            }) else { return nil }
            guard value >= min else { throw ValidationError("\(what) must be at least \(min)") }
            return value
        }
        func rule(_ option: String?, _ name: String, _ what: String) throws -> RateLimitRule?? {
            guard let text = option ?? env[name].flatMap({ $0.isEmpty ? nil : $0 }) else { return nil }
            return .some(try ServeCommand.rule(text, what))
        }
        var limits = pds.connections
        if let n = try number(idleTimeout, "BSKY_IDLE_TIMEOUT", "--idle-timeout") { limits.idleTimeout = .seconds(n) }
        if let n = try number(writeTimeout, "BSKY_WRITE_TIMEOUT", "--write-timeout") { limits.writeTimeout = .seconds(n) }
        if let n = try number(maxConnectionsPerIP, "BSKY_MAX_CONNECTIONS_PER_IP", "--max-connections-per-ip") { limits.perIP = n }
        if let n = try number(maxSubscribersPerIP, "BSKY_MAX_SUBSCRIBERS_PER_IP", "--max-subscribers-per-ip") { limits.subscribersPerIP = n }
        if let n = try number(subscriberQueueBytes, "BSKY_SUBSCRIBER_QUEUE_BYTES", "--subscriber-queue-bytes", min: 65536) {
            limits.subscriberQueueBytes = n
        }
        pds.connections = limits
        relay.connections = limits
        if let n = try number(blobQuota, "BSKY_BLOB_QUOTA", "--blob-quota", min: 0) { pds.unreferencedBlobQuota = n }
        if let n = try number(orphanBlobLifetime, "BSKY_ORPHAN_BLOB_LIFETIME", "--orphan-blob-lifetime", min: 0) {
            pds.orphanBlobLifetime = TimeInterval(n)
        }
        if let value = try rule(loginLimit, "BSKY_LOGIN_LIMIT", "--login-limit") { pds.loginLimit = value }
        if let value = try rule(plcWriteLimit, "BSKY_PLC_WRITE_LIMIT", "--plc-write-limit") { pds.plcWriteLimit = value }
        if let n = try number(relayMaxRepoBytes, "BSKY_RELAY_MAX_REPO_BYTES", "--relay-max-repo-bytes", min: 1024) { relay.maxRepoBytes = n }
        if let n = try number(relayMaxFrameBytes, "BSKY_RELAY_MAX_FRAME_BYTES", "--relay-max-frame-bytes", min: 1024) { relay.maxFrameBytes = n }
        if let n = try number(relayIngestBytes, "BSKY_RELAY_INGEST_BYTES", "--relay-ingest-bytes", min: 1 << 20) { relay.ingestBytes = n }
        if let value = try rule(relayGetRepoLimit, "BSKY_RELAY_GET_REPO_LIMIT", "--relay-get-repo-limit") { relay.getRepoLimit = value }
    }
}

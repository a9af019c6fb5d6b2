import ATSyntax
import Bluesky
import Foundation
import Logging
import Synchronization

extension Relay {
    /// Follows one host's firehose until the task is cancelled or the host
    /// is banned, reconnecting with backoff from the stored cursor.
    func crawl(_ host: CrawlHost, secure: Bool) async {
        let key = host.description
        guard let base = try? host.url(secure: secure) else { return }
        let client = Bluesky(
            serverURL: base, retryConfig: RetryConfig.backoff(maxElapsedTime: .seconds(20)), timeout: .seconds(60), transport: outbound)
        var delay = Duration.seconds(1)
        while !Task.isCancelled {
            guard let record = try? hosts.host(key), record.status != .banned else { break }
            let session = HostSession(host: key, cursor: record.cursor)
            let pipeline = IngestPipeline(relay: self, session: session, client: client, budget: config.ingestBytes)
            do {
                reconnecting.withLock { _ = $0.remove(key) }
                let firehose = try await firehoseClient(client, host: host, secure: secure)
                try await firehose.sync.subscribeRepoFrames(cursor: record.cursor, maxFrameSize: config.maxFrameBytes) { frame in
                    try await pipeline.push(frame)
                }
                try await pipeline.finish()
                logger.info("relay: \(key) closed its firehose")
            } catch let error as BlueskyError where error.name == "FutureCursor" {
                // The host's sequence went back (it was reset): start over from its beginning.
                try? await pipeline.finish()
                logger.warning("relay: \(key) says cursor \(record.cursor) is in the future; starting from 0")
                try? hosts.setCursor(0, ofHost: key)
            } catch {
                if Task.isCancelled {
                    pipeline.cancel()
                    break
                }
                // What was read before the failure is still applied.
                try? await pipeline.finish()
                logger.info("relay: \(key) firehose: \(error)")
            }
            reconnecting.withLock { _ = $0.insert(key) }
            if session.with({ $0.received }) > 0 { delay = .seconds(1) } else { try? hosts.setStatus(.offline, ofHost: key) }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(60))
        }
        reconnecting.withLock { _ = $0.remove(key) }
    }

    /// The client the firehose connection is made with. The host is vetted
    /// again at every connection (its name may resolve elsewhere by now); a
    /// plain-HTTP (private, operator-allowed) host is reached at the address
    /// that was checked. A TLS host is reached by name: its certificate must
    /// match the name, which an address it was rebound to cannot show.
    private func firehoseClient(_ client: Bluesky, host: CrawlHost, secure: Bool) async throws -> Bluesky {
        let vetted = try await policy.vet(host)
        guard !secure, let address = vetted.address, IPAddress(v4: host.host) == nil, IPAddress(v6: host.host) == nil else { return client }
        var pinned = client
        pinned.serverURL = try PDSServer.baseURL(host: address.description, port: host.port ?? 80)
        return pinned
    }

    /// Applies one event of `pipeline`'s host, in order: commits through
    /// ``applyCommit(_:frame:verification:batch:pipeline:)``, the others after
    /// the batch so far is stored.
    func apply(_ slot: IngestPipeline.Slot, batch: inout MirrorBatch, pipeline: IngestPipeline) async throws {
        let (session, client) = (pipeline.session, pipeline.client)
        if let seq = slot.event.seq {
            let (last, first) = session.with { state in
                let seen = (state.last, state.received == 0)
                if seq > state.last { (state.last, state.received) = (seq, state.received + 1) }
                return seen
            }
            if seq <= last { return }  // replayed again
            if first { try? hosts.setStatus(.active, ofHost: session.host) }
            if last > 0, seq != last + 1 {
                try await flush(&batch, pipeline: pipeline)
                logger.notice("relay: \(session.host) jumped from seq \(last) to \(seq); checking its repositories")
                await reconcile(session.host, client: client)
            }
        }
        if case .commit(let commit) = slot.event, let verification = slot.verification {
            try await applyCommit(commit, frame: slot.frame, verification: await verification.value, batch: &batch, pipeline: pipeline)
            return
        }
        try await flush(&batch, pipeline: pipeline)
        switch slot.event {
        case .commit:
            break
        case .sync(let seq, let did, let rev, _):
            if let identity = await authorizedIdentity(did, host: session.host), let rev = try? TID(rev) {
                if try head(of: did)?.rev.map({ $0 < rev }) ?? true {
                    await resync(did, host: session.host, client: client, identity: identity, reason: "#sync to \(rev)")
                }
            }
            try hosts.setCursor(seq, ofHost: session.host)
        case .identity(let seq, let did, _, _), .account(let seq, let did, _, _, _):
            identities.forget(did)
            // What the host says of the account decides whether the relay serves its repository.
            if case .account(_, _, let active, let status, _) = slot.event, await authorizedIdentity(did, host: session.host) != nil {
                let current = try hosts.mirroredRepo(did)?.status
                let next = MirrorStatus.account(active: active, status: status)
                if next != .active || current?.isAccountInactive == true {
                    try hosts.setStatus(next, of: did, host: session.host)
                    // The cached head (which may be ahead of the store) takes the new
                    // status, so that the next commit applies instead of resyncing.
                    heads.withLock { heads in
                        heads[did]?.status = next
                        heads[did]?.host = session.host
                    }
                }
            }
            // Passed on re-encoded from the lexicon's fields, or not at all.
            if await authorizedIdentity(did, host: session.host) != nil, let message = FirehoseFrame.Message(slot.frame) {
                try await firehose.append(did: did) { message.frame(seq: $0) }
            }
            try hosts.setCursor(seq, ofHost: session.host)
        case .info(let name, let message):
            logger.notice("relay: \(session.host) says \(name): \(message ?? "")")
            if name == "OutdatedCursor" { await reconcile(session.host, client: client) }
        case .unknown:
            if let seq = slot.event.seq { try hosts.setCursor(seq, ofHost: session.host) }
        }
    }

    /// The per-host event limit: past it, the host is `throttled` until the window ends.
    func throttle(_ session: HostSession) async throws {
        guard let rule = config.hostEventLimit else { return }
        let now = Date().timeIntervalSince1970
        let window = now - now.truncatingRemainder(dividingBy: Double(rule.window))
        let over = session.with { state in
            if state.windowStart != window { (state.windowStart, state.windowCount) = (window, 0) }
            state.windowCount += 1
            return state.windowCount > rule.limit
        }
        guard over else { return }
        try? hosts.setStatus(.throttled, ofHost: session.host)
        try await Task.sleep(for: .seconds(window + Double(rule.window) - now))
        try? hosts.setStatus(.active, ofHost: session.host)
        session.with { (state: inout HostSession.State) in (state.windowStart, state.windowCount) = (window + Double(rule.window), 1) }
    }

    /// After a gap in a host's sequence: lists its repositories and resyncs
    /// each mirrored one whose revision differs.
    func reconcile(_ host: String, client: Bluesky) async {
        do {
            var mine = [DID: MirroredRepo]()
            for repo in try hosts.mirroredRepos(ofHost: host) { mine[repo.did] = repo }
            for try await page in client.sync.listRepos(limit: 1000) {
                for listing in page.repos {
                    let did = listing.did
                    guard let mirrored = mine[did], mirrored.rev != listing.rev else { continue }
                    guard let identity = await authorizedIdentity(did, host: host) else { continue }
                    await resync(did, host: host, client: client, identity: identity, reason: "the host's sequence has a gap")
                }
            }
        } catch {
            logger.warning("relay: could not list the repositories of \(host): \(error)")
        }
    }

    /// The identity of `did` when its PDS is `host`: a host only speaks for
    /// the accounts it hosts. Re-resolved once on a mismatch (the account
    /// may have moved).
    func authorizedIdentity(_ did: DID, host: String) async -> Identity? {
        if let identity = try? await identities.identity(of: did), identity.host == host { return identity }
        guard let fresh = try? await identities.identity(of: did, refresh: true), fresh.host == host else {
            logger.info("relay: \(host) sent an event for \(did), which it does not host")
            return nil
        }
        return fresh
    }
}

/// The state of one connection to a host's firehose.
final class HostSession: Sendable {
    struct State {
        /// The last sequence number handled.
        var last: Int64
        /// Events received on this connection.
        var received = 0
        /// The current rate-limit window and the events in it.
        var windowStart = 0.0
        var windowCount = 0
    }
    let host: String
    private let state: Mutex<State>

    init(host: String, cursor: Int64) {
        self.host = host
        self.state = Mutex(State(last: cursor))
    }

    /// Reads or changes the state.
    func with<T>(_ body: (inout State) -> T) -> T { state.withLock { body(&$0) } }
}

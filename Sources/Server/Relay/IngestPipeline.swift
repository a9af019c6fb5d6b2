import ATRepo
import ATSyntax
import Bluesky
import Foundation
import Synchronization

/// The ingest of one connection to a host's firehose.
///
/// Frames are decoded in the order they arrive, and each commit's
/// verification starts at once on its own task, so that commits are checked
/// on every core, up to ``window`` ahead of the oldest. A single consumer
/// takes the events back in order and applies them: consecutive commits that
/// verified and follow their repository go to the store in one transaction,
/// closed when no more events are queued (so a quiet stream adds no delay)
/// or at ``batchLimit``. Anything else — a gap, a failed verification, another
/// kind of event — is handled on its own, in order.
final class IngestPipeline: Sendable {
    /// One event on its way through: decoded, and for a commit, being verified.
    struct Slot: Sendable {
        let event: RepoEvent
        let frame: [UInt8]
        let verification: Task<Verification, Never>?
    }

    /// What checking a commit found.
    enum Verification: Sendable {
        case verified(VerifiedCommit, Identity)
        case failed(String, Identity)
        /// The host does not host the account.
        case unauthorized
    }

    /// The most events decoded ahead of the one being applied.
    static let window = 64
    /// The most commits in one transaction.
    static let batchLimit = 128

    let relay: Relay
    let session: HostSession
    let client: Bluesky
    private let slots: AsyncStream<Slot>
    private let input: AsyncStream<Slot>.Continuation
    private let credits: Credits
    private let counts = Mutex((sent: 0, failure: String?.none))
    private let consumer = Mutex<Task<Void, any Error>?>(nil)

    init(relay: Relay, session: HostSession, client: Bluesky) {
        self.relay = relay
        self.session = session
        self.client = client
        (slots, input) = AsyncStream.makeStream(of: Slot.self)
        credits = Credits(Self.window)
        consumer.withLock { $0 = Task { [self] in try await consume() } }
    }

    /// Takes the next frame: decodes it, starts verifying it, and queues it;
    /// waits while the window is full.
    ///
    /// - Throws: what stopped the consumer, or `BlueskyError` for a frame
    ///   that does not decode (an error frame, say).
    func push(_ frame: [UInt8]) async throws {
        if let failure = counts.withLock({ $0.failure }) { throw StorageError(.io, failure) }
        try await relay.throttle(session)
        let event = try RepoEvent(frame: frame)
        var verification: Task<Verification, Never>?
        if case .commit(let commit) = event {
            let (relay, host) = (relay, session.host)
            verification = Task { await relay.verify(commit, host: host) }
        }
        await credits.acquire()
        input.yield(Slot(event: event, frame: frame, verification: verification))
        counts.withLock { $0.sent += 1 }
    }

    /// Ends the input and waits until everything queued is applied.
    func finish() async throws {
        input.finish()
        try await consumer.withLock { $0 }?.value
    }

    /// Stops at once, dropping what is queued (its events come again from the cursor).
    func cancel() {
        input.finish()
        consumer.withLock { $0 }?.cancel()
    }

    private func consume() async throws {
        var iterator = slots.makeAsyncIterator()
        var taken = 0
        var lookahead: Slot?
        var batch = MirrorBatch()
        do {
            while true {
                let slot: Slot
                if let next = lookahead {
                    slot = next
                    lookahead = nil
                } else {
                    guard let next = await iterator.next() else { break }
                    slot = next
                    taken += 1
                }
                try await relay.apply(slot, batch: &batch, pipeline: self)
                await credits.release()
                guard !batch.isEmpty else { continue }
                // Keep the transaction open while more events are queued (a
                // backlog): it closes when the queue runs dry, so a quiet
                // stream adds no delay.
                if batch.count < Self.batchLimit, counts.withLock({ $0.sent }) > taken, let next = await iterator.next() {
                    taken += 1
                    lookahead = next
                    continue
                }
                try relay.flush(&batch, host: session.host)
            }
            try relay.flush(&batch, host: session.host)
        } catch {
            relay.forgetHeads(batch)
            counts.withLock { $0.failure = "the ingest of \(session.host) stopped: \(error)" }
            await credits.open()
            throw error
        }
    }
}

/// A counting semaphore for the window.
actor Credits {
    private var available: Int
    private var waiting = [CheckedContinuation<Void, Never>]()

    init(_ count: Int) { available = count }

    func acquire() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty { available += 1 } else { waiting.removeFirst().resume() }
    }

    /// Lets every waiter and later caller through (the consumer is gone).
    func open() {
        available = .max / 2
        waiting.forEach { $0.resume() }
        waiting.removeAll()
    }
}

/// Verified commits waiting for one transaction.
struct MirrorBatch {
    var commits = [MirroredCommit]()
    /// The repositories as the batch leaves them.
    var heads = [DID: MirroredRepo]()
    /// The host's sequence number to record with the batch.
    var cursor: Int64?

    var count: Int { commits.count }
    var isEmpty: Bool { commits.isEmpty && cursor == nil }
}

import ATRepo
import ATSyntax
import Bluesky
import Foundation
import Synchronization

/// The ingest of one connection to a host's firehose.
///
/// Frames are decoded in the order they arrive, and each commit's
/// verification starts at once on its own task, so that commits are checked
/// on every core, while the events ahead of the oldest fit the byte budget
/// (a frame counts twice: it is kept, and so are its decoded blocks). A single consumer
/// takes the events back in order and applies them: consecutive commits that
/// verified and follow their repository go to the store in one transaction
/// (a group commit), written by ``writer`` on its own thread while the
/// consumer goes on. A batch is handed over as soon as the writer is free
/// and nothing more is queued, so a quiet stream adds no delay, and during a
/// backlog it grows, up to ``batchLimit``, while the one before is written.
/// Anything else — a gap, a failed verification, another kind of event — is
/// handled on its own, in order, after everything before it is stored.
final class IngestPipeline: Sendable {
    /// One event on its way through: decoded, and for a commit, being verified.
    struct Slot: Sendable {
        let event: RepoEvent
        let frame: [UInt8]
        let verification: Task<Verification, Never>?
        /// What it holds of the budget.
        let cost: Int
    }

    /// What the consumer takes: the next event, or word that a write is done.
    enum Item: Sendable {
        case event(Slot)
        /// The write with this number (``WriteBehind``'s) ended.
        case written(Int)
    }

    /// What checking a commit found.
    enum Verification: Sendable {
        case verified(CheckedCommit, Identity)
        case failed(String, Identity)
        /// The host does not host the account.
        case unauthorized
    }

    /// What an event costs of the budget at least (so that small events
    /// still stop at 1,024 within the default 32 MiB).
    static let minimumCost = 32 << 10
    /// The most commits in one transaction. A long backlog is written in
    /// batches this large: the more commits of one repository a transaction
    /// holds, the more of their blocks it never writes (``CommitWriter/transientBlocks(of:)``).
    static let batchLimit = 4096

    let relay: Relay
    let session: HostSession
    let client: Bluesky
    /// Stores the batches while the consumer assembles the next.
    let writer: WriteBehind
    private let items: AsyncStream<Item>
    private let input: AsyncStream<Item>.Continuation
    private let credits: Credits
    /// The most bytes of commits one batch holds (as ``MirrorBatch/bytes`` counts them).
    private let batchBytes: Int
    private let counts = Mutex((sent: 0, failure: String?.none))
    private let consumer = Mutex<Task<Void, any Error>?>(nil)

    /// A pipeline for one connection, holding at most `budget` bytes of events ahead.
    init(relay: Relay, session: HostSession, client: Bluesky, budget: Int) {
        self.relay = relay
        self.session = session
        self.client = client
        (items, input) = AsyncStream.makeStream(of: Item.self)
        writer = WriteBehind(label: "relay.ingest.\(session.host)") { [input] in input.yield(.written($0)) }
        let budget = max(budget, 2 * Self.minimumCost)
        credits = Credits(budget)
        batchBytes = budget
        consumer.withLock { $0 = Task { [self] in try await consume() } }
    }

    /// Takes the next frame: decodes it, starts verifying it, and queues it;
    /// waits while the budget is spent.
    ///
    /// - Throws: what stopped the consumer, or `BlueskyError` for a frame
    ///   that does not decode (an error frame, say).
    func push(_ frame: [UInt8]) async throws {
        if let failure = counts.withLock({ $0.failure }) { throw StorageError(.io, failure) }
        try await relay.throttle(session)
        let cost = max(2 * frame.count, Self.minimumCost)
        await credits.acquire(cost)
        let event: RepoEvent
        do {
            event = try RepoEvent(frame: frame)
        } catch {
            credits.release(cost)
            throw error
        }
        var verification: Task<Verification, Never>?
        if case .commit(let commit) = event {
            let (relay, host) = (relay, session.host)
            verification = Task { await relay.verify(commit, frame: frame, host: host) }
        }
        input.yield(.event(Slot(event: event, frame: frame, verification: verification, cost: cost)))
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
        var batch = MirrorBatch()
        var taken = 0
        // Whether a batch is with the writer (its `.written` has not come back).
        var writing = false
        do {
            for await item in items {
                switch item {
                case .event(let slot):
                    taken += 1
                    try await relay.apply(slot, batch: &batch, pipeline: self)
                    credits.release(slot.cost)
                case .written(let number):
                    // The consumer may have waited for this write already, and
                    // submitted the next: only the end of the latest counts.
                    guard writer.isLatest(number) else { continue }
                    try await writer.drain()  // done: this throws a failed write's error, or returns at once
                    writing = false
                }
                guard !batch.isEmpty else { continue }
                // A batch goes to the writer as soon as the writer is free and
                // nothing more is queued (a quiet stream waits for nothing);
                // during a backlog it grows while the batch before is written.
                let queued = counts.withLock { $0.sent } > taken
                let full = batch.count >= Self.batchLimit || batch.bytes >= batchBytes
                if full, writing {
                    try await writer.drain()
                    writing = false
                }
                if !writing, !queued || full {
                    try await relay.store(&batch, pipeline: self)
                    writing = true
                }
            }
            try await relay.flush(&batch, pipeline: self)
        } catch {
            counts.withLock { $0.failure = "the ingest of \(session.host) stopped: \(error)" }
            credits.open()
            throw error
        }
    }
}

/// A byte budget: takers wait, in order, until what they ask for is free.
/// One that asks for more than the whole budget waits until all of it is
/// free, then takes it.
///
/// A lock, not an actor: taking what is free and giving back never suspend,
/// so neither the reader nor the consumer leaves its thread for them (a hop
/// to an actor and back would queue the caller behind every verification
/// waiting for a core).
final class Credits: Sendable {
    private struct State {
        var available: Int
        var waiting = [(amount: Int, continuation: CheckedContinuation<Void, Never>)]()
    }
    private let total: Int
    private let state: Mutex<State>

    init(_ total: Int) {
        self.total = total
        state = Mutex(State(available: total))
    }

    func acquire(_ amount: Int) async {
        let amount = min(amount, total)
        let taken = state.withLock { state in
            guard state.waiting.isEmpty, state.available >= amount else { return false }
            state.available -= amount
            return true
        }
        if taken { return }
        await withCheckedContinuation { continuation in
            let now = state.withLock { state in
                // Given back since the check above: take it here.
                if state.waiting.isEmpty, state.available >= amount {
                    state.available -= amount
                    return true
                }
                state.waiting.append((amount, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }

    func release(_ amount: Int) {
        let ready = state.withLock { state in
            state.available = min(state.available + min(amount, total), total)
            var ready = [CheckedContinuation<Void, Never>]()
            while let first = state.waiting.first, state.available >= first.amount {
                state.available -= first.amount
                ready.append(state.waiting.removeFirst().continuation)
            }
            return ready
        }
        ready.forEach { $0.resume() }
    }

    /// How many takers are waiting.
    var waiting: Int { state.withLock { $0.waiting.count } }

    /// Lets every waiter and later caller through (the consumer is gone).
    func open() {
        let waiting = state.withLock { state in
            state.available = .max / 2
            defer { state.waiting.removeAll() }
            return state.waiting.map(\.continuation)
        }
        waiting.forEach { $0.resume() }
    }
}

/// Verified commits waiting for one transaction.
struct MirrorBatch {
    var commits = [MirroredCommit]()
    /// What the commits hold, counted as twice their frames: the blocks
    /// to store, and the event to publish.
    var bytes = 0
    /// The repositories as the batch leaves them.
    var heads = [DID: MirroredRepo]()
    /// The host's sequence number to record with the batch.
    var cursor: Int64?

    var count: Int { commits.count }
    var isEmpty: Bool { commits.isEmpty && cursor == nil }
}

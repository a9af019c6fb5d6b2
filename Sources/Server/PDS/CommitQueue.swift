import Dispatch
import Synchronization

/// Group commit: the commits that wait are written together, in the order
/// they came, in one transaction with one sync to disk, and each caller is
/// answered only after that transaction is durable.
///
/// The writes run on a serial dispatch queue of their own, so that a sync
/// to disk never holds one of the few threads of Swift's cooperative pool.
/// While one transaction runs, the next commits gather; a transaction takes
/// at most ``maxBatch`` of them.
final class CommitQueue: Sendable {
    /// The most commits written in one transaction.
    static let maxBatch = 256

    private struct Waiting: Sendable {
        let commit: StoredCommit
        let continuation: CheckedContinuation<SequencedEvent?, any Error>
    }

    private struct State: Sendable {
        var waiting: [Waiting] = []
        /// Whether a drain is scheduled or running on the queue.
        var draining = false
    }

    private let store: any RepoStore
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "pds.commit-queue")

    init(store: any RepoStore) {
        self.store = store
    }

    /// Queues `commit` to be written with whatever else is waiting; its
    /// firehose event goes to `continuation` once the transaction is durable.
    ///
    /// Synchronous, so that a caller on an actor queues its commits in the
    /// order it made them: await through `withCheckedThrowingContinuation`
    /// from the actor itself.
    func enqueue(_ commit: StoredCommit, _ continuation: CheckedContinuation<SequencedEvent?, any Error>) {
        let start = state.withLock { state in
            state.waiting.append(Waiting(commit: commit, continuation: continuation))
            defer { state.draining = true }
            return !state.draining
        }
        if start { queue.async { self.drain() } }
    }

    /// Writes batches until none is waiting.
    private func drain() {
        while true {
            let batch = state.withLock { state -> [Waiting] in
                let batch = Array(state.waiting.prefix(Self.maxBatch))
                state.waiting.removeFirst(batch.count)
                if batch.isEmpty { state.draining = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                let results = try store.apply(group: batch.map(\.commit))
                for (waiting, result) in zip(batch, results) { waiting.continuation.resume(with: result.mapError { $0 }) }
            } catch {
                for waiting in batch { waiting.continuation.resume(throwing: error) }
            }
        }
    }
}

import ATSyntax
import Dispatch
import Synchronization

/// Stores an ingest pipeline's batches in order on a thread of its own: while
/// a batch is written (SQLite holds its thread for the whole transaction),
/// the consumer assembles the next, and the cooperative threads stay free to
/// verify commits.
///
/// One consumer calls it; a failed write fails every later call.
final class WriteBehind: Sendable {
    private let queue: DispatchQueue
    private let written: @Sendable () -> Void
    private let state = Mutex<(pending: Task<Void, any Error>?, heads: [DID: MirroredRepo])>((nil, [:]))

    /// - Parameter written: called after each write, successful or not.
    init(label: String, written: @escaping @Sendable () -> Void) {
        queue = DispatchQueue(label: label)
        self.written = written
    }

    /// Waits for the write before, then starts `work`, the write of a batch
    /// that leaves the repositories at `heads`.
    func submit(heads: [DID: MirroredRepo], _ work: @escaping @Sendable () throws -> Void) async throws {
        try await drain()
        let (queue, written) = (queue, written)
        let task = Task {
            try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
                queue.async {
                    done.resume(with: Result { try work() })
                    written()
                }
            }
        }
        state.withLock { $0 = (task, heads) }
    }

    /// Waits until everything submitted is written.
    ///
    /// - Throws: the error of a failed write.
    func drain() async throws {
        guard let task = state.withLock({ $0.pending }) else { return }
        try await task.value
        // Stored: the relay's own cache has these heads now, and a resync may change them.
        state.withLock { state in if state.pending == task { state.heads = [:] } }
    }

    /// The head of `did` as the write under way leaves it, if it changes it.
    func head(of did: DID) -> MirroredRepo? { state.withLock { $0.heads[did] } }
}

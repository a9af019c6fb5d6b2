import ATSyntax
import Dispatch
import Synchronization

/// Stores an ingest pipeline's batches in order on a thread of its own: while
/// a batch is written (SQLite holds its thread for the whole transaction),
/// the consumer assembles the next, and the cooperative threads stay free to
/// verify commits.
///
/// Each write has a number, and its end is announced with that number, so
/// that the consumer can tell the end of the write under way from the late
/// notice of one it has already waited for. Waiting for a write that is done
/// does not suspend.
///
/// One consumer calls it; a failed write fails every later call.
final class WriteBehind: Sendable {
    private struct State {
        /// The number of the last write submitted, and of the last one done.
        var submitted = 0, done = 0
        /// The error of a failed write: every later call throws it.
        var failure: (any Error)?
        /// The consumer, waiting for the write under way.
        var waiter: CheckedContinuation<Void, any Error>?
        /// The repositories as the write under way leaves them.
        var heads = [DID: MirroredRepo]()
    }
    private let queue: DispatchQueue
    private let written: @Sendable (Int) -> Void
    private let state = Mutex(State())

    /// - Parameter written: called with a write's number after it ends, successful or not.
    init(label: String, written: @escaping @Sendable (Int) -> Void) {
        queue = DispatchQueue(label: label)
        self.written = written
    }

    /// Waits for the write before, then starts `work`, the write of a batch
    /// that leaves the repositories at `heads`.
    ///
    /// - Returns: the write's number.
    @discardableResult
    func submit(heads: [DID: MirroredRepo], _ work: @escaping @Sendable () throws -> Void) async throws -> Int {
        try await drain()
        let number = state.withLock { state in
            state.submitted += 1
            state.heads = heads
            return state.submitted
        }
        let (queue, written) = (queue, written)
        queue.async { [self] in
            let failure: (any Error)?
            do {
                try work()
                failure = nil
            } catch {
                failure = error
            }
            let waiter = state.withLock { state in
                state.done = number
                state.failure = state.failure ?? failure
                // Stored: the relay's own cache has these heads now.
                state.heads = [:]
                defer { state.waiter = nil }
                return state.waiter.map { ($0, state.failure) }
            }
            if let (waiter, failure) = waiter {
                if let failure { waiter.resume(throwing: failure) } else { waiter.resume() }
            }
            written(number)
        }
        return number
    }

    /// Whether write `number` is the last one submitted.
    func isLatest(_ number: Int) -> Bool { state.withLock { $0.submitted == number } }

    /// Waits until everything submitted is written.
    ///
    /// - Throws: the error of a failed write.
    func drain() async throws {
        let now: Result<Void, any Error>? = state.withLock { state in
            if let failure = state.failure { return .failure(failure) }
            return state.done == state.submitted ? .success(()) : nil
        }
        if let now { return try now.get() }
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
            let now: Result<Void, any Error>? = state.withLock { state in
                if let failure = state.failure { return .failure(failure) }
                if state.done == state.submitted { return .success(()) }
                state.waiter = waiter
                return nil
            }
            if let now { waiter.resume(with: now) }
        }
    }

    /// The head of `did` as the write under way leaves it, if it changes it.
    func head(of did: DID) -> MirroredRepo? { state.withLock { $0.heads[did] } }
}

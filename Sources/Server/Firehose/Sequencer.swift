import Foundation
import Synchronization

/// Hands persisted firehose events to live subscribers, in sequence order.
///
/// Commits of different repositories finish concurrently, so events can
/// arrive out of order; they are held until the ones before them are out.
/// Each subscriber has a bounded queue: one that falls too far behind is
/// ended (`ConsumerTooSlow`) and never slows the writers.
final class Sequencer: Sendable {
    /// How a subscription ends.
    enum End: Error { case tooSlow }

    private struct State {
        var next: Int64
        var held: [Int64: SequencedEvent] = [:]
        var subscribers: [UUID: AsyncThrowingStream<SequencedEvent, any Error>.Continuation] = [:]
    }
    private let state: Mutex<State>
    let queueLimit: Int

    /// A sequencer whose next event is `latest + 1`.
    init(latest: Int64, queueLimit: Int = 2000) {
        state = Mutex(State(next: latest + 1))
        self.queueLimit = queueLimit
    }

    /// Publishes an event once every earlier one is out.
    func publish(_ event: SequencedEvent) {
        // Ending a stream runs its termination handler, which takes the lock:
        // the dropped subscribers are finished after it is released.
        let dropped = state.withLock { state in
            var dropped = [AsyncThrowingStream<SequencedEvent, any Error>.Continuation]()
            state.held[event.seq] = event
            while let ready = state.held.removeValue(forKey: state.next) {
                state.next += 1
                for (id, subscriber) in state.subscribers {
                    if case .dropped = subscriber.yield(ready) {
                        state.subscribers[id] = nil
                        dropped.append(subscriber)
                    }
                }
            }
            return dropped
        }
        for subscriber in dropped { subscriber.finish(throwing: End.tooSlow) }
    }

    /// A live stream of events from now on, and the sequence number before it.
    func subscribe() -> (after: Int64, events: AsyncThrowingStream<SequencedEvent, any Error>) {
        let (stream, continuation) = AsyncThrowingStream<SequencedEvent, any Error>.makeStream(bufferingPolicy: .bufferingOldest(queueLimit))
        let id = UUID()
        let after = state.withLock { state in
            state.subscribers[id] = continuation
            return state.next - 1
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return (after, stream)
    }
}

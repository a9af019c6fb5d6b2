import Foundation
import Synchronization

/// Hands persisted firehose events to live subscribers, in sequence order.
///
/// Commits of different repositories finish concurrently, so events can
/// arrive out of order; they are held until the ones before them are out.
/// Each subscriber has a queue bounded in events and in bytes: one that
/// falls too far behind is ended (`ConsumerTooSlow`) and never slows the
/// writers or holds more than its share of memory.
final class Sequencer: Sendable {
    /// How a subscription ends.
    enum End: Error { case tooSlow }

    private struct Subscriber {
        let continuation: AsyncThrowingStream<SequencedEvent, any Error>.Continuation
        /// Bytes of events queued and not yet taken.
        var queued = 0
    }

    private struct State {
        var next: Int64
        var held: [Int64: SequencedEvent] = [:]
        var subscribers: [UUID: Subscriber] = [:]
    }
    private let state: Mutex<State>
    let queueLimit: Int
    let queueBytes: Int

    /// A sequencer whose next event is `latest + 1`.
    init(latest: Int64, queueLimit: Int = 2000, queueBytes: Int = 8 << 20) {
        state = Mutex(State(next: latest + 1))
        self.queueLimit = queueLimit
        self.queueBytes = queueBytes
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
                for (id, var subscriber) in state.subscribers {
                    subscriber.queued += ready.frame.count
                    var drop = subscriber.queued > queueBytes
                    if !drop, case .dropped = subscriber.continuation.yield(ready) { drop = true }
                    if drop {
                        state.subscribers[id] = nil
                        dropped.append(subscriber.continuation)
                    } else {
                        state.subscribers[id] = subscriber
                    }
                }
            }
            return dropped
        }
        for subscriber in dropped { subscriber.finish(throwing: End.tooSlow) }
    }

    /// A live subscription: the events from now on, and the sequence number before them.
    struct Subscription: Sendable {
        let id: UUID
        let after: Int64
        let events: AsyncThrowingStream<SequencedEvent, any Error>
    }

    /// A live stream of events from now on; call ``taken(_:from:)`` for each
    /// event handled, so that its bytes leave the subscriber's queue.
    func subscribe() -> Subscription {
        let (stream, continuation) = AsyncThrowingStream<SequencedEvent, any Error>.makeStream(bufferingPolicy: .bufferingOldest(queueLimit))
        let id = UUID()
        let after = state.withLock { state in
            state.subscribers[id] = Subscriber(continuation: continuation)
            return state.next - 1
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return Subscription(id: id, after: after, events: stream)
    }

    /// Marks `event` as handled by subscriber `id`.
    func taken(_ event: SequencedEvent, from id: UUID) {
        state.withLock { state in state.subscribers[id]?.queued -= event.frame.count }
    }
}

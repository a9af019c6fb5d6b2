@testable import Server
import Testing

@Suite("Firehose sequencer")
struct SequencerTests {
    func event(_ seq: Int64) -> SequencedEvent { SequencedEvent(seq: seq, frame: [UInt8(seq)]) }

    @Test func eventsGoOutInSequenceOrder() async throws {
        let sequencer = Sequencer(latest: 10)
        let subscription = sequencer.subscribe()
        let (after, stream) = (subscription.after, subscription.events)
        #expect(after == 10)
        // Commits of different repositories can finish out of order.
        for seq: Int64 in [12, 13, 11, 15, 14] { sequencer.publish(event(seq)) }
        var seen = [Int64]()
        for try await event in stream {
            seen.append(event.seq)
            if seen.count == 5 { break }
        }
        #expect(seen == [11, 12, 13, 14, 15])
    }

    @Test func aConsumerTooSlowIsDroppedWithoutBlockingThePublisher() async throws {
        let sequencer = Sequencer(latest: 0, queueLimit: 3)
        let slow = sequencer.subscribe().events
        let other = sequencer.subscribe().events
        for seq: Int64 in 1...10 { sequencer.publish(event(seq)) }  // returns at once
        var delivered = [Int64]()
        await #expect(throws: Sequencer.End.self) {
            for try await event in slow { delivered.append(event.seq) }
        }
        #expect(delivered == [1, 2, 3])
        // Every subscriber with a full queue is dropped; a new one gets what comes next.
        let next = sequencer.subscribe()
        let (after, fresh) = (next.after, next.events)
        #expect(after == 10)
        sequencer.publish(event(11))
        var iterator = fresh.makeAsyncIterator()
        #expect(try await iterator.next()?.seq == 11)
        _ = other
    }

    /// M5: a subscriber's queue is bounded in bytes too: one that takes
    /// nothing is dropped once its events pass the byte limit, while one
    /// that keeps up (and says so) is not.
    @Test func aSubscriberIsDroppedPastItsByteLimit() async throws {
        let sequencer = Sequencer(latest: 0, queueLimit: 1000, queueBytes: 10_000)
        let stuck = sequencer.subscribe()
        let keeping = sequencer.subscribe()
        var iterator = keeping.events.makeAsyncIterator()
        for seq: Int64 in 1...5 {
            sequencer.publish(SequencedEvent(seq: seq, frame: [UInt8](repeating: 1, count: 4000)))
            let event = try #require(try await iterator.next())
            sequencer.taken(event, from: keeping.id)
        }
        var delivered = 0
        await #expect(throws: Sequencer.End.self) {
            for try await _ in stuck.events { delivered += 1 }
        }
        #expect(delivered == 2)  // 8,000 bytes fit; the third event would make 12,000
        sequencer.publish(SequencedEvent(seq: 6, frame: [1]))
        #expect(try await iterator.next()?.seq == 6)
    }
}

@testable import Server
import Testing

@Suite("Firehose sequencer")
struct SequencerTests {
    func event(_ seq: Int64) -> SequencedEvent { SequencedEvent(seq: seq, frame: [UInt8(seq)]) }

    @Test func eventsGoOutInSequenceOrder() async throws {
        let sequencer = Sequencer(latest: 10)
        let (after, stream) = sequencer.subscribe()
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
        let (_, slow) = sequencer.subscribe()
        let (_, other) = sequencer.subscribe()
        for seq: Int64 in 1...10 { sequencer.publish(event(seq)) }  // returns at once
        var delivered = [Int64]()
        await #expect(throws: Sequencer.End.self) {
            for try await event in slow { delivered.append(event.seq) }
        }
        #expect(delivered == [1, 2, 3])
        // Every subscriber with a full queue is dropped; a new one gets what comes next.
        let (after, fresh) = sequencer.subscribe()
        #expect(after == 10)
        sequencer.publish(event(11))
        var iterator = fresh.makeAsyncIterator()
        #expect(try await iterator.next()?.seq == 11)
        _ = other
    }
}

import ATSyntax
import Dispatch
import Foundation
@testable import Server
import Synchronization
import Testing

/// The parts of a relay's ingest pipeline that order its work: the writer
/// that stores batches behind the consumer, and the byte budget between the
/// reader and the consumer.
@Suite("Relay ingest parts")
struct IngestPartsTests {
    /// Shared state for the tasks of a test.
    final class Shared<Value: Sendable>: Sendable {
        private let value: Mutex<Value>
        init(_ value: Value) { self.value = Mutex(value) }
        func with<T>(_ body: (inout Value) -> T) -> T { value.withLock { body(&$0) } }
    }

    /// Waits, yielding, until `condition` holds (it is set by another task).
    func until(_ condition: () -> Bool) async {
        while !condition() { await Task.yield() }
    }

    // MARK: WriteBehind

    /// The bug this guards against: a consumer that had already waited for
    /// write 1 took its late notice as the end of write 2, and then waited for
    /// write 2 while it should have been assembling write 3.
    @Test func aLateNoticeIsNotTheEndOfTheWriteUnderWay() async throws {
        let (notices, sink) = AsyncStream.makeStream(of: Int.self)
        let writer = WriteBehind(label: "test.late") { sink.yield($0) }
        let gate = DispatchSemaphore(value: 0)
        let first = try await writer.submit(heads: [:]) {}
        try await writer.drain()
        let second = try await writer.submit(heads: [:]) { gate.wait() }
        var numbers = notices.makeAsyncIterator()
        #expect(await numbers.next() == first)
        #expect(!writer.isLatest(first), "the notice of write 1 arrives while write 2 is under way")
        #expect(writer.isLatest(second))
        gate.signal()
        #expect(await numbers.next() == second)
        try await writer.drain()
    }

    @Test func drainWaitsForTheWriteAndHeadsLastUntilItEnds() async throws {
        let writer = WriteBehind(label: "test.drain") { _ in }
        let did = try DID("did:plc:ingestparts00000000000000")
        let head = MirroredRepo(did: did, host: "example.com", status: .active)
        let gate = DispatchSemaphore(value: 0)
        let done = Shared(false)
        try await writer.submit(heads: [did: head]) {
            gate.wait()
            done.with { $0 = true }
        }
        #expect(writer.head(of: did) == head, "while the write is under way, the consumer sees the head it leaves")
        let drained = Task { () throws -> Bool in
            try await writer.drain()
            return done.with { $0 }
        }
        gate.signal()
        #expect(try await drained.value, "drain returned before the write ended")
        #expect(writer.head(of: did) == nil, "once written, the relay's own cache has the head")
        // Nothing under way: drain returns at once, as often as asked.
        try await writer.drain()
        try await writer.drain()
    }

    struct WriteFailed: Error {}

    @Test func aFailedWriteFailsEveryLaterCall() async throws {
        let writer = WriteBehind(label: "test.failure") { _ in }
        try await writer.submit(heads: [:]) { throw WriteFailed() }
        await #expect(throws: WriteFailed.self) { try await writer.drain() }
        await #expect(throws: WriteFailed.self) { try await writer.drain() }
        let ran = Shared(false)
        await #expect(throws: WriteFailed.self) { try await writer.submit(heads: [:]) { ran.with { $0 = true } } }
        #expect(!ran.with { $0 }, "nothing is written after a failed write")
    }

    // MARK: Credits

    @Test func takersWaitInOrderUntilWhatTheyAskForIsFree() async {
        let credits = Credits(100)
        await credits.acquire(60)
        let order = Shared([String]())
        let big = Task {
            await credits.acquire(50)
            order.with { $0.append("50") }
        }
        await until { credits.waiting == 1 }
        // 40 are free, but the taker of 10 queues behind the one of 50.
        let small = Task {
            await credits.acquire(10)
            order.with { $0.append("10") }
        }
        await until { credits.waiting == 2 }
        #expect(order.with { $0 }.isEmpty)
        credits.release(60)
        await big.value
        await small.value
        #expect(order.with { $0 } == ["50", "10"])
        #expect(credits.waiting == 0)
        // 40 are free now: more waits, and giving back lets it in.
        let more = Task { await credits.acquire(41) }
        await until { credits.waiting == 1 }
        credits.release(1)
        await more.value
    }

    @Test func aTakerOfMoreThanTheWholeBudgetWaitsForAllOfIt() async {
        let credits = Credits(100)
        await credits.acquire(1)
        let huge = Task { await credits.acquire(1_000) }
        await until { credits.waiting == 1 }
        credits.release(1)
        await huge.value
        // It holds the whole budget: the next taker waits until it gives back.
        let next = Task { await credits.acquire(1) }
        await until { credits.waiting == 1 }
        credits.release(1_000)
        await next.value
    }

    @Test func openingLetsEveryTakerThrough() async {
        let credits = Credits(10)
        await credits.acquire(10)
        let waiters = (0..<3).map { _ in Task { await credits.acquire(5) } }
        await until { credits.waiting == 3 }
        credits.open()
        for waiter in waiters { await waiter.value }
        await credits.acquire(1_000)  // and later ones, at once
        #expect(credits.waiting == 0)
    }
}

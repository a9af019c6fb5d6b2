import ATData
import ATSyntax
import Foundation
@testable import Server
import Synchronization
import Testing

/// Replay from a cursor against the persisted window: the oldest events
/// kept, a cursor before them, and one past the latest.
@Suite("Firehose replay")
struct FirehoseReplayTests {
    /// Events 10…15 kept: the earlier ones were pruned.
    struct PrunedStore: EventStore {
        let kept = (10...15).map { SequencedEvent(seq: $0, frame: FirehoseFrame.info("n", "\($0)")) }
        func appendEvent(did: DID, _ make: @escaping @Sendable (Int64) -> [UInt8]) throws -> SequencedEvent { throw StorageError(.io, "read-only") }
        func events(after seq: Int64, limit: Int) throws -> [SequencedEvent] { Array(kept.filter { $0.seq > seq }.prefix(limit)) }
        func eventBounds() throws -> (oldest: Int64, latest: Int64)? { (10, 15) }
        func pruneEvents(before date: Date) throws {}
    }

    /// The first `count` frames served from `cursor`, as (type or error, message).
    func serve(cursor: Int64?, count: Int) async throws -> [String] {
        let firehose = try await Firehose(events: PrunedStore())
        let frames = Mutex<[String]>([])
        let task = Task {
            try await firehose.serve(cursor: cursor) { frame in
                let (header, length) = try DAGCBOR.decodePrefix(frame)
                let body = try DAGCBOR.decode(Array(frame[length...]))
                let name = header["op"]?.intValue == -1 ? body["error"]?.stringValue : body["name"]?.stringValue
                frames.withLock { $0.append("\(name ?? "?") \(body["message"]?.stringValue ?? "")") }
            }
        }
        let deadline = Date().addingTimeInterval(10)
        while frames.withLock({ $0.count }) < count, Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        task.cancel()
        return frames.withLock { $0 }
    }

    @Test func aCursorBeforeTheWindowGetsOutdatedCursorThenTheOldestEvents() async throws {
        let frames = try await serve(cursor: 3, count: 7)
        #expect(frames.first?.hasPrefix("OutdatedCursor") == true)
        #expect(Array(frames.dropFirst()) == (10...15).map { "n \($0)" })
    }

    @Test func aCursorInsideTheWindowReplaysWhatFollowsIt() async throws {
        #expect(try await serve(cursor: 12, count: 3) == (13...15).map { "n \($0)" })
        #expect(try await serve(cursor: 9, count: 6) == (10...15).map { "n \($0)" })  // right before the oldest: nothing lost
    }

    @Test func aCursorPastTheLatestIsFutureCursor() async throws {
        let frames = try await serve(cursor: 16, count: 1)
        #expect(frames.count == 1 && frames[0].hasPrefix("FutureCursor"))
    }
}

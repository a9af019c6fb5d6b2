import ATSyntax
import Foundation
import PostgresNIO

extension PostgresStore: EventStore {
    public func appendEvent(did: DID, _ make: @escaping @Sendable (Int64) -> [UInt8]) async throws -> SequencedEvent {
        try await transaction { connection in try await Self.insertEvent(connection, did: did, make, logger: self.logger) }
    }

    /// Inserts an event in the connection's transaction, numbered from the
    /// counter row, which stays locked until the transaction ends: take it
    /// last, so that other writers wait on it for as short a time as can be.
    static func insertEvent(
        _ connection: PostgresConnection, did: DID, _ make: (Int64) -> [UInt8], logger: Logger
    ) async throws -> SequencedEvent {
        var seq: Int64?
        for try await next in try await connection.query("UPDATE event_counter SET last = last + 1 RETURNING last", logger: logger)
            .decode(Int64.self)
        {
            seq = next
        }
        guard let seq else { throw StorageError(.corrupt, "the event counter row is missing") }
        let frame = make(seq)
        try await connection.query(
            "INSERT INTO repo_event (seq, did, frame, time) VALUES (\(seq), \(did.description), \(ByteBuffer(bytes: frame)), \(Date()))", logger: logger)
        return SequencedEvent(seq: seq, frame: frame)
    }

    public func events(after seq: Int64, limit: Int) async throws -> [SequencedEvent] {
        try await rows("SELECT seq, frame FROM repo_event WHERE seq > \(seq) ORDER BY seq LIMIT \(limit)").map {
            let (seq, frame) = try $0.decode((Int64, ByteBuffer).self)
            return SequencedEvent(seq: seq, frame: frame.bytes)
        }
    }

    public func eventBounds() async throws -> (oldest: Int64, latest: Int64)? {
        guard let row = try await rows("SELECT MIN(seq), MAX(seq) FROM repo_event").first else { return nil }
        let (oldest, latest) = try row.decode((Int64?, Int64?).self)
        guard let oldest, let latest else { return nil }
        return (oldest, latest)
    }

    public func pruneEvents(before date: Date) async throws {
        _ = try await rows("DELETE FROM repo_event WHERE time < \(date) AND seq < (SELECT MAX(seq) FROM repo_event)")
    }
}

import ATSyntax
import Foundation
import GRDB

extension SQLiteStore: EventStore {
    public func appendEvent(did: DID, _ make: @escaping @Sendable (Int64) -> [UInt8]) async throws -> SequencedEvent {
        try write { db in try Self.insertEvent(db, did: did.description, make) }
    }

    /// Inserts an event in the current transaction. Its sequence number is
    /// the next one AUTOINCREMENT would give (writes are serialised), so the
    /// frame that carries it is written once.
    static func insertEvent(_ db: Database, did: String, _ make: (Int64) -> [UInt8]) throws -> SequencedEvent {
        try CommitWriter(db).appendEvent(did: did, make)
    }

    public func events(after seq: Int64, limit: Int) async throws -> [SequencedEvent] {
        try read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT seq, frame FROM repo_event WHERE seq > ? ORDER BY seq LIMIT ?"), arguments: [seq, limit]
            ).map { SequencedEvent(seq: $0["seq"], frame: [UInt8]($0["frame"] as Data)) }
        }
    }

    public func eventBounds() async throws -> (oldest: Int64, latest: Int64)? {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT MIN(seq) AS oldest, MAX(seq) AS latest FROM repo_event"),
                let oldest = row["oldest"] as Int64?, let latest = row["latest"] as Int64?
            else { return nil }
            return (oldest, latest)
        }
    }

    public func pruneEvents(before date: Date) async throws {
        try write { db in
            try db.execute(
                sql: "DELETE FROM repo_event WHERE time < ? AND seq < (SELECT MAX(seq) FROM repo_event)",
                arguments: [date.timeIntervalSince1970])
        }
    }
}

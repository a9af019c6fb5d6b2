import ATData
import ATSyntax
import Foundation
import GRDB

extension SQLiteStore: RelayStore {
    public func host(_ hostname: String) throws -> HostRecord? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM relay_host WHERE hostname = ?", arguments: [hostname]) }.map(Self.host)
    }

    public func addHost(_ hostname: String) throws -> HostRecord {
        try write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO relay_host (hostname, status, first_seen) VALUES (?, ?, ?)",
                arguments: [hostname, HostStatus.active.rawValue, Date().timeIntervalSince1970])
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM relay_host WHERE hostname = ?", arguments: [hostname]) else {
                throw StorageError(.corrupt, "the host \(hostname) was not stored")
            }
            return try Self.host(row)
        }
    }

    public func setStatus(_ status: HostStatus, ofHost hostname: String) throws {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO relay_host (hostname, status, first_seen) VALUES (?, ?, ?)
                    ON CONFLICT (hostname) DO UPDATE SET status = excluded.status
                    WHERE relay_host.status != 'banned' OR excluded.status = 'banned'
                    """,
                arguments: [hostname, status.rawValue, Date().timeIntervalSince1970])
        }
    }

    public func hosts(after cursor: String?, limit: Int) throws -> [HostRecord] {
        try read { db in
            let after = try cursor.flatMap { try Int64.fetchOne(db, sql: "SELECT id FROM relay_host WHERE hostname = ?", arguments: [$0]) } ?? 0
            return try Row.fetchAll(db, sql: "SELECT * FROM relay_host WHERE id > ? ORDER BY id LIMIT ?", arguments: [after, limit])
        }.map(Self.host)
    }

    public func setCursor(_ seq: Int64, ofHost hostname: String) throws {
        try write { db in try db.execute(sql: "UPDATE relay_host SET cursor = ? WHERE hostname = ?", arguments: [seq, hostname]) }
    }

    public func accountCount(ofHost hostname: String) throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM relay_repo WHERE host = ?", arguments: [hostname]) ?? 0 }
    }

    public func mirroredRepo(_ did: DID) throws -> MirroredRepo? {
        try read { db in
            try Row.fetchOne(
                db, sql: """
                    SELECT m.did, m.host, m.status, m.data_cid, r.commit_cid, r.rev FROM relay_repo m
                    LEFT JOIN repo_root r ON r.did = m.did WHERE m.did = ?
                    """,
                arguments: [did.description])
        }.map(Self.mirrored)
    }

    public func mirroredRepos(ofHost hostname: String) throws -> [MirroredRepo] {
        try read { db in
            try Row.fetchAll(
                db, sql: """
                    SELECT m.did, m.host, m.status, m.data_cid, r.commit_cid, r.rev FROM relay_repo m
                    LEFT JOIN repo_root r ON r.did = m.did WHERE m.host = ? ORDER BY m.did
                    """,
                arguments: [hostname])
        }.map(Self.mirrored)
    }

    public func setStatus(_ status: MirrorStatus, of did: DID, host: String) throws {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO relay_repo (did, host, status) VALUES (?, ?, ?)
                    ON CONFLICT (did) DO UPDATE SET host = excluded.host, status = excluded.status
                    """,
                arguments: [did.description, host, status.rawValue])
        }
    }

    public func apply(_ commits: [MirroredCommit], host: String, cursor: Int64?) throws -> [SequencedEvent] {
        try write { db in
            var events = [SequencedEvent]()
            // Each repository's root and sync state are written once, from its last commit here.
            var last = [DID: Int]()
            for (i, commit) in commits.enumerated() { last[commit.stored.did] = i }
            let writer = try CommitWriter(db)
            let transient = CommitWriter.transientBlocks(of: commits.map(\.stored))
            for (i, commit) in commits.enumerated() {
                let isLast = last[commit.stored.did] == i
                if let event = try writer.apply(commit.stored, updatingRoot: isLast, skipping: transient[i]) { events.append(event) }
                if isLast { try Self.markActive(commit, host: host, in: db) }
            }
            if let cursor { try db.cachedStatement(sql: "UPDATE relay_host SET cursor = ? WHERE hostname = ?").execute(arguments: [cursor, host]) }
            return events
        }
    }

    public func replace(with repository: MirroredCommit, host: String) throws -> SequencedEvent {
        try write { db in
            // Its root is set again by the commit below, in this transaction.
            try Self.deleteRepo(repository.stored.did.description, in: db)
            guard let event = try Self.apply(repository.stored, in: db) else { throw StorageError(.corrupt, "a replaced repository needs its #sync event") }
            try Self.markActive(repository, host: host, in: db)
            return event
        }
    }

    /// Records that a mirrored repository is at `commit`'s MST root, in sync with `host`.
    private static func markActive(_ commit: MirroredCommit, host: String, in db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO relay_repo (did, host, status, data_cid) VALUES (?, ?, 'active', ?)
            ON CONFLICT (did) DO UPDATE SET host = excluded.host, status = 'active', data_cid = excluded.data_cid
            """).execute(arguments: [commit.stored.did.description, host, Data(commit.data.bytes)])
    }

    private static func host(_ row: Row) throws -> HostRecord {
        guard let status = HostStatus(rawValue: row["status"]) else { throw StorageError(.corrupt, "a host has an unknown status") }
        return HostRecord(hostname: row["hostname"], cursor: row["cursor"], status: status, firstSeen: Date(timeIntervalSince1970: row["first_seen"]))
    }

    private static func mirrored(_ row: Row) throws -> MirroredRepo {
        guard let did = try? DID(row["did"] as String), let status = MirrorStatus(rawValue: row["status"]) else {
            throw StorageError(.corrupt, "a relay_repo row is invalid")
        }
        var repo = MirroredRepo(did: did, host: row["host"], status: status)
        if let commit = row["commit_cid"] as Data?, let rev = row["rev"] as String?, let data = row["data_cid"] as Data? {
            repo.commit = try cid(commit)
            repo.rev = try tid(rev)
            repo.data = try cid(data)
        }
        return repo
    }
}

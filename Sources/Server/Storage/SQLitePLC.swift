import ATData
import ATSyntax
import Foundation
import GRDB

extension SQLiteStore: PLCStore {
    public func operations(of did: DID) async throws -> [Data] {
        try read { db in
            try Data.fetchAll(db, sql: "SELECT operation FROM plc_operation WHERE did = ? ORDER BY seq", arguments: [did.description])
        }
    }

    public func append(did: DID, operation: Data, cid: CID, after last: CID?) async throws {
        try write { db in
            let head = try Row.fetchOne(
                db, sql: "SELECT seq, cid FROM plc_operation WHERE did = ? ORDER BY seq DESC LIMIT 1", arguments: [did.description])
            let headCID: String? = head?["cid"]
            guard headCID == last?.description else {
                throw StorageError(.conflict, "the log of \(did) ends at \(headCID ?? "nothing"), not \(last?.description ?? "nothing")")
            }
            let next = (head?["seq"] as Int? ?? 0) + 1
            try db.execute(
                sql: "INSERT INTO plc_operation (did, seq, cid, operation) VALUES (?, ?, ?, ?)",
                arguments: [did.description, next, cid.description, operation])
        }
    }
}

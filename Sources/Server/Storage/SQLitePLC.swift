import ATData
import ATSyntax
import Foundation
import GRDB

extension SQLiteStore: PLCStore {
    public func operations(of did: DID) throws -> [Data] {
        try read { db in
            try Data.fetchAll(db, sql: "SELECT operation FROM plc_operation WHERE did = ? ORDER BY seq", arguments: [did.description])
        }
    }

    public func append(did: DID, operation: Data, cid: CID) throws {
        try write { db in
            let next = try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) + 1 FROM plc_operation WHERE did = ?", arguments: [did.description]) ?? 1
            try db.execute(
                sql: "INSERT INTO plc_operation (did, seq, cid, operation) VALUES (?, ?, ?, ?)",
                arguments: [did.description, next, cid.description, operation])
        }
    }
}

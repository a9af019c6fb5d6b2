import ATData
import ATSyntax
import Foundation
import PostgresNIO

extension PostgresStore: PLCStore {
    public func operations(of did: DID) async throws -> [Data] {
        try await rows("SELECT operation FROM plc_operation WHERE did = \(did.description) ORDER BY seq").map {
            Data(try $0.decode(ByteBuffer.self).readableBytesView)
        }
    }

    public func append(did: DID, operation: Data, cid: CID, after last: CID?) async throws {
        try await transaction { connection in
            var head: (seq: Int32, cid: String)?
            for try await row in try await connection.query(
                "SELECT seq, cid FROM plc_operation WHERE did = \(did.description) ORDER BY seq DESC LIMIT 1", logger: self.logger
            ).decode((Int32, String).self) {
                head = row
            }
            guard head?.cid == last?.description else {
                throw StorageError(.conflict, "the log of \(did) ends at \(head?.cid ?? "nothing"), not \(last?.description ?? "nothing")")
            }
            // Two writers that read the same head both try this number: the
            // primary key lets one in and gives the other a conflict.
            try await connection.query(
                """
                INSERT INTO plc_operation (did, seq, cid, operation)
                VALUES (\(did.description), \((head?.seq ?? 0) + 1), \(cid.description), \(operation))
                """, logger: self.logger)
        }
    }
}

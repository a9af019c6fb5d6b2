import ATData
import ATSyntax
import Foundation

/// The PLC directory role: an operation log per `did:plc`, checked on the
/// way in, and the DID documents it implies.
public struct PLCDirectory: Sendable {
    let store: any PLCStore

    /// A directory over `store`.
    public init(store: any PLCStore) {
        self.store = store
    }

    /// Accepts `operation` for `did`: a genesis operation must derive `did`
    /// and be signed by one of its own rotation keys; a later one must name
    /// the last operation as `prev` and be signed by one of its rotation keys.
    ///
    /// The operation is appended only if the log still ends where it was
    /// checked; when another one got in first, it is checked again against
    /// the log as it now is (and then refused, since its `prev` is no longer
    /// the last operation).
    public func submit(_ operation: PLCOperation, for did: DID) async throws {
        for _ in 0..<3 {
            let log = try await store.operations(of: did).map { try PLCOperation(json: $0) }
            try check(operation, for: did, after: log.last)
            do {
                return try await store.append(did: did, operation: operation.value.jsonData(), cid: operation.cid, after: log.last?.cid)
            } catch let error as StorageError where error.code == .conflict {
                continue
            }
        }
        throw PLCError("the log of \(did) keeps changing; try again")
    }

    private func check(_ operation: PLCOperation, for did: DID, after last: PLCOperation?) throws {
        if let last {
            guard operation.prev == last.cid.description else {
                throw PLCError("prev must be \(last.cid), the last operation")
            }
            try operation.verifySignature(rotationKeys: last.rotationKeys)
        } else {
            guard operation.prev == nil else { throw PLCError("\(did) has no operations; the first must have prev null") }
            guard operation.did == did else { throw PLCError("the genesis operation derives \(operation.did), not \(did)") }
            try operation.verifySignature(rotationKeys: operation.rotationKeys)
        }
    }

    /// The current operation of `did`, or `nil` when it is unknown.
    public func current(_ did: DID) async throws -> PLCOperation? {
        try await store.operations(of: did).last.map { try PLCOperation(json: $0) }
    }

    /// The operation log of `did`.
    public func log(_ did: DID) async throws -> [PLCOperation] {
        try await store.operations(of: did).map { try PLCOperation(json: $0) }
    }
}

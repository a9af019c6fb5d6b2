import ATData
import ATProtoAPI
import ATSyntax

extension Bluesky.ComAtprotoRepoAPI {
    /// `com.atproto.repo.createRecord` with a generated record type: the
    /// collection is the record's NSID, and the record goes as its type encodes it.
    public func createRecord<Record: LexRecord>(
        repo: ATIdentifier, record: Record, rkey: RecordKey? = nil, validate: Bool? = nil, swapCommit: CID? = nil,
        options: CallOptions = .init()
    ) async throws(BlueskyError) -> Com.Atproto.Repo.CreateRecord.Output {
        try await createRecord(
            repo: repo, collection: try Self.collection(of: Record.self), rkey: rkey, validate: validate, record: record.dataValue,
            swapCommit: swapCommit, options: options)
    }

    /// `com.atproto.repo.putRecord` with a generated record type.
    public func putRecord<Record: LexRecord>(
        repo: ATIdentifier, rkey: RecordKey, record: Record, validate: Bool? = nil, swapRecord: LexNullable<CID>? = nil,
        swapCommit: CID? = nil, options: CallOptions = .init()
    ) async throws(BlueskyError) -> Com.Atproto.Repo.PutRecord.Output {
        try await putRecord(
            repo: repo, collection: try Self.collection(of: Record.self), rkey: rkey, validate: validate, record: record.dataValue,
            swapRecord: swapRecord, swapCommit: swapCommit, options: options)
    }

    /// `com.atproto.repo.getRecord`, decoded as the generated record type.
    public func getRecord<Record: LexRecord>(
        repo: ATIdentifier, rkey: RecordKey, cid: CID? = nil, as type: Record.Type, options: CallOptions = .init()
    ) async throws(BlueskyError) -> (uri: ATURI, cid: CID?, value: Record) {
        let output = try await getRecord(repo: repo, collection: try Self.collection(of: Record.self), rkey: rkey, cid: cid, options: options)
        do {
            return (output.uri, output.cid, try Record(output.value, validating: false))
        } catch {
            throw BlueskyError(kind: .decoding, status: 200, detail: "\(output.uri) is not a \(Record.nsid): \(error)", underlying: error)
        }
    }

    private static func collection<Record: LexRecord>(of type: Record.Type) throws(BlueskyError) -> NSID {
        do { return try NSID(Record.nsid) } catch {
            throw BlueskyError(kind: .badRequest, detail: "\(Record.nsid) is not an NSID: \(error)")
        }
    }
}

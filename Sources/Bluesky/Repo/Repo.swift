import ATData
import ATProtoAPI
import ATSyntax
import Foundation

extension Bluesky {
    /// The `com.atproto.repo.*` endpoints: reading and writing records in a
    /// repository on its PDS. Writes need a bearer.
    public struct Repo: Sendable {
        let client: Bluesky

        /// `com.atproto.repo.putRecord`: writes a record, creating or replacing it.
        ///
        /// - Parameters:
        ///   - validate: `true` requires lexicon validation, `false` skips it,
        ///     `nil` lets the server validate the lexicons it knows.
        ///   - swapRecord: the record's expected current state; ``RecordSwap/absent``
        ///     means it must not exist yet.
        ///   - swapCommit: the repository's expected current commit.
        /// - Throws: ``BlueskyError``; a failed swap is `.xrpc(.invalidSwap)`.
        public func putRecord(
            repo: ATIdentifier, collection: NSID, rkey: RecordKey, record: DataValue, validate: Bool? = nil,
            swapRecord: RecordSwap? = nil, swapCommit: CID? = nil, options: CallOptions = .init()
        ) async throws(BlueskyError) -> RecordWriteOutput {
            let swap: LexNullable<CID>? = swapRecord.map {
                switch $0 {
                case .absent: .null
                case .cid(let cid): .value(cid)
                }
            }
            let output = try await api.putRecord(
                repo: repo, collection: collection, rkey: rkey, validate: validate, record: record, swapRecord: swap, swapCommit: swapCommit,
                options: options)
            return RecordWriteOutput(uri: output.uri, cid: output.cid, commit: output.commit.map(CommitRef.init), validationStatus: output.validationStatus.map(ValidationStatus.init(rawValue:)))
        }

        /// `com.atproto.repo.putRecord` with a `Codable` record, encoded in the
        /// atproto data model (a `CID` becomes a link, `Data` bytes).
        public func putRecord(
            repo: ATIdentifier, collection: NSID, rkey: RecordKey, record: some Encodable & Sendable, validate: Bool? = nil,
            swapRecord: RecordSwap? = nil, swapCommit: CID? = nil, options: CallOptions = .init()
        ) async throws(BlueskyError) -> RecordWriteOutput {
            try await putRecord(
                repo: repo, collection: collection, rkey: rkey, record: try Self.dataValue(record), validate: validate,
                swapRecord: swapRecord, swapCommit: swapCommit, options: options)
        }

        /// `com.atproto.repo.createRecord`: adds a record; the server picks a
        /// TID key when `rkey` is `nil`.
        public func createRecord(
            repo: ATIdentifier, collection: NSID, rkey: RecordKey? = nil, record: DataValue, validate: Bool? = nil,
            swapCommit: CID? = nil, options: CallOptions = .init()
        ) async throws(BlueskyError) -> RecordWriteOutput {
            let output = try await api.createRecord(
                repo: repo, collection: collection, rkey: rkey, validate: validate, record: record, swapCommit: swapCommit, options: options)
            return RecordWriteOutput(uri: output.uri, cid: output.cid, commit: output.commit.map(CommitRef.init), validationStatus: output.validationStatus.map(ValidationStatus.init(rawValue:)))
        }

        /// `com.atproto.repo.createRecord` with a `Codable` record.
        public func createRecord(
            repo: ATIdentifier, collection: NSID, rkey: RecordKey? = nil, record: some Encodable & Sendable,
            validate: Bool? = nil, swapCommit: CID? = nil, options: CallOptions = .init()
        ) async throws(BlueskyError) -> RecordWriteOutput {
            try await createRecord(
                repo: repo, collection: collection, rkey: rkey, record: try Self.dataValue(record), validate: validate,
                swapCommit: swapCommit, options: options)
        }

        /// `com.atproto.repo.deleteRecord`.
        public func deleteRecord(
            repo: ATIdentifier, collection: NSID, rkey: RecordKey, swapRecord: CID? = nil, swapCommit: CID? = nil,
            options: CallOptions = .init()
        ) async throws(BlueskyError) -> RecordDeleteOutput {
            let input = Com.Atproto.Repo.DeleteRecord.Input(repo: repo, collection: collection, rkey: rkey, swapRecord: swapRecord, swapCommit: swapCommit)
            // Older servers answer with an empty body.
            let body = try await client.lexBytes(
                Com.Atproto.Repo.DeleteRecord.nsid, .procedure, parameters: [], body: input.json(), contentType: "application/json",
                accept: "application/json", options: options)
            if body.isEmpty { return RecordDeleteOutput(commit: nil) }
            let output = try Self.decode(Com.Atproto.Repo.DeleteRecord.Output.self, body, Com.Atproto.Repo.DeleteRecord.nsid)
            return RecordDeleteOutput(commit: output.commit.map(CommitRef.init))
        }

        /// `com.atproto.repo.getRecord`: one record, optionally at a given CID.
        public func getRecord(
            repo: ATIdentifier, collection: NSID, rkey: RecordKey, cid: CID? = nil, options: CallOptions = .init()
        ) async throws(BlueskyError) -> RecordEntry {
            let output = try await api.getRecord(repo: repo, collection: collection, rkey: rkey, cid: cid, options: options)
            return RecordEntry(uri: output.uri, cid: output.cid, value: output.value)
        }

        /// `com.atproto.repo.listRecords`, one page.
        public func listRecords(
            repo: ATIdentifier, collection: NSID, limit: Int? = nil, reverse: Bool? = nil, cursor: String?,
            options: CallOptions = .init()
        ) async throws(BlueskyError) -> RecordPage {
            let output = try await api.listRecords(
                repo: repo, collection: collection, limit: limit, cursor: cursor, reverse: reverse, options: options)
            return RecordPage(records: output.records.map { RecordEntry(uri: $0.uri, cid: $0.cid, value: $0.value) }, cursor: output.cursor)
        }

        /// `com.atproto.repo.listRecords`, every page in turn.
        public func listRecords(
            repo: ATIdentifier, collection: NSID, limit: Int? = nil, reverse: Bool? = nil, options: CallOptions = .init()
        ) -> Pages<RecordPage> {
            Pages { cursor throws(BlueskyError) in
                let page = try await listRecords(
                    repo: repo, collection: collection, limit: limit, reverse: reverse, cursor: cursor, options: options)
                return (page, page.cursor)
            }
        }

        /// `com.atproto.repo.applyWrites`: several writes in one commit.
        public func applyWrites(
            repo: ATIdentifier, writes: [RepoWrite], validate: Bool? = nil, swapCommit: CID? = nil, options: CallOptions = .init()
        ) async throws(BlueskyError) -> ApplyWritesOutput {
            typealias API = Com.Atproto.Repo.ApplyWrites
            let input = API.Input(repo: repo, validate: validate, writes: writes.map(\.generated), swapCommit: swapCommit)
            let body = try await client.lexBytes(
                API.nsid, .procedure, parameters: [], body: input.json(), contentType: "application/json", accept: "application/json",
                options: options)
            if body.isEmpty { return ApplyWritesOutput(commit: nil, results: []) }
            let output = try Self.decode(API.Output.self, body, API.nsid)
            var results = [ApplyWritesOutput.Result]()
            for item in output.results ?? [] {
                switch item {
                case .createResult(let r): results.append(.create(uri: r.uri, cid: r.cid, validationStatus: r.validationStatus.map(ValidationStatus.init(rawValue:))))
                case .updateResult(let r): results.append(.update(uri: r.uri, cid: r.cid, validationStatus: r.validationStatus.map(ValidationStatus.init(rawValue:))))
                case .deleteResult, .unknown: results.append(.delete)
                }
            }
            return ApplyWritesOutput(commit: output.commit.map(CommitRef.init), results: results)
        }

        /// `com.atproto.repo.describeRepo`.
        public func describeRepo(repo: ATIdentifier, options: CallOptions = .init()) async throws(BlueskyError) -> RepoDescription {
            let output = try await api.describeRepo(repo: repo, options: options)
            return RepoDescription(
                handle: output.handle.description, did: output.did, didDoc: output.didDoc, collections: output.collections.map(\.description),
                handleIsCorrect: output.handleIsCorrect)
        }

        /// `com.atproto.repo.uploadBlob`: stores `data` and returns the
        /// reference to put in a record.
        public func uploadBlob(_ data: [UInt8], mimeType: String, options: CallOptions = .init()) async throws(BlueskyError) -> BlobRef {
            let blob = try await api.uploadBlob(body: data, contentType: mimeType, options: options).blob
            return BlobRef(ref: blob.ref, mimeType: blob.mimeType, size: blob.size ?? 0)
        }

        /// The generated `com.atproto.repo` methods these wrap.
        private var api: Bluesky.ComAtprotoRepoAPI { client.com.atproto.repo }
    }
}

extension Bluesky.Repo {
    static func dataValue(_ record: some Encodable) throws(BlueskyError) -> DataValue {
        do {
            return try DAGCBOREncoder().encodeToValue(record)
        } catch {
            throw BlueskyError(kind: .badRequest, detail: "the record does not encode in the data model: \(error)")
        }
    }

    static func parse(_ body: [UInt8], _ nsid: String) throws(BlueskyError) -> DataValue {
        do {
            return try DataValue(json: Data(body))
        } catch {
            throw BlueskyError(kind: .decoding, status: 200, rawBody: body, detail: "\(nsid): \(error.message)")
        }
    }

    static func decode<T: LexValue>(_ type: T.Type, _ body: [UInt8], _ nsid: String) throws(BlueskyError) -> T {
        do {
            return try T(json: body, validating: false)
        } catch {
            throw BlueskyError(kind: .decoding, status: 200, rawBody: body, detail: "\(nsid): \(error)", underlying: error)
        }
    }
}

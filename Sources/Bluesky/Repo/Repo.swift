import ATData
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
            var input = DataMap([
                "repo": .string(repo.description), "collection": .string(collection.description),
                "rkey": .string(rkey.description), "record": record,
            ])
            if let validate { input["validate"] = .bool(validate) }
            if let swapRecord { input["swapRecord"] = swapRecord.json }
            if let swapCommit { input["swapCommit"] = .string(swapCommit.description) }
            return try await client.json(.procedure("com.atproto.repo.putRecord", json: .map(input)), options: options)
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
            var input = DataMap(["repo": .string(repo.description), "collection": .string(collection.description), "record": record])
            if let rkey { input["rkey"] = .string(rkey.description) }
            if let validate { input["validate"] = .bool(validate) }
            if let swapCommit { input["swapCommit"] = .string(swapCommit.description) }
            return try await client.json(.procedure("com.atproto.repo.createRecord", json: .map(input)), options: options)
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
            var input = DataMap([
                "repo": .string(repo.description), "collection": .string(collection.description), "rkey": .string(rkey.description),
            ])
            if let swapRecord { input["swapRecord"] = .string(swapRecord.description) }
            if let swapCommit { input["swapCommit"] = .string(swapCommit.description) }
            let (_, body) = try await client.data(.procedure("com.atproto.repo.deleteRecord", json: .map(input)), options: options)
            if body.isEmpty { return RecordDeleteOutput(commit: nil) }
            return try Self.decode(RecordDeleteOutput.self, body, "com.atproto.repo.deleteRecord")
        }

        /// `com.atproto.repo.getRecord`: one record, optionally at a given CID.
        public func getRecord(
            repo: ATIdentifier, collection: NSID, rkey: RecordKey, cid: CID? = nil, options: CallOptions = .init()
        ) async throws(BlueskyError) -> RecordEntry {
            let output = try await client.dataValue(
                .query("com.atproto.repo.getRecord", [
                    ("repo", repo.description), ("collection", collection.description), ("rkey", rkey.description),
                    ("cid", cid?.description),
                ]), options: options)
            return try Self.record(output, "com.atproto.repo.getRecord")
        }

        /// `com.atproto.repo.listRecords`, one page.
        public func listRecords(
            repo: ATIdentifier, collection: NSID, limit: Int? = nil, reverse: Bool? = nil, cursor: String?,
            options: CallOptions = .init()
        ) async throws(BlueskyError) -> RecordPage {
            let output = try await client.dataValue(
                .query("com.atproto.repo.listRecords", [
                    ("repo", repo.description), ("collection", collection.description), ("limit", limit.map(String.init)),
                    ("reverse", reverse.map(String.init)), ("cursor", cursor),
                ]), options: options)
            guard let list = output["records"]?.arrayValue else {
                throw BlueskyError(kind: .decoding, status: 200, detail: "com.atproto.repo.listRecords: no records array")
            }
            var records = [RecordEntry]()
            for item in list { records.append(try Self.record(item, "com.atproto.repo.listRecords")) }
            return RecordPage(records: records, cursor: output["cursor"]?.stringValue)
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
            var input = DataMap(["repo": .string(repo.description), "writes": .array(writes.map(\.json))])
            if let validate { input["validate"] = .bool(validate) }
            if let swapCommit { input["swapCommit"] = .string(swapCommit.description) }
            let nsid = "com.atproto.repo.applyWrites"
            let (_, body) = try await client.data(.procedure(nsid, json: .map(input)), options: options)
            if body.isEmpty { return ApplyWritesOutput(commit: nil, results: []) }
            let output = try Self.parse(body, nsid)
            var results = [ApplyWritesOutput.Result]()
            for item in output["results"]?.arrayValue ?? [] {
                let type = item["$type"]?.stringValue ?? ""
                if type.hasSuffix("#deleteResult") {
                    results.append(.delete)
                    continue
                }
                let uri = try Self.field(item, "uri", nsid) { try? ATURI($0) }
                let cid = try Self.field(item, "cid", nsid) { try? CID($0) }
                let status = item["validationStatus"]?.stringValue.map(ValidationStatus.init(rawValue:))
                results.append(type.hasSuffix("#updateResult") ? .update(uri: uri, cid: cid, validationStatus: status) : .create(uri: uri, cid: cid, validationStatus: status))
            }
            return ApplyWritesOutput(commit: try Self.commit(output, nsid), results: results)
        }

        /// `com.atproto.repo.describeRepo`.
        public func describeRepo(repo: ATIdentifier, options: CallOptions = .init()) async throws(BlueskyError) -> RepoDescription {
            let nsid = "com.atproto.repo.describeRepo"
            let output = try await client.dataValue(.query(nsid, [("repo", repo.description)]), options: options)
            return RepoDescription(
                handle: try Self.field(output, "handle", nsid) { $0 },
                did: try Self.field(output, "did", nsid) { try? DID($0) },
                didDoc: output["didDoc"] ?? .null,
                collections: (output["collections"]?.arrayValue ?? []).compactMap(\.stringValue),
                handleIsCorrect: output["handleIsCorrect"]?.boolValue ?? false)
        }

        /// `com.atproto.repo.uploadBlob`: stores `data` and returns the
        /// reference to put in a record.
        public func uploadBlob(_ data: [UInt8], mimeType: String, options: CallOptions = .init()) async throws(BlueskyError) -> BlobRef {
            let nsid = "com.atproto.repo.uploadBlob"
            var call = XRPCCall(nsid: nsid, kind: .procedure, body: data, contentType: mimeType)
            call.accept = "application/json"
            let output = try await client.dataValue(call, options: options)
            guard let blob = output["blob"], let ref = blob["ref"]?.linkValue, let mime = blob["mimeType"]?.stringValue,
                let size = blob["size"]?.intValue
            else {
                throw BlueskyError(kind: .decoding, status: 200, detail: "\(nsid): no blob reference in the output")
            }
            return BlobRef(ref: ref, mimeType: mime, size: Int(size))
        }
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

    static func record(_ value: DataValue, _ nsid: String) throws(BlueskyError) -> RecordEntry {
        RecordEntry(
            uri: try field(value, "uri", nsid) { try? ATURI($0) },
            cid: value["cid"]?.stringValue.flatMap { try? CID($0) },
            value: try field(value, "value", nsid, { $0 }, as: \.self))
    }

    static func commit(_ value: DataValue, _ nsid: String) throws(BlueskyError) -> CommitRef? {
        guard let commit = value["commit"], commit != .null else { return nil }
        return CommitRef(cid: try field(commit, "cid", nsid) { try? CID($0) }, rev: try field(commit, "rev", nsid) { try? TID($0) })
    }

    static func field<T>(_ value: DataValue, _ name: String, _ nsid: String, _ parse: (String) -> T?) throws(BlueskyError) -> T {
        try field(value, name, nsid, parse, as: \.stringValue)
    }

    static func field<T, Raw>(
        _ value: DataValue, _ name: String, _ nsid: String, _ parse: (Raw) -> T?, as raw: (DataValue) -> Raw?
    ) throws(BlueskyError) -> T {
        guard let field = value[name], let text = raw(field), let parsed = parse(text) else {
            throw BlueskyError(kind: .decoding, status: 200, detail: "\(nsid): the output's '\(name)' is missing or invalid")
        }
        return parsed
    }

    static func parse(_ body: [UInt8], _ nsid: String) throws(BlueskyError) -> DataValue {
        do {
            return try DataValue(json: Data(body))
        } catch {
            throw BlueskyError(kind: .decoding, status: 200, rawBody: body, detail: "\(nsid): \(error.message)")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ body: [UInt8], _ nsid: String) throws(BlueskyError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch {
            throw BlueskyError(kind: .decoding, status: 200, rawBody: body, detail: "\(nsid): \(error)")
        }
    }
}

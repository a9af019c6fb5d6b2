import ATData
import ATLexicon
import ATProtoAPI
import ATRepo
import ATSyntax
import Foundation
import Hummingbird

private typealias Repo = Com.Atproto.Repo

extension PDS {
    /// `com.atproto.repo.*`.
    func registerRepoMethods(_ methods: inout XRPCMethods) {
        let writes = config.writeLimit.map { ("writes", $0) }
        methods.procedure(Repo.PutRecord.nsid, limit: writes) { [self] call in
            // The token first: no body is read for a caller who may not write.
            let caller = try await authenticate(call)
            let input = try await call.input(Repo.PutRecord.Input.self, limit: config.maxJSONBody)
            let did = try await authorize(caller, toWrite: input.repo)
            let status = try check(input.record, collection: input.collection, did: did, validate: input.validate)
            let swap: WriteOp.Swap? = switch input.swapRecord {
            case nil: nil
            case .null?: .absent
            case .value(let cid)?: .cid(cid)
            }
            let op = WriteOp(action: .put, collection: input.collection, rkey: input.rkey, record: input.record, swap: swap)
            let outcome = try await write(did, [op], swapCommit: input.swapCommit)
            return .lex(Repo.PutRecord.Output(
                uri: recordURI(did, op), cid: outcome.results[0].cid!, commit: commitMeta(outcome), validationStatus: status))
        }
        methods.procedure(Repo.CreateRecord.nsid, limit: writes) { [self] call in
            let caller = try await authenticate(call)
            let input = try await call.input(Repo.CreateRecord.Input.self, limit: config.maxJSONBody)
            let did = try await authorize(caller, toWrite: input.repo)
            let rkey = input.rkey ?? RecordKey(recordKeyClock.next())
            let status = try check(input.record, collection: input.collection, did: did, validate: input.validate)
            let op = WriteOp(action: .create, collection: input.collection, rkey: rkey, record: input.record, swap: nil)
            let outcome = try await write(did, [op], swapCommit: input.swapCommit)
            return .lex(Repo.CreateRecord.Output(
                uri: recordURI(did, op), cid: outcome.results[0].cid!, commit: commitMeta(outcome), validationStatus: status))
        }
        methods.procedure(Repo.DeleteRecord.nsid, limit: writes) { [self] call in
            let caller = try await authenticate(call)
            let input = try await call.input(Repo.DeleteRecord.Input.self, limit: config.maxJSONBody)
            let did = try await authorize(caller, toWrite: input.repo)
            let op = WriteOp(action: .delete, collection: input.collection, rkey: input.rkey, record: nil, swap: input.swapRecord.map { .cid($0) })
            let outcome = try await write(did, [op], swapCommit: input.swapCommit)
            return .lex(Repo.DeleteRecord.Output(commit: commitMeta(outcome)))
        }
        methods.procedure(Repo.ApplyWrites.nsid, limit: writes) { [self] call in
            let caller = try await authenticate(call)
            let input = try await call.input(Repo.ApplyWrites.Input.self, limit: config.maxJSONBody)
            let did = try await authorize(caller, toWrite: input.repo)
            guard !input.writes.isEmpty, input.writes.count <= 200 else { throw XRPCError.invalidRequest("writes must have 1 to 200 items") }
            var ops = [WriteOp](), statuses = [String?]()
            for write in input.writes {
                switch write {
                case .create(let create):
                    statuses.append(try check(create.value, collection: create.collection, did: did, validate: input.validate))
                    let rkey = create.rkey ?? RecordKey(recordKeyClock.next())
                    ops.append(WriteOp(action: .create, collection: create.collection, rkey: rkey, record: create.value, swap: nil))
                case .update(let update):
                    statuses.append(try check(update.value, collection: update.collection, did: did, validate: input.validate))
                    ops.append(WriteOp(action: .update, collection: update.collection, rkey: update.rkey, record: update.value, swap: nil))
                case .delete(let delete):
                    statuses.append(nil)
                    ops.append(WriteOp(action: .delete, collection: delete.collection, rkey: delete.rkey, record: nil, swap: nil))
                case .unknown(let value):
                    throw XRPCError.invalidRequest("unknown write type \(value["$type"]?.stringValue ?? "")")
                }
            }
            let outcome = try await write(did, ops, swapCommit: input.swapCommit)
            var results = [Repo.ApplyWrites.Output.ResultsItem]()
            for (index, result) in outcome.results.enumerated() {
                switch result.op.action {
                case .delete:
                    results.append(.deleteResult(.init()))
                case .create:
                    results.append(.createResult(.init(uri: recordURI(did, result.op), cid: result.cid!, validationStatus: statuses[index])))
                case .update, .put:
                    results.append(.updateResult(.init(uri: recordURI(did, result.op), cid: result.cid!, validationStatus: statuses[index])))
                }
            }
            return .lex(Repo.ApplyWrites.Output(commit: commitMeta(outcome), results: results))
        }
        methods.query(Repo.GetRecord.nsid) { [self] call in
            let params = try call.parameters(Repo.GetRecord.Parameters.self)
            let did = try await resolveRepo(params.repo)
            let uri = ATURI(authority: .did(did), collection: params.collection, recordKey: params.rkey)
            guard let cid = try repos.record(of: did, collection: params.collection.description, rkey: params.rkey.description),
                params.cid == nil || params.cid == cid, try await !isTakenDown(did: did, subject: uri.description),
                let bytes = try repos.blocks(of: did).get(cid)
            else { throw XRPCError.named("RecordNotFound", "Could not locate record: \(uri)") }
            return .lex(Repo.GetRecord.Output(uri: uri, cid: cid, value: try DAGCBOR.decode(bytes)))
        }
        methods.query(Repo.ListRecords.nsid) { [self] call in
            let params = try call.parameters(Repo.ListRecords.Parameters.self)
            let did = try await resolveRepo(params.repo)
            let limit = params.limit ?? 50
            let rows = try repos.records(
                of: did, collection: params.collection.description, limit: limit, cursor: params.cursor, reverse: params.reverse ?? false)
            let blocks = repos.blocks(of: did)
            var records = [Repo.ListRecords.Record]()
            for row in rows {
                guard let bytes = try blocks.get(row.cid), let rkey = try? RecordKey(row.rkey) else { continue }
                records.append(.init(
                    uri: ATURI(authority: .did(did), collection: params.collection, recordKey: rkey), cid: row.cid, value: try DAGCBOR.decode(bytes)))
            }
            return .lex(Repo.ListRecords.Output(cursor: rows.count == limit ? rows.last?.rkey : nil, records: records))
        }
        methods.query(Repo.DescribeRepo.nsid) { [self] call in
            let params = try call.parameters(Repo.DescribeRepo.Parameters.self)
            let did = try await resolveRepo(params.repo)
            guard let account = try await account(did) else { throw XRPCError.named("RepoNotFound", "Could not find repo: \(did)") }
            let document = try await plc.current(did)?.document(for: did) ?? .map(DataMap())
            let collections = try repos.collections(of: did).compactMap { try? NSID($0) }
            return .lex(Repo.DescribeRepo.Output(
                handle: account.handle, did: did, didDoc: document, collections: collections, handleIsCorrect: true))
        }
        methods.procedure(Repo.UploadBlob.nsid, limit: writes) { [self] call in
            let did = try await authenticate(call)
            // A deactivated account may upload: one moving here brings its blobs before it is activated.
            if try await account(did)?.takedownRef != nil { throw XRPCError.named("AccountTakedown", "Account has been taken down") }
            let declaredType = call.request.headers[.contentType]
            let upload = try await uploadBlob(did: did, mimeType: declaredType, declared: call.request.headers[.contentLength].flatMap(Int.init), body: call.request.body)
            // A blob imported records already reference is theirs at once.
            if try repos.referencesBlob(upload.cid, of: did) { _ = try blobs.claim(did: did, cid: upload.cid) }
            return .lex(Repo.UploadBlob.Output(blob: LexBlob(ref: upload.cid, mimeType: upload.mimeType, size: upload.size)))
        }
    }

    /// Checks a record before it is written: an object whose `$type` (when
    /// present) is the collection, whose blobs were uploaded, and which passes
    /// lexicon validation as `validate` asks: with its generated type when the
    /// collection has one, else with the runtime validator. Returns the
    /// `validationStatus`.
    func check(_ record: DataValue, collection: NSID, did: DID, validate: Bool?) throws -> String {
        guard case .map(let map) = record else { throw XRPCError.invalidRequest("Invalid record: must be an object") }
        if let type = map["$type"], type.stringValue != collection.description {
            throw XRPCError.invalidRequest("Invalid $type: expected \(collection), got \(type.stringValue ?? type.kindName)")
        }
        let references = record.blobRefs
        for reference in references {
            guard let stored = try blobs.metadata(did: did, cid: reference.cid) else {
                throw XRPCError.named("BlobNotFound", "Could not find blob: \(reference.cid)")
            }
            if let mimeType = reference.mimeType, mimeType != stored.mimeType {
                throw XRPCError.invalidRequest("Referenced MIME type '\(mimeType)' does not match the stored blob \(reference.cid): '\(stored.mimeType)'")
            }
            if let size = reference.size, size != stored.size {
                throw XRPCError.invalidRequest("Referenced size \(size) does not match the stored blob \(reference.cid): \(stored.size) bytes")
            }
        }
        let status = try validationStatus(record, collection: collection, validate: validate)
        // Claimed only once the record passed, so a refused record leaves its blobs to expire.
        for reference in references where !(try blobs.claim(did: did, cid: reference.cid)) {
            throw XRPCError.named("BlobNotFound", "Could not find blob: \(reference.cid)")
        }
        return status
    }

    private func validationStatus(_ record: DataValue, collection: NSID, validate: Bool?) throws -> String {
        if validate == false { return "unknown" }
        if let type = LexiconIndex.records[collection.description] {
            do {
                try Self.validate(record, as: type)
                return "valid"
            } catch {
                throw XRPCError.invalidRequest("Invalid \(collection) record: \(error)")
            }
        }
        do {
            try lexicons.validate(record: record, collection: collection)
            return "valid"
        } catch where error.code == .unknownSchema && validate == nil {
            return "unknown"
        } catch {
            throw XRPCError.invalidRequest("Invalid \(collection) record: \(error)")
        }
    }

    private static func validate<R: LexRecord>(_ record: DataValue, as type: R.Type) throws(LexError) {
        _ = try R(record, validating: true)
    }

    func recordURI(_ did: DID, _ op: WriteOp) -> ATURI {
        ATURI(authority: .did(did), collection: op.collection, recordKey: op.rkey)
    }

    func commitMeta(_ outcome: WriteOutcome) -> Com.Atproto.Repo.Defs.CommitMeta {
        Repo.Defs.CommitMeta(cid: outcome.commit, rev: outcome.rev)
    }
}

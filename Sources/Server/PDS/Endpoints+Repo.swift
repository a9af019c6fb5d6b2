import ATData
import ATLexicon
import ATRepo
import ATSyntax
import Foundation
import Hummingbird

extension PDS {
    /// `com.atproto.repo.*`.
    func registerRepoMethods(_ methods: inout XRPCMethods) {
        let writes = config.writeLimit.map { ("writes", $0) }
        methods.procedure("com.atproto.repo.putRecord", limit: writes) { [self] call in
            // The token first: no body is read for a caller who may not write.
            let caller = try await authenticate(call)
            let input = try await call.input(limit: config.maxJSONBody)
            let did = try authorize(caller, toWrite: try input.field("repo") { try ATIdentifier($0) })
            let collection: NSID = try input.field("collection") { try NSID($0) }
            let rkey: RecordKey = try input.field("rkey") { try RecordKey($0) }
            let record = try input["record"] ?? { throw XRPCError.invalidRequest("Input must have the property \"record\"") }()
            let status = try check(record, collection: collection, did: did, validate: input["validate"]?.boolValue)
            var swap: WriteOp.Swap?
            if let value = input["swapRecord"] {
                swap = value == .null ? .absent : .cid(try input.field("swapRecord") { try CID($0) })
            }
            let swapCommit: CID? = try input.optionalField("swapCommit") { try CID($0) }
            let op = WriteOp(action: .put, collection: collection, rkey: rkey, record: record, swap: swap)
            let outcome = try await writer(for: did).apply([op], swapCommit: swapCommit)
            return .json(writeOutput(did: did, op: op, cid: outcome.results[0].cid!, outcome: outcome, status: status))
        }
        methods.procedure("com.atproto.repo.createRecord", limit: writes) { [self] call in
            // The token first: no body is read for a caller who may not write.
            let caller = try await authenticate(call)
            let input = try await call.input(limit: config.maxJSONBody)
            let did = try authorize(caller, toWrite: try input.field("repo") { try ATIdentifier($0) })
            let collection: NSID = try input.field("collection") { try NSID($0) }
            let rkey = try input.optionalField("rkey") { try RecordKey($0) } ?? RecordKey(recordKeyClock.next().description)
            let record = try input["record"] ?? { throw XRPCError.invalidRequest("Input must have the property \"record\"") }()
            let status = try check(record, collection: collection, did: did, validate: input["validate"]?.boolValue)
            let swapCommit: CID? = try input.optionalField("swapCommit") { try CID($0) }
            let op = WriteOp(action: .create, collection: collection, rkey: rkey, record: record, swap: nil)
            let outcome = try await writer(for: did).apply([op], swapCommit: swapCommit)
            return .json(writeOutput(did: did, op: op, cid: outcome.results[0].cid!, outcome: outcome, status: status))
        }
        methods.procedure("com.atproto.repo.deleteRecord", limit: writes) { [self] call in
            // The token first: no body is read for a caller who may not write.
            let caller = try await authenticate(call)
            let input = try await call.input(limit: config.maxJSONBody)
            let did = try authorize(caller, toWrite: try input.field("repo") { try ATIdentifier($0) })
            let collection: NSID = try input.field("collection") { try NSID($0) }
            let rkey: RecordKey = try input.field("rkey") { try RecordKey($0) }
            let swap = try input.optionalField("swapRecord") { WriteOp.Swap.cid(try CID($0)) }
            let swapCommit: CID? = try input.optionalField("swapCommit") { try CID($0) }
            let op = WriteOp(action: .delete, collection: collection, rkey: rkey, record: nil, swap: swap)
            let outcome = try await writer(for: did).apply([op], swapCommit: swapCommit)
            return .json(["commit": ["cid": .string(outcome.commit.description), "rev": .string(outcome.rev.description)]])
        }
        methods.procedure("com.atproto.repo.applyWrites", limit: writes) { [self] call in
            // The token first: no body is read for a caller who may not write.
            let caller = try await authenticate(call)
            let input = try await call.input(limit: config.maxJSONBody)
            let did = try authorize(caller, toWrite: try input.field("repo") { try ATIdentifier($0) })
            guard let list = input["writes"]?.arrayValue, !list.isEmpty, list.count <= 200 else {
                throw XRPCError.invalidRequest("writes must have 1 to 200 items")
            }
            let validate = input["validate"]?.boolValue
            var ops = [WriteOp](), statuses = [String?]()
            for item in list {
                let type = item["$type"]?.stringValue ?? ""
                let collection: NSID = try item.field("collection") { try NSID($0) }
                switch type {
                case "com.atproto.repo.applyWrites#create", "com.atproto.repo.applyWrites#update":
                    let value = try item["value"] ?? { throw XRPCError.invalidRequest("a write needs a value") }()
                    statuses.append(try check(value, collection: collection, did: did, validate: validate))
                    let isCreate = type.hasSuffix("#create")
                    let rkey: RecordKey = try isCreate
                        ? (item.optionalField("rkey") { try RecordKey($0) } ?? RecordKey(recordKeyClock.next().description))
                        : item.field("rkey") { try RecordKey($0) }
                    ops.append(WriteOp(action: isCreate ? .create : .update, collection: collection, rkey: rkey, record: value, swap: nil))
                case "com.atproto.repo.applyWrites#delete":
                    statuses.append(nil)
                    ops.append(WriteOp(action: .delete, collection: collection, rkey: try item.field("rkey") { try RecordKey($0) }, record: nil, swap: nil))
                default:
                    throw XRPCError.invalidRequest("unknown write type \(type)")
                }
            }
            let swapCommit: CID? = try input.optionalField("swapCommit") { try CID($0) }
            let outcome = try await writer(for: did).apply(ops, swapCommit: swapCommit)
            var results = [DataValue]()
            for (index, result) in outcome.results.enumerated() {
                let uri = DataValue.string("at://\(did)/\(result.op.collection)/\(result.op.rkey)")
                switch result.op.action {
                case .delete:
                    results.append(["$type": "com.atproto.repo.applyWrites#deleteResult"])
                case .create, .update, .put:
                    var entry = DataMap([
                        "$type": .string(result.op.action == .create ? "com.atproto.repo.applyWrites#createResult" : "com.atproto.repo.applyWrites#updateResult"),
                        "uri": uri, "cid": .string(result.cid!.description),
                    ])
                    if let status = statuses[index] { entry["validationStatus"] = .string(status) }
                    results.append(.map(entry))
                }
            }
            return .json([
                "commit": ["cid": .string(outcome.commit.description), "rev": .string(outcome.rev.description)], "results": .array(results),
            ])
        }
        methods.query("com.atproto.repo.getRecord") { [self] call in
            let did = try resolveRepo(try call.require("repo") { try ATIdentifier($0) })
            let collection = try call.require("collection") { try NSID($0) }
            let rkey = try call.require("rkey") { try RecordKey($0) }
            let wanted = try call.optional("cid") { try CID($0) }
            let uri = "at://\(did)/\(collection)/\(rkey)"
            guard let cid = try repos.record(of: did, collection: collection.description, rkey: rkey.description), wanted == nil || wanted == cid,
                let bytes = try repos.blocks(of: did).get(cid)
            else { throw XRPCError.named("RecordNotFound", "Could not locate record: \(uri)") }
            return .json(["uri": .string(uri), "cid": .string(cid.description), "value": try DAGCBOR.decode(bytes)])
        }
        methods.query("com.atproto.repo.listRecords") { [self] call in
            let did = try resolveRepo(try call.require("repo") { try ATIdentifier($0) })
            let collection = try call.require("collection") { try NSID($0) }
            let limit = try call.limit(default: 50, range: 1...100)
            let reverse = call.parameter("reverse") == "true"
            let rows = try repos.records(of: did, collection: collection.description, limit: limit, cursor: call.parameter("cursor"), reverse: reverse)
            let blocks = repos.blocks(of: did)
            var records = [DataValue]()
            for row in rows {
                guard let bytes = try blocks.get(row.cid) else { continue }
                records.append([
                    "uri": .string("at://\(did)/\(collection)/\(row.rkey)"), "cid": .string(row.cid.description), "value": try DAGCBOR.decode(bytes),
                ])
            }
            var out = DataMap(["records": .array(records)])
            if rows.count == limit, let last = rows.last { out["cursor"] = .string(last.rkey) }
            return .json(.map(out))
        }
        methods.query("com.atproto.repo.describeRepo") { [self] call in
            let did = try resolveRepo(try call.require("repo") { try ATIdentifier($0) })
            guard let account = try account(did) else { throw XRPCError.named("RepoNotFound", "Could not find repo: \(did)") }
            let document = try plc.current(did)?.document(for: did) ?? .null
            return .json([
                "handle": .string(account.handle.description), "did": .string(did.description), "didDoc": document,
                "collections": .array(try repos.collections(of: did).map(DataValue.string)), "handleIsCorrect": true,
            ])
        }
        methods.procedure("com.atproto.repo.uploadBlob", limit: writes) { [self] call in
            let did = try await authenticate(call)
            let mime = call.request.headers[.contentType] ?? "application/octet-stream"
            let upload = try await uploadBlob(did: did, mimeType: mime, declared: call.request.headers[.contentLength].flatMap(Int.init), body: call.request.body)
            return .json([
                "blob": ["$type": "blob", "ref": .link(upload.cid), "mimeType": .string(mime), "size": .int(Int64(upload.size))]
            ])
        }
    }

    /// Checks a record before it is written: an object whose `$type` (when
    /// present) is the collection, whose blobs were uploaded, and which passes
    /// lexicon validation as `validate` asks. Returns the `validationStatus`.
    func check(_ record: DataValue, collection: NSID, did: DID, validate: Bool?) throws -> String {
        guard case .map(let map) = record else { throw XRPCError.invalidRequest("Invalid record: must be an object") }
        if let type = map["$type"], type.stringValue != collection.description {
            throw XRPCError.invalidRequest("Invalid $type: expected \(collection), got \(type.stringValue ?? type.kindName)")
        }
        for blob in record.blobReferences where !(try blobs.claim(did: did, cid: blob)) {
            throw XRPCError.named("BlobNotFound", "Could not find blob: \(blob)")
        }
        if validate == false { return "unknown" }
        do {
            try lexicons.validate(record: record, collection: collection)
            return "valid"
        } catch where error.code == .unknownSchema && validate == nil {
            return "unknown"
        } catch {
            throw XRPCError.invalidRequest("Invalid \(collection) record: \(error)")
        }
    }

    func writeOutput(did: DID, op: WriteOp, cid: CID, outcome: WriteOutcome, status: String) -> DataValue {
        [
            "uri": .string("at://\(did)/\(op.collection)/\(op.rkey)"), "cid": .string(cid.description),
            "commit": ["cid": .string(outcome.commit.description), "rev": .string(outcome.rev.description)],
            "validationStatus": .string(status),
        ]
    }
}

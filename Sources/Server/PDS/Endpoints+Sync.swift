import ATData
import ATRepo
import ATSyntax
import Foundation
import HTTPTypes
import Hummingbird

extension PDS {
    /// `com.atproto.sync.*`.
    func registerSyncMethods(_ methods: inout XRPCMethods) {
        methods.query("com.atproto.sync.getRepo", limit: config.getRepoLimit.map { ("getRepo", $0) }) { [self] call in
            let did = try call.require("did") { try DID($0) }
            let since = try call.optional("since") { try TID($0) }
            guard try account(did) != nil, let snapshot = try repos.snapshot(of: did) else {
                throw XRPCError.named("RepoNotFound", "Could not find repo for DID: \(did)")
            }
            return try .repoExport(snapshot, since: since, gate: exports, address: call.context.remoteAddress?.ipAddress ?? "unknown")
        }
        methods.query("com.atproto.sync.listBlobs") { [self] call in
            let did = try requireRepo(call)
            let since = try call.optional("since") { try TID($0) }
            let limit = try call.limit(default: 500, range: 1...1000)
            let cids = try repos.blobs(of: did, since: since, cursor: call.parameter("cursor"), limit: limit)
            var out = DataMap(["cids": .array(cids.map(DataValue.string))])
            if cids.count == limit, let last = cids.last { out["cursor"] = .string(last) }
            return .json(.map(out))
        }
        methods.query("com.atproto.sync.getBlob") { [self] call in
            let did = try requireRepo(call)
            let cid = try call.require("cid") { try CID($0) }
            guard let blob = try blobs.metadata(did: did, cid: cid) else { throw XRPCError.named("BlobNotFound", "Blob not found: \(cid)") }
            let store = blobs
            return Response(
                status: .ok,
                headers: [
                    .contentType: blob.mimeType, .contentLength: String(blob.size),
                    HTTPField.Name("X-Content-Type-Options")!: "nosniff",
                    HTTPField.Name("Content-Security-Policy")!: "default-src 'none'; sandbox",
                ],
                body: ResponseBody(contentLength: blob.size) { writer in
                    try await store.read(did: did, cid: cid, chunkSize: 64 << 10) { try await writer.write(ByteBuffer(bytes: $0)) }
                    try await writer.finish(nil)
                })
        }
        methods.query("com.atproto.sync.getLatestCommit") { [self] call in
            let did = try requireRepo(call)
            guard let root = try repos.root(of: did) else { throw XRPCError.named("RepoNotFound", "Could not find root for DID: \(did)") }
            return .json(["cid": .string(root.commit.description), "rev": .string(root.rev.description)])
        }
        methods.query("com.atproto.sync.getRepoStatus") { [self] call in
            let did = try requireRepo(call)
            let root = try repos.root(of: did)
            var out = DataMap(["did": .string(did.description), "active": true])
            if let root { out["rev"] = .string(root.rev.description) }
            return .json(.map(out))
        }
        methods.query("com.atproto.sync.listRepos") { [self] call in
            let limit = try call.limit(default: 500, range: 1...1000)
            let roots = try repos.repos(after: call.parameter("cursor"), limit: limit)
            var out = DataMap([
                "repos": .array(roots.map {
                    ["did": .string($0.did.description), "head": .string($0.commit.description), "rev": .string($0.rev.description), "active": true]
                })
            ])
            if roots.count == limit, let last = roots.last { out["cursor"] = .string(last.did.description) }
            return .json(.map(out))
        }
        methods.query("com.atproto.sync.getRecord") { [self] call in
            let did = try requireRepo(call)
            let path = RepoPath(collection: try call.require("collection") { try NSID($0) }, recordKey: try call.require("rkey") { try RecordKey($0) })
            let proof = try await writer(for: did).proof(for: path)
            return .car(roots: [proof.commit]) { car in
                for (cid, bytes) in proof.blocks { try await car.write(cid: cid, data: bytes) }
            }
        }
        methods.query("com.atproto.sync.getBlocks", limit: config.getRepoLimit.map { ("getBlocks", $0) }) { [self] call in
            let did = try requireRepo(call)
            let texts = call.parameters("cids")
            guard !texts.isEmpty, texts.count <= 1000 else { throw XRPCError.invalidRequest("cids must have 1 to 1000 items") }
            var cids = [CID](), seen = Set<CID>()
            for text in texts {
                guard let cid = try? CID(text) else { throw XRPCError.invalidRequest("invalid CID: \(text)") }
                guard seen.insert(cid).inserted else { throw XRPCError.invalidRequest("cids has \(text) more than once") }
                cids.append(cid)
            }
            // Every block must be there before the answer starts; they are
            // looked up again while it is written, so that at most one is held.
            let store = repos.blocks(of: did)
            var missing = [String]()
            for cid in cids where try store.get(cid) == nil { missing.append(cid.description) }
            guard missing.isEmpty else { throw XRPCError.named("BlockNotFound", "Could not find cids: \(missing.joined(separator: ", "))") }
            let wanted = cids
            return .car(roots: []) { car in
                for cid in wanted {
                    guard let bytes = try store.get(cid) else { throw StorageError(.corrupt, "block \(cid) went missing during getBlocks") }
                    try await car.write(cid: cid, data: bytes)
                }
            }
        }
    }

    /// The `did` parameter of an account hosted here.
    private func requireRepo(_ call: XRPCRequest) throws -> DID {
        let did = try call.require("did") { try DID($0) }
        guard try account(did) != nil else { throw XRPCError.named("RepoNotFound", "Could not find repo for DID: \(did)") }
        return did
    }
}

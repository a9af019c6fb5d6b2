import ATData
import ATProtoAPI
import ATRepo
import ATSyntax
import Foundation
import HTTPTypes
import Hummingbird

private typealias Sync = Com.Atproto.Sync

extension PDS {
    /// `com.atproto.sync.*`.
    func registerSyncMethods(_ methods: inout XRPCMethods) {
        methods.query(Sync.GetRepo.nsid, limit: config.getRepoLimit.map { ("getRepo", $0) }) { [self] call in
            let params = try call.parameters(Sync.GetRepo.Parameters.self)
            let did = params.did
            try await requireAvailableRepo(did)
            guard let snapshot = try repos.snapshot(of: did) else {
                throw XRPCError.named("RepoNotFound", "Could not find repo for DID: \(did)")
            }
            return try .repoExport(snapshot, since: params.since, gate: exports, address: call.context.remoteAddress?.ipAddress ?? "unknown")
        }
        methods.query(Sync.ListBlobs.nsid) { [self] call in
            let params = try call.parameters(Sync.ListBlobs.Parameters.self)
            let did = try await requireRepo(params.did)
            let limit = params.limit ?? 500
            let cids = try repos.blobs(of: did, since: params.since, cursor: params.cursor, limit: limit)
            return .lex(Sync.ListBlobs.Output(cursor: cids.count == limit ? cids.last : nil, cids: cids.compactMap { try? CID($0) }))
        }
        methods.query(Sync.GetBlob.nsid) { [self] call in
            let params = try call.parameters(Sync.GetBlob.Parameters.self)
            let did = try await requireRepo(params.did)
            let cid = params.cid
            guard let blob = try blobs.metadata(did: did, cid: cid), try await !isTakenDown(did: did, subject: cid.description) else {
                throw XRPCError.named("BlobNotFound", "Blob not found: \(cid)")
            }
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
        methods.query(Sync.GetLatestCommit.nsid) { [self] call in
            let did = try await requireRepo(try call.parameters(Sync.GetLatestCommit.Parameters.self).did)
            guard let root = try repos.root(of: did) else { throw XRPCError.named("RepoNotFound", "Could not find root for DID: \(did)") }
            return .lex(Sync.GetLatestCommit.Output(cid: root.commit, rev: root.rev))
        }
        methods.query(Sync.GetRepoStatus.nsid) { [self] call in
            let did = try call.parameters(Sync.GetRepoStatus.Parameters.self).did
            guard let account = try await account(did) else { throw XRPCError.named("RepoNotFound", "Could not find repo for DID: \(did)") }
            // An inactive repository's revision is not told.
            let root = account.isActive ? try repos.root(of: did) : nil
            return .lex(Sync.GetRepoStatus.Output(did: did, active: account.isActive, status: account.status, rev: root?.rev))
        }
        methods.query(Sync.ListRepos.nsid) { [self] call in
            let params = try call.parameters(Sync.ListRepos.Parameters.self)
            let limit = params.limit ?? 500
            let roots = try repos.repos(after: params.cursor, limit: limit)
            var listed = [Sync.ListRepos.Repo]()
            for root in roots {
                let account = try await account(root.did)
                listed.append(.init(did: root.did, head: root.commit, rev: root.rev, active: account?.isActive ?? false, status: account?.status))
            }
            return .lex(Sync.ListRepos.Output(cursor: roots.count == limit ? roots.last?.did.description : nil, repos: listed))
        }
        methods.query(Sync.GetRecord.nsid) { [self] call in
            let params = try call.parameters(Sync.GetRecord.Parameters.self)
            let did = try await requireRepo(params.did)
            let path = RepoPath(collection: params.collection, recordKey: params.rkey)
            let uri = ATURI(authority: .did(did), collection: params.collection, recordKey: params.rkey)
            if try await isTakenDown(did: did, subject: uri.description) {
                throw XRPCError.named("RecordNotFound", "Could not locate record: \(uri)")
            }
            let proof = try await recordProof(did: did, path: path)
            return .car(roots: [proof.commit]) { car in
                for (cid, bytes) in proof.blocks { try await car.write(cid: cid, data: bytes) }
            }
        }
        methods.query(Sync.GetBlocks.nsid, limit: config.getRepoLimit.map { ("getBlocks", $0) }) { [self] call in
            let params = try call.parameters(Sync.GetBlocks.Parameters.self)
            let did = try await requireRepo(params.did)
            guard params.cids.count <= 1000 else { throw XRPCError.invalidRequest("cids must have 1 to 1000 items") }
            var cids = [CID](), seen = Set<CID>()
            for cid in params.cids {
                guard seen.insert(cid).inserted else { throw XRPCError.invalidRequest("cids has \(cid) more than once") }
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

    /// `did`, if it is an account hosted here.
    /// `did`, when its repository may be read (``requireAvailableRepo(_:)``).
    private func requireRepo(_ did: DID) async throws -> DID {
        try await requireAvailableRepo(did)
        return did
    }
}

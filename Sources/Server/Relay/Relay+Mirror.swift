import ATData
import ATRepo
import ATSyntax
import Bluesky
import Foundation
import Logging
import ATCrypto

extension Relay {
    /// Checks a `#commit` on its own (any order, any thread): the host must
    /// be the account's PDS, and the commit must verify from its slice with
    /// the account's key — resolved once more when it does not, in case the
    /// key was rotated.
    func verify(_ event: CommitEvent, host: String) async -> IngestPipeline.Verification {
        guard let identity = await authorizedIdentity(event.repo, host: host) else { return .unauthorized }
        if event.tooBig { return .failed("the commit is marked tooBig; its blocks are not all there", identity) }
        func check(_ key: some PublicKey) throws -> VerifiedCommit {
            try CommitProof.verifiedChange(
                car: event.blocks, commit: event.commit, repo: event.repo, rev: event.rev, ops: event.ops, prevData: event.prevData, key: key)
        }
        do {
            return .verified(try check(identity.key), identity)
        } catch {
            guard let fresh = try? await identities.identity(of: event.repo, refresh: true), fresh.host == host,
                let verified = try? check(fresh.key)
            else { return .failed("\(error)", identity) }
            return .verified(verified, fresh)
        }
    }

    /// Applies a checked `#commit` in order: into `batch` when it continues
    /// the mirrored repository exactly (its inversion gives the mirrored
    /// root); otherwise, after storing the batch, the repository is resynced.
    func applyCommit(
        _ event: CommitEvent, frame: [UInt8], verification: IngestPipeline.Verification, batch: inout MirrorBatch, pipeline: IngestPipeline
    ) async throws {
        let did = event.repo, host = pipeline.session.host
        let head = try batch.heads[did] ?? self.head(of: did)
        func resync(_ identity: Identity, _ reason: String) async throws {
            try flush(&batch, host: host)
            await self.resync(did, host: host, client: pipeline.client, identity: identity, reason: reason)
            try hosts.setCursor(event.seq, ofHost: host)
        }
        let identity: Identity, verified: VerifiedCommit
        switch verification {
        case .unauthorized:
            stats.withLock { $0.rejected += 1 }
            batch.cursor = event.seq
            return
        case .failed(let why, let who):
            if let rev = head?.rev, event.rev <= rev {
                batch.cursor = event.seq  // an old commit: nothing to lose
                return
            }
            stats.withLock { $0.rejected += 1 }
            logger.warning("relay: rejected commit \(event.commit) of \(did) from \(host): \(why)")
            try await resync(who, "a commit failed verification")
            return
        case .verified(let commit, let who):
            (verified, identity) = (commit, who)
        }
        guard let head, head.status == .active, let rev = head.rev, let data = head.data, let previous = head.commit else {
            try await resync(identity, "first sight, or desynchronized")
            return
        }
        guard event.rev > rev else {
            batch.cursor = event.seq  // already mirrored
            return
        }
        guard verified.prevData == data else {
            try await resync(identity, "commit \(event.rev) does not follow \(rev)")
            return
        }
        var records = [(collection: String, rkey: String, cid: CID?)]()
        var blobs = [(collection: String, rkey: String, cids: [CID])]()
        let written = Dictionary(verified.newBlocks.map { ($0.cid, $0.bytes) }, uniquingKeysWith: { a, _ in a })
        for op in event.ops {
            let collection = op.path.collection.description, rkey = op.path.recordKey.description
            records.append((collection, rkey, op.cid))
            let record = op.cid.flatMap { written[$0] }.flatMap { try? DAGCBOR.decode($0) }
            blobs.append((collection, rkey, record?.blobReferences ?? []))
        }
        let stored = StoredCommit(
            did: did, commit: verified.commitCID, rev: event.rev, newBlocks: verified.newBlocks, removed: verified.removed + [previous],
            records: records, blobs: blobs, event: { seq in FirehoseFrame.resequenced(frame, seq: seq) ?? frame })
        batch.commits.append(MirroredCommit(stored: stored, data: verified.data))
        var next = head
        (next.commit, next.rev, next.data) = (verified.commitCID, event.rev, verified.data)
        batch.heads[did] = next
        batch.cursor = event.seq
    }

    /// Stores `batch` in one transaction with the host's cursor, and
    /// publishes its events.
    func flush(_ batch: inout MirrorBatch, host: String) throws {
        guard !batch.isEmpty else { return }
        let events = try hosts.apply(batch.commits, host: host, cursor: batch.cursor)
        heads.withLock { heads in
            if heads.count > 200_000 { heads.removeAll() }
            heads.merge(batch.heads) { _, new in new }
        }
        events.forEach(firehose.publish)
        stats.withLock { $0.commits += batch.commits.count }
        batch = MirrorBatch()
    }

    /// The mirrored state of `did`, from memory after the first read.
    func head(of did: DID) throws -> MirroredRepo? {
        if let known = heads.withLock({ $0[did] }) { return known }
        guard let stored = try hosts.mirroredRepo(did) else { return nil }
        heads.withLock { $0[did] = stored }
        return stored
    }

    /// Drops what `batch` would have changed from memory (it was not stored).
    func forgetHeads(_ batch: MirrorBatch) {
        heads.withLock { heads in for did in batch.heads.keys { heads[did] = nil } }
    }

    /// Fetches `did`'s repository from `host` again: the blocks since the
    /// mirrored revision when there is one, else all of it. The repository
    /// is `desynchronized` until this succeeds; a failure leaves it so, and
    /// its next event tries again.
    func resync(_ did: DID, host: String, client: Bluesky, identity: Identity, reason: String) async {
        logger.notice("relay: resyncing \(did) from \(host): \(reason)")
        heads.withLock { $0[did] = nil }
        defer { heads.withLock { $0[did] = nil } }
        do {
            let mirrored = try hosts.mirroredRepo(did)
            try hosts.setStatus(.desynchronized, of: did, host: host)
            if let mirrored, mirrored.commit != nil {
                do {
                    if try await resyncSince(mirrored, host: host, client: client, identity: identity) { return }
                } catch {
                    logger.notice("relay: the since-diff of \(did) did not apply (\(error)); fetching all of it")
                }
            }
            let car = try await client.sync.getRepo(did: did)
            let repository = try Repository.open(car: car, key: identity.key)
            guard repository.did == did else { throw RepoError(.malformedBlock, "the repository of \(did) is signed for \(repository.did)") }
            let records = try repository.recordCIDs()
            var blocks: [(cid: CID, bytes: [UInt8])] = [(repository.commitCID, try repository.store.require(repository.commitCID))]
            blocks += repository.mst.nodes().map { ($0.cid, $0.bytes) }
            var rows = [(collection: String, rkey: String, cid: CID)](), blobs = [(collection: String, rkey: String, cids: [CID])]()
            for (path, cid) in records {
                let bytes = try repository.store.require(cid)
                blocks.append((cid, bytes))
                rows.append((path.collection.description, path.recordKey.description, cid))
                let references = (try? DAGCBOR.decode(bytes))?.blobReferences ?? []
                if !references.isEmpty { blobs.append((path.collection.description, path.recordKey.description, references)) }
            }
            try finishResync(
                MirroredSnapshot(
                    did: did, commit: repository.commitCID, rev: try revision(of: repository), data: repository.commit.data, blocks: blocks,
                    records: rows, blobs: blobs, event: { _ in [] }),
                host: host)
        } catch {
            logger.warning("relay: resync of \(did) from \(host) failed; it stays desynchronized: \(error)")
        }
    }

    /// Applies `getRepo?since=` on top of the mirrored repository, after
    /// verifying the result as a whole; `false` when the mirror is already current.
    private func resyncSince(_ mirrored: MirroredRepo, host: String, client: Bluesky, identity: Identity) async throws -> Bool {
        guard let rev = mirrored.rev, let data = mirrored.data, let head = mirrored.commit else { return false }
        let did = mirrored.did
        let diff = try CARBlockStore(car: try await client.sync.getRepo(did: did, since: rev))
        guard let root = diff.header.roots.first else { throw RepoError(.malformedBlock, "the diff has no root") }
        let base = repos.blocks(of: did)
        let repository = try Repository.open(commit: root, store: OverlayBlockStore(top: diff, base: base), key: identity.key)
        guard repository.did == did else { throw RepoError(.malformedBlock, "the repository of \(did) is signed for \(repository.did)") }
        let newRev = try revision(of: repository)
        guard newRev > rev else {
            try hosts.setStatus(.active, of: did, host: host)
            return newRev == rev && root == head
        }
        let change = try repository.mst.diff(from: try MST.load(root: data, from: base))
        var blocks: [(cid: CID, bytes: [UInt8])] = [(root, try repository.store.require(root))]
        blocks += change.newNodes.map { ($0.cid, $0.bytes) }
        var removed = change.removedNodes + [head]
        var records = [(collection: String, rkey: String, cid: CID?)](), blobs = [(collection: String, rkey: String, cids: [CID])]()
        for (key, value) in change.adds + change.updates.map({ ($0.key, $0.new) }) {
            let path = try RepoPath(key), bytes = try repository.store.require(value)
            blocks.append((value, bytes))
            records.append((path.collection.description, path.recordKey.description, value))
            blobs.append((path.collection.description, path.recordKey.description, (try? DAGCBOR.decode(bytes))?.blobReferences ?? []))
        }
        removed += change.updates.map(\.old)
        for (key, value) in change.deletes {
            let path = try RepoPath(key)
            removed.append(value)
            records.append((path.collection.description, path.recordKey.description, nil))
            blobs.append((path.collection.description, path.recordKey.description, []))
        }
        let commitBlock = blocks[0].bytes
        let stored = StoredCommit(
            did: did, commit: root, rev: newRev, newBlocks: blocks, removed: removed, records: records, blobs: blobs,
            event: { seq in FirehoseFrame.sync(seq: seq, did: did, commit: root, commitBlock: commitBlock, rev: newRev) })
        let events = try hosts.apply([MirroredCommit(stored: stored, data: repository.commit.data)], host: host, cursor: nil)
        events.forEach(firehose.publish)
        stats.withLock { $0.resyncs += 1 }
        return true
    }

    /// Stores a whole fetched repository and announces it with `#sync`.
    private func finishResync(_ snapshot: MirroredSnapshot, host: String) throws {
        var snapshot = snapshot
        let (did, commit, rev) = (snapshot.did, snapshot.commit, snapshot.rev)
        let commitBlock = snapshot.blocks[0].bytes
        snapshot.event = { seq in FirehoseFrame.sync(seq: seq, did: did, commit: commit, commitBlock: commitBlock, rev: rev) }
        firehose.publish(try hosts.replace(with: snapshot, host: host))
        stats.withLock { $0.resyncs += 1 }
    }

    private func revision(of repository: Repository) throws -> TID {
        guard let rev = repository.commit.rev else { throw RepoError(.malformedBlock, "the commit of \(repository.did) has no rev") }
        return rev
    }
}

/// Blocks from `top`, then from `base`: a `since` diff over the mirror.
struct OverlayBlockStore: BlockStore {
    let top: CARBlockStore
    let base: any BlockStore

    func get(_ cid: CID) throws -> [UInt8]? {
        if let block = top.get(cid) { return block }
        return try base.get(cid)
    }

    func put(_ cid: CID, _ bytes: [UInt8]) throws {
        throw RepoError(.malformedBlock, "an overlay block store is read-only")
    }
}

import ATCrypto
import ATData
import ATRepo
import ATSyntax
import Bluesky
import Foundation
import Logging

extension Relay {
    /// Checks a `#commit` on its own (any order, any thread): the host must
    /// be the account's PDS, and the commit must verify from its slice with
    /// the account's key — resolved once more when it does not, in case the
    /// key was rotated. What storing it needs (record index changes, the
    /// frame to re-number) is prepared here too, off the ordered path.
    func verify(_ event: CommitEvent, frame: [UInt8], host: String) async -> IngestPipeline.Verification {
        guard let identity = await authorizedIdentity(event.repo, host: host) else { return .unauthorized }
        if event.tooBig { return .failed("the commit is marked tooBig; its blocks are not all there", identity) }
        // The lexicon's limits (subscribeRepos#commit): more is not a commit a relay takes.
        if event.ops.count > 200 || event.blocks.count > 2_000_000 {
            return .failed("the commit has \(event.ops.count) ops and \(event.blocks.count) bytes of blocks, past the lexicon's limits", identity)
        }
        func check(_ key: some PublicKey) throws -> CheckedCommit {
            let change = try CommitProof.verifiedChange(
                car: event.blocks, commit: event.commit, repo: event.repo, rev: event.rev, ops: event.ops, prevData: event.prevData, key: key)
            var index = RecordIndexChanges()
            let written = Dictionary(change.newBlocks.map { ($0.cid, $0.bytes) }, uniquingKeysWith: { a, _ in a })
            for op in event.ops { index.set(op.path, to: op.cid, record: op.cid.flatMap { written[$0] }) }
            guard let message = FirehoseFrame.Message(frame) else {
                throw RepoError(.malformedBlock, "the #commit frame is past the lexicon's limits")
            }
            return CheckedCommit(change: change, index: index, message: message)
        }
        do {
            return .verified(try check(identity.key), identity)
        } catch {
            guard let fresh = try? await identities.identity(of: event.repo, refresh: true), fresh.host == host,
                let checked = try? check(fresh.key)
            else { return .failed("\(error)", identity) }
            return .verified(checked, fresh)
        }
    }

    /// Applies a checked `#commit` in order: into `batch` when it continues
    /// the mirrored repository exactly (its inversion gives the mirrored
    /// root); otherwise, after storing the batch, the repository is resynced.
    func applyCommit(
        _ event: CommitEvent, frame: [UInt8], verification: IngestPipeline.Verification, batch: inout MirrorBatch, pipeline: IngestPipeline
    ) async throws {
        let did = event.repo, host = pipeline.session.host
        let head = try batch.heads[did] ?? pipeline.writer.head(of: did) ?? self.head(of: did)
        func resync(_ identity: Identity, _ reason: String) async throws {
            try await flush(&batch, pipeline: pipeline)
            await self.resync(did, host: host, client: pipeline.client, identity: identity, reason: reason)
            try hosts.setCursor(event.seq, ofHost: host)
        }
        let identity: Identity, checked: CheckedCommit
        switch verification {
        case .unauthorized:
            batch.cursor = event.seq
            return
        case .failed(let why, let who):
            if let rev = head?.rev, event.rev <= rev {
                batch.cursor = event.seq  // an old commit: nothing to lose
                return
            }
            logger.warning("relay: rejected commit \(event.commit) of \(did) from \(host): \(why)")
            try await resync(who, "a commit failed verification")
            return
        case .verified(let commit, let who):
            (checked, identity) = (commit, who)
        }
        let verified = checked.change
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
        let message = checked.message
        let stored = StoredCommit(
            did: did, commit: verified.commitCID, rev: event.rev, newBlocks: verified.newBlocks, removed: verified.removed + [previous],
            records: checked.index.records, blobs: checked.index.blobs, event: { seq in message.frame(seq: seq) })
        batch.commits.append(MirroredCommit(stored: stored, data: verified.data))
        batch.bytes += 2 * frame.count
        var next = head
        (next.commit, next.rev, next.data) = (verified.commitCID, event.rev, verified.data)
        batch.heads[did] = next
        batch.cursor = event.seq
    }

    /// Stores `batch`, and waits until it and every batch before it are stored.
    func flush(_ batch: inout MirrorBatch, pipeline: IngestPipeline) async throws {
        try await store(&batch, pipeline: pipeline)
        try await pipeline.writer.drain()
    }

    /// Hands `batch` to the pipeline's writer, which stores it in one
    /// transaction with the host's cursor and then publishes its events;
    /// returns once the batch before it is stored.
    func store(_ batch: inout MirrorBatch, pipeline: IngestPipeline) async throws {
        guard !batch.isEmpty else { return }
        let taken = batch, host = pipeline.session.host
        batch = MirrorBatch()
        try await pipeline.writer.submit(heads: taken.heads) { [self] in
            let events = try hosts.apply(taken.commits, host: host, cursor: taken.cursor)
            heads.withLock { heads in
                if heads.count > 200_000 { heads.removeAll() }
                heads.merge(taken.heads) { _, new in new }
            }
            events.forEach(firehose.publish)
        }
    }

    /// The mirrored state of `did`, from memory after the first read.
    func head(of did: DID) throws -> MirroredRepo? {
        if let known = heads.withLock({ $0[did] }) { return known }
        guard let stored = try hosts.mirroredRepo(did) else { return nil }
        heads.withLock { $0[did] = stored }
        return stored
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
            // Streamed and verified as it comes, and never more than the cap.
            let repository = try await client.sync.repository(did: did, key: identity.key, options: CallOptions(maxResponseBytes: config.maxRepoBytes))
            let commitBlock = try repository.store.require(repository.commitCID)
            var blocks: [(cid: CID, bytes: [UInt8])] = [(repository.commitCID, commitBlock)]
            blocks += repository.mst.nodes().map { ($0.cid, $0.bytes) }
            var index = RecordIndexChanges()
            for (path, cid) in try repository.recordCIDs() {
                let bytes = try repository.store.require(cid)
                blocks.append((cid, bytes))
                index.set(path, to: cid, record: bytes)
            }
            let rev = try revision(of: repository)
            let stored = StoredCommit(
                did: did, commit: repository.commitCID, rev: rev, newBlocks: blocks, removed: [], records: index.records, blobs: index.blobs,
                event: FirehoseFrame.syncEvent(did: did, commit: repository.commitCID, commitBlock: commitBlock, rev: rev))
            firehose.publish(try hosts.replace(with: MirroredCommit(stored: stored, data: repository.commit.data), host: host))
        } catch {
            logger.warning("relay: resync of \(did) from \(host) failed; it stays desynchronized: \(error)")
        }
    }

    /// Applies `getRepo?since=` on top of the mirrored repository, after
    /// verifying the result as a whole; `false` when the mirror is already current.
    private func resyncSince(_ mirrored: MirroredRepo, host: String, client: Bluesky, identity: Identity) async throws -> Bool {
        guard let rev = mirrored.rev, let data = mirrored.data, let head = mirrored.commit else { return false }
        let did = mirrored.did
        let diff = try CARBlockStore(car: try await client.sync.getRepo(did: did, since: rev, options: CallOptions(maxResponseBytes: config.maxRepoBytes)))
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
        var index = RecordIndexChanges()
        for (key, value) in change.adds + change.updates.map({ ($0.key, $0.new) }) {
            let bytes = try repository.store.require(value)
            blocks.append((value, bytes))
            index.set(try RepoPath(key), to: value, record: bytes)
        }
        removed += change.updates.map(\.old)
        for (key, value) in change.deletes {
            removed.append(value)
            index.set(try RepoPath(key), to: nil, record: nil)
        }
        let stored = StoredCommit(
            did: did, commit: root, rev: newRev, newBlocks: blocks, removed: removed, records: index.records, blobs: index.blobs,
            event: FirehoseFrame.syncEvent(did: did, commit: root, commitBlock: blocks[0].bytes, rev: newRev))
        let events = try hosts.apply([MirroredCommit(stored: stored, data: repository.commit.data)], host: host, cursor: nil)
        events.forEach(firehose.publish)
        return true
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

/// A commit that verified, with what storing it needs.
struct CheckedCommit: Sendable {
    /// What the commit adds and drops.
    let change: VerifiedCommit
    /// Its record index changes.
    let index: RecordIndexChanges
    /// Its frame, re-encoded from the lexicon's fields, ready to be given the relay's `seq`.
    let message: FirehoseFrame.Message
}

/// The record-index side of a change: each path's new CID (`nil` for a
/// delete) and the blobs its record references.
struct RecordIndexChanges {
    var records = [(collection: String, rkey: String, cid: CID?)]()
    var blobs = [(collection: String, rkey: String, cids: [CID])]()

    mutating func set(_ path: RepoPath, to cid: CID?, record bytes: [UInt8]?) {
        let (collection, rkey) = (path.collection.description, path.recordKey.description)
        records.append((collection, rkey, cid))
        blobs.append((collection, rkey, bytes.flatMap { try? DAGCBOR.decode($0) }?.blobReferences ?? []))
    }
}

import ATData
import ATRepo
import ATSyntax
import Bluesky
import Foundation
import Logging

extension Relay {
    /// Applies a `#commit` when it verifies and continues the mirrored
    /// repository; resyncs the repository otherwise.
    func mirror(_ event: CommitEvent, frame: [UInt8], host: String, client: Bluesky) async throws {
        let did = event.repo
        guard var identity = await authorizedIdentity(did, host: host) else {
            stats.withLock { $0.rejected += 1 }
            try hosts.setCursor(event.seq, ofHost: host)
            return
        }
        guard let mirrored = try hosts.mirroredRepo(did), mirrored.status == .active, let rev = mirrored.rev, let data = mirrored.data,
            let head = mirrored.commit
        else {
            await resync(did, host: host, client: client, identity: identity, reason: "first sight, or desynchronized")
            try hosts.setCursor(event.seq, ofHost: host)
            return
        }
        guard event.rev > rev else {
            try hosts.setCursor(event.seq, ofHost: host)  // already mirrored
            return
        }
        var verified: VerifiedCommit?
        var failure: (any Error)?
        for attempt in 0..<2 where verified == nil {
            do {
                verified = try CommitProof.verifiedChange(
                    car: event.blocks, commit: event.commit, repo: did, rev: event.rev, ops: event.ops, prevData: event.prevData, key: identity.key)
            } catch {
                failure = error
                // The key may have been rotated: resolve once more.
                guard attempt == 0, let fresh = try? await identities.identity(of: did, refresh: true), fresh.host == host else { break }
                identity = fresh
            }
        }
        guard let verified else {
            stats.withLock { $0.rejected += 1 }
            logger.warning("relay: rejected commit \(event.commit) of \(did) from \(host): \(failure.map { "\($0)" } ?? "")")
            await resync(did, host: host, client: client, identity: identity, reason: "a commit failed verification")
            try hosts.setCursor(event.seq, ofHost: host)
            return
        }
        guard verified.prevData == data else {
            await resync(did, host: host, client: client, identity: identity, reason: "commit \(event.rev) does not follow \(rev)")
            try hosts.setCursor(event.seq, ofHost: host)
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
            did: did, commit: verified.commitCID, rev: event.rev, newBlocks: verified.newBlocks, removed: verified.removed + [head],
            records: records, blobs: blobs, event: { seq in FirehoseFrame.resequenced(frame, seq: seq) ?? frame })
        let events = try hosts.apply([MirroredCommit(stored: stored, data: verified.data)], host: host, cursor: event.seq)
        events.forEach(firehose.publish)
        stats.withLock { $0.commits += 1 }
    }

    /// Fetches `did`'s repository from `host` again: the blocks since the
    /// mirrored revision when there is one, else all of it. The repository
    /// is `desynchronized` until this succeeds; a failure leaves it so, and
    /// its next event tries again.
    func resync(_ did: DID, host: String, client: Bluesky, identity: Identity, reason: String) async {
        logger.notice("relay: resyncing \(did) from \(host): \(reason)")
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

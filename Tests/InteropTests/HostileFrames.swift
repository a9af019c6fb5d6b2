import ATCrypto
import ATData
import ATRepo
import ATSyntax
import Foundation

/// Firehose frames for a ``HostileHost`` to send: a DAG-CBOR header
/// (`{op: 1, t: "#commit"}`, …) and a DAG-CBOR body, built here from
/// `DataValue` rather than by the server's own encoder, so that a test can
/// put in them what a well-behaved host never would.
enum HostileFrames {
    /// A message frame of type `type` with `body`.
    static func message(_ type: String, _ body: DataMap) -> [UInt8] {
        DAGCBOR.encode(["op": 1, "t": .string(type)]) + DAGCBOR.encode(.map(body))
    }

    /// An RFC 3339 time, now.
    static var now: String { Date().formatted(.iso8601) }

    /// `#identity` for `did` with the valid fields (`seq`, `did`, `time`,
    /// `handle`) and, when `junk` > 0, an extra field `junk` of that many bytes.
    static func identity(seq: Int64, did: DID, junk: Int = 0) -> [UInt8] {
        var body = DataMap(["seq": .int(seq), "did": .string(did.description), "time": .string(now), "handle": "hostile.test"])
        if junk > 0 { body["junk"] = .bytes([UInt8](repeating: 0x5A, count: junk)) }
        return message("#identity", body)
    }

    /// A valid `#commit` from `host`'s account: the first record of a new
    /// repository, signed with the account's key, with the blocks that
    /// verify it. The relay has never seen the repository, so it fetches it
    /// whole with `getRepo` (a first-sight resync).
    static func commit(seq: Int64, by host: HostileHost.Identity) throws -> [UInt8] {
        let store = MemoryBlockStore()
        let micros = UInt64(Date().timeIntervalSince1970 * 1_000_000)
        let first = TID(microseconds: micros - 1000, clockID: 7), second = TID(microseconds: micros, clockID: 7)
        let empty = try Repository.create(did: host.did, key: host.key, rev: first, store: store)
        let path = RepoPath(collection: try NSID("app.bsky.feed.post"), recordKey: RecordKey(second))
        let record: DataValue = ["$type": "app.bsky.feed.post", "text": "hello from a hostile host", "createdAt": .string(now)]
        let (_, result) = try empty.applying([.create(path, record)], key: host.key, rev: second, store: store)
        let blocks = try CommitProof.blocks(root: result.commit.data, ops: result.ops, newBlocks: result.newBlocks, from: store)
        let ops: [DataValue] = result.ops.map { op in
            .map(DataMap(["action": .string(op.action.rawValue), "path": .string(op.path.description), "cid": op.cid.map(DataValue.link) ?? .null]))
        }
        return message("#commit", DataMap([
            "seq": .int(seq), "rebase": false, "tooBig": false, "repo": .string(host.did.description),
            "commit": .link(result.commitCID), "rev": .string(second.description), "since": .string(first.description),
            "blocks": .bytes(CARWriter.encode(roots: [result.commitCID], blocks: blocks.map { ($0.cid, $0.bytes) })),
            "ops": .array(ops), "blobs": [], "prevData": .link(result.prevData), "time": .string(now),
        ]))
    }

    /// A `#commit` naming `repo` that decodes (every required field is
    /// there) but proves nothing: its CAR holds one unrelated block.
    static func unverifiableCommit(seq: Int64, repo: DID) -> [UInt8] {
        let (cid, bytes) = DAGCBOR.encodeWithCID(["not": "a commit", "seq": .int(seq)])
        let rev = TID(microseconds: UInt64(Date().timeIntervalSince1970 * 1_000_000), clockID: UInt16(seq & 0x3FF))
        return message("#commit", DataMap([
            "seq": .int(seq), "rebase": false, "tooBig": false, "repo": .string(repo.description),
            "commit": .link(cid), "rev": .string(rev.description), "since": .null,
            "blocks": .bytes(CARWriter.encode(roots: [cid], blocks: [(cid, bytes)])),
            "ops": [], "blobs": [], "time": .string(now),
        ]))
    }
}

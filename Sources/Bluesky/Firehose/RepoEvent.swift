import ATCrypto
import ATData
import ATProtoAPI
import ATRepo
import ATSyntax

/// One event of `com.atproto.sync.subscribeRepos`.
public enum RepoEvent: Sendable {
    /// `#commit`: a signed commit and its blocks.
    case commit(CommitEvent)
    /// `#identity`: an account's identity (handle, DID document) changed.
    case identity(seq: Int64, did: DID, handle: String?, time: String)
    /// `#account`: an account's hosting status changed.
    case account(seq: Int64, did: DID, active: Bool, status: String?, time: String)
    /// `#sync`: the repository's state, to resynchronise from.
    case sync(seq: Int64, did: DID, rev: String, time: String)
    /// `#info`: a notice, such as `OutdatedCursor`.
    case info(name: String, message: String?)
    /// An event type this client does not know, kept as it came.
    case unknown(type: String, body: DataValue)

    /// The event's sequence number, when it has one.
    public var seq: Int64? {
        switch self {
        case .commit(let commit): commit.seq
        case .identity(let seq, _, _, _), .account(let seq, _, _, _, _), .sync(let seq, _, _, _): seq
        case .info: nil
        case .unknown(_, let body): body["seq"]?.intValue
        }
    }

    /// Decodes a frame: a DAG-CBOR header (`{op, t}`), then the body, read
    /// as the generated `com.atproto.sync.subscribeRepos` message types.
    ///
    /// - Throws: ``BlueskyError`` — `.decoding` for a malformed frame, and
    ///   for an error frame (`op: -1`) `.xrpc` with the server's error name
    ///   (`FutureCursor`, `ConsumerTooSlow`, …).
    public init(frame: [UInt8]) throws(BlueskyError) {
        typealias Repos = Com.Atproto.Sync.SubscribeRepos
        let decoded: LexFrame<Repos.Message>
        do {
            decoded = try LexFrame(frame: frame)
        } catch {
            throw BlueskyError(kind: .decoding, detail: "a firehose frame does not decode: \(error)", underlying: error)
        }
        switch decoded {
        case .error(let name, let message):
            throw BlueskyError(
                kind: .xrpc(XRPCErrorName(rawValue: name)), body: XRPCErrorBody(error: name, message: message), detail: message ?? "")
        case .message(.commit(let commit)):
            self = .commit(try CommitEvent(commit))
        case .message(.identity(let identity)):
            self = .identity(seq: Int64(identity.seq), did: identity.did, handle: identity.handle?.description, time: identity.time.description)
        case .message(.account(let account)):
            self = .account(
                seq: Int64(account.seq), did: account.did, active: account.active, status: account.status, time: account.time.description)
        case .message(.sync(let sync)):
            self = .sync(seq: Int64(sync.seq), did: sync.did, rev: sync.rev, time: sync.time.description)
        case .message(.info(let info)):
            self = .info(name: info.name, message: info.message)
        case .message(.unknown(let body)):
            let type = (try? DAGCBOR.decodePrefix(frame))?.value["t"]?.stringValue ?? ""
            self = .unknown(type: type, body: body)
        }
    }
}

/// A `#commit` event.
public struct CommitEvent: Sendable {
    /// The sequence number.
    public var seq: Int64
    /// The account.
    public var repo: DID
    /// The commit's CID.
    public var commit: CID
    /// The commit's revision.
    public var rev: TID
    /// The previous revision, if any.
    public var since: TID?
    /// The blocks, as a CAR slice.
    public var blocks: [UInt8]
    /// The record operations.
    public var ops: [RecordOp]
    /// The MST root before the commit.
    public var prevData: CID?
    /// Whether the blocks were left out for size.
    public var tooBig: Bool
    /// When the server emitted it.
    public var time: String

    init(_ event: Com.Atproto.Sync.SubscribeRepos.Commit) throws(BlueskyError) {
        var ops = [RecordOp]()
        for op in event.ops {
            guard let action = RecordOp.Action(rawValue: op.action), let path = try? RepoPath(Array(op.path.utf8)) else {
                throw BlueskyError(kind: .decoding, detail: "#commit has an invalid op: \(op.action) \(op.path)")
            }
            ops.append(RecordOp(action: action, path: path, cid: op.cid.wrapped, prev: op.prev))
        }
        self.seq = Int64(event.seq)
        self.repo = event.repo
        self.commit = event.commit
        self.rev = event.rev
        self.since = event.since.wrapped
        self.blocks = event.blocks
        self.ops = ops
        self.prevData = event.prevData
        self.tooBig = event.tooBig
        self.time = event.time.description
    }

    /// Verifies the commit in one call with ATRepo: each block against its
    /// CID, the signature with `key`, the DID and rev, and the inversion of
    /// the ops back to `prevData`.
    ///
    /// - Throws: `RepoError`, `CryptoError` or `DataError`.
    @discardableResult
    public func verify(with key: some PublicKey) throws -> Commit {
        try CommitProof.verify(car: blocks, commit: commit, repo: repo, rev: rev, ops: ops, prevData: prevData, key: key)
    }
}

extension RepoEvent {
    /// The fields `com.atproto.sync.subscribeRepos` defines for each message
    /// type that hosts pass on (`#commit`, `#identity`, `#account`, `#sync`),
    /// and those of a `#commit`'s ops. A relay re-encodes what it forwards
    /// from these alone, so that nothing a host adds travels further.
    public static let lexiconFields: [String: Set<String>] = [
        "#commit": ["seq", "rebase", "tooBig", "repo", "commit", "rev", "since", "blocks", "ops", "blobs", "prevData", "time"],
        "#identity": ["seq", "did", "time", "handle"],
        "#account": ["seq", "did", "time", "active", "status"],
        "#sync": ["seq", "did", "blocks", "rev", "time"],
    ]

    /// The fields of a `#commit`'s op (`repoOp`).
    public static let opFields: Set<String> = ["action", "path", "cid", "prev"]

    /// The lexicon's size limits: bytes of a `#commit`'s and a `#sync`'s
    /// blocks, and ops in a `#commit`.
    public static let maxCommitBlocks = 2_000_000, maxSyncBlocks = 10_000, maxOps = 200
}

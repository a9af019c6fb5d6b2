import ATCrypto
import ATData
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

    /// Decodes a frame: a DAG-CBOR header (`{op, t}`), then the body.
    ///
    /// - Throws: ``BlueskyError`` — `.decoding` for a malformed frame, and
    ///   for an error frame (`op: -1`) `.xrpc` with the server's error name
    ///   (`FutureCursor`, `ConsumerTooSlow`, …).
    public init(frame: [UInt8]) throws(BlueskyError) {
        let header: DataValue, body: DataValue
        do {
            let (head, length) = try DAGCBOR.decodePrefix(frame)
            header = head
            body = try DAGCBOR.decode(Array(frame[length...]))
        } catch {
            throw BlueskyError(kind: .decoding, detail: "a firehose frame does not decode: \(error.message)", underlying: error)
        }
        if header["op"]?.intValue == -1 {
            let name = body["error"]?.stringValue ?? "Unknown"
            throw BlueskyError(
                kind: .xrpc(XRPCErrorName(rawValue: name)), body: XRPCErrorBody(error: name, message: body["message"]?.stringValue),
                detail: body["message"]?.stringValue ?? "")
        }
        guard header["op"]?.intValue == 1, let type = header["t"]?.stringValue else {
            throw BlueskyError(kind: .decoding, detail: "a firehose frame has an invalid header")
        }
        func field<T>(_ name: String, _ parse: (DataValue) -> T?) throws(BlueskyError) -> T {
            guard let value = body[name], let parsed = parse(value) else {
                throw BlueskyError(kind: .decoding, detail: "\(type) has no valid '\(name)'")
            }
            return parsed
        }
        switch type {
        case "#commit":
            self = .commit(try CommitEvent(body))
        case "#identity":
            self = .identity(
                seq: try field("seq", \.intValue), did: try field("did") { $0.stringValue.flatMap { try? DID($0) } },
                handle: body["handle"]?.stringValue, time: try field("time", \.stringValue))
        case "#account":
            self = .account(
                seq: try field("seq", \.intValue), did: try field("did") { $0.stringValue.flatMap { try? DID($0) } },
                active: try field("active", \.boolValue), status: body["status"]?.stringValue, time: try field("time", \.stringValue))
        case "#sync":
            self = .sync(
                seq: try field("seq", \.intValue), did: try field("did") { $0.stringValue.flatMap { try? DID($0) } },
                rev: try field("rev", \.stringValue), time: try field("time", \.stringValue))
        case "#info":
            self = .info(name: try field("name", \.stringValue), message: body["message"]?.stringValue)
        default:
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

    init(_ body: DataValue) throws(BlueskyError) {
        func fail(_ name: String) -> BlueskyError { BlueskyError(kind: .decoding, detail: "#commit has no valid '\(name)'") }
        guard let seq = body["seq"]?.intValue else { throw fail("seq") }
        guard let repo = body["repo"]?.stringValue.flatMap({ try? DID($0) }) else { throw fail("repo") }
        guard let commit = body["commit"]?.linkValue else { throw fail("commit") }
        guard let rev = body["rev"]?.stringValue.flatMap({ try? TID($0) }) else { throw fail("rev") }
        guard let blocks = body["blocks"]?.bytesValue else { throw fail("blocks") }
        var ops = [RecordOp]()
        for item in body["ops"]?.arrayValue ?? [] {
            guard let actionName = item["action"]?.stringValue, let action = RecordOp.Action(rawValue: actionName),
                let pathText = item["path"]?.stringValue, let path = try? RepoPath(Array(pathText.utf8))
            else { throw fail("ops") }
            ops.append(RecordOp(action: action, path: path, cid: item["cid"]?.linkValue, prev: item["prev"]?.linkValue))
        }
        self.seq = seq
        self.repo = repo
        self.commit = commit
        self.rev = rev
        self.since = body["since"]?.stringValue.flatMap { try? TID($0) }
        self.blocks = blocks
        self.ops = ops
        self.prevData = body["prevData"]?.linkValue
        self.tooBig = body["tooBig"]?.boolValue ?? false
        self.time = body["time"]?.stringValue ?? ""
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

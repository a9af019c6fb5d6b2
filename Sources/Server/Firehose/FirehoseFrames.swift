import ATData
import ATProtoAPI
import ATRepo
import ATSyntax
import Bluesky
import Foundation

/// The frames of `com.atproto.sync.subscribeRepos`: a DAG-CBOR header
/// (`{op: 1, t: "#commit"}`, or `{op: -1}` for an error) followed by a
/// DAG-CBOR body.
enum FirehoseFrame {
    /// A message frame of type `type` (`#commit`, `#identity`, …).
    static func message(_ type: String, _ body: DataValue) -> [UInt8] {
        DAGCBOR.encode(["op": 1, "t": .string(type)]) + DAGCBOR.encode(body)
    }

    typealias Repos = Com.Atproto.Sync.SubscribeRepos

    /// A frame of the generated `subscribeRepos` message type.
    static func frame(_ message: Repos.Message) -> [UInt8] {
        LexFrame<Repos.Message>.message(message).encode()
    }

    /// An error frame; the stream ends after it.
    static func error(_ name: String, _ message: String) -> [UInt8] {
        LexFrame<Repos.Message>.error(name: name, message: message).encode()
    }

    /// `#info`, such as `OutdatedCursor`.
    static func info(_ name: String, _ text: String) -> [UInt8] {
        frame(.info(Repos.Info(name: name, message: text)))
    }

    /// `#commit`: the commit, its ops, and as a CAR slice its new blocks and
    /// the nodes needed to invert it (see `CommitProof.blocks`).
    static func commit(
        seq: Int64, did: DID, result: CommitResult, blocks: [(cid: CID, bytes: [UInt8])], since: TID?, time: Date = Date()
    ) -> [UInt8] {
        let ops = result.ops.map { op in
            Repos.RepoOp(action: op.action.rawValue, path: op.path.description, cid: op.cid.map { .value($0) } ?? .null, prev: op.prev)
        }
        let car = CARWriter.encode(roots: [result.commitCID], blocks: blocks.map { ($0.cid, $0.bytes) })
        // A commit this PDS signed has a rev (version 3).
        let rev = result.commit.rev ?? TID(rawValue: 0)
        return frame(.commit(Repos.Commit(
            seq: Int(seq), rebase: false, tooBig: false, repo: did, commit: result.commitCID, rev: rev,
            since: since.map { .value($0) } ?? .null, blocks: car, ops: ops, blobs: [], prevData: result.prevData, time: timestamp(time))))
    }

    /// `#identity`: the account's DID document or handle changed (or is new).
    static func identity(seq: Int64, did: DID, handle: Handle?, time: Date = Date()) -> [UInt8] {
        frame(.identity(Repos.Identity(seq: Int(seq), did: did, time: timestamp(time), handle: handle)))
    }

    /// `#account`: whether the account is active.
    static func account(seq: Int64, did: DID, active: Bool, status: String? = nil, time: Date = Date()) -> [UInt8] {
        frame(.account(Repos.Account(seq: Int(seq), did: did, time: timestamp(time), active: active, status: status)))
    }

    /// `#sync`: the repository is now at this commit; earlier state is to be
    /// dropped. `blocks` is a CAR with the commit block only.
    static func sync(seq: Int64, did: DID, commit: CID, commitBlock: [UInt8], rev: TID, time: Date = Date()) -> [UInt8] {
        frame(.sync(Repos.Sync(
            seq: Int(seq), did: did, blocks: CARWriter.encode(roots: [commit], blocks: [(commit, commitBlock)]), rev: rev.description,
            time: timestamp(time))))
    }

    /// The builder of a stored `#sync` event, given its sequence number.
    static func syncEvent(did: DID, commit: CID, commitBlock: [UInt8], rev: TID) -> @Sendable (Int64) -> [UInt8] {
        { seq in sync(seq: seq, did: did, commit: commit, commitBlock: commitBlock, rev: rev) }
    }

    /// A message frame from another host, decoded once, to be sent again
    /// under our own `seq` (a relay re-sequences the events it mirrors).
    /// Only the lexicon's fields of the message type are kept (see
    /// `RepoEvent.lexiconFields`): whatever else a host adds is dropped.
    /// The frame is encoded here, in two parts around the `seq` value, so
    /// that giving it a number (inside the store's write) is a copy.
    struct Message: Sendable {
        /// The canonical frame up to the body's `seq` value, and after it.
        let head: [UInt8], tail: [UInt8]

        /// `nil` when `frame` does not decode, is not a message type a relay
        /// passes on, or is past the lexicon's limits.
        ///
        /// A frame that is already what re-encoding would give (canonical,
        /// only the lexicon's fields, within its limits, with a `seq`) is cut
        /// around its `seq` as it is (``passedOn(_:)``), as a well-behaved
        /// host's frames are; any other is decoded and encoded again.
        init?(_ frame: [UInt8]) {
            if let parts = Self.passedOn(frame) {
                (head, tail) = parts
                return
            }
            guard let parts = Self.reencoded(frame) else { return nil }
            (head, tail) = parts
        }

        /// The frame cut around its `seq` value, if it needs nothing dropped
        /// or added: a header of exactly `op` 1 and a type a relay passes
        /// on, then a body that the strict reader takes whole, holding only
        /// that type's lexicon fields (and only theirs in each op), a `seq`,
        /// and nothing that ``reencoded(_:)`` would remove. Both give the
        /// same bytes for such a frame.
        static func passedOn(_ frame: [UInt8]) -> (head: [UInt8], tail: [UInt8])? {
            let seq = frame.withUnsafeBytes { buffer -> Range<Int>? in
                var reader = DAGCBORReader(buffer)
                do {
                    guard try reader.readMapHeader() == 2 else { return nil }
                    var type: String?
                    var previous: Range<Int>?
                    for _ in 0..<2 {
                        let (key, range) = try reader.readKey(after: previous)
                        previous = range
                        switch key {
                        case "op": guard try reader.readInt() == 1 else { return nil }
                        case "t": type = try reader.readString()
                        default: return nil
                        }
                    }
                    guard let type, let fields = RepoEvent.lexiconFields[type] else { return nil }
                    var seq: Range<Int>?
                    previous = nil
                    for _ in 0..<(try reader.readMapHeader()) {
                        let (key, range) = try reader.readKey(after: previous)
                        previous = range
                        guard fields.contains(key) else { return nil }
                        let start = reader.offset
                        switch key {
                        case "seq":
                            _ = try reader.readInt()
                            seq = start..<reader.offset
                        case "ops":
                            let count = try reader.readArrayHeader()
                            guard count <= RepoEvent.maxOps else { return nil }
                            for _ in 0..<count {
                                var opKey: Range<Int>?
                                for _ in 0..<(try reader.readMapHeader()) {
                                    let (name, range) = try reader.readKey(after: opKey)
                                    opKey = range
                                    guard RepoEvent.opFields.contains(name) else { return nil }
                                    try reader.skipValue(depth: 3)  // body, ops, op: as deep as decoding counts
                                }
                            }
                        case "blocks":
                            let limit = type == "#sync" ? RepoEvent.maxSyncBlocks : RepoEvent.maxCommitBlocks
                            guard try reader.readBytesRange().count <= limit else { return nil }
                        case "handle", "time", "status", "rev", "since":
                            var probe = reader
                            guard try probe.readHeader().major == Major.text else {
                                try reader.skipValue(depth: 1)
                                continue
                            }
                            let text = try reader.readString()
                            if key == "handle" {
                                guard (try? Handle(text)) != nil else { return nil }
                            } else if text.utf8.count > 64 {
                                return nil
                            }
                        default:
                            try reader.skipValue(depth: 1)
                        }
                    }
                    guard reader.offset == buffer.count else { return nil }
                    return seq
                } catch {
                    return nil
                }
            }
            guard let seq else { return nil }
            return (Array(frame[..<seq.lowerBound]), Array(frame[seq.upperBound...]))
        }

        /// The frame decoded, with only the lexicon's fields kept, and encoded again.
        static func reencoded(_ frame: [UInt8]) -> (head: [UInt8], tail: [UInt8])? {
            guard let (header, length) = try? DAGCBOR.decodePrefix(frame), header["op"]?.intValue == 1,
                let type = header["t"]?.stringValue, let fields = RepoEvent.lexiconFields[type],
                case .map(let sent)? = try? DAGCBOR.decode(Array(frame[length...]))
            else { return nil }
            var body = DataMap()
            for entry in sent.entries where fields.contains(entry.key) { body[entry.key] = entry.value }
            if let ops = body["ops"]?.arrayValue {
                guard ops.count <= RepoEvent.maxOps else { return nil }
                body["ops"] = .array(ops.map { op in
                    guard case .map(let map) = op else { return op }
                    var kept = DataMap()
                    for entry in map.entries where RepoEvent.opFields.contains(entry.key) { kept[entry.key] = entry.value }
                    return .map(kept)
                })
            }
            let maxBlocks = type == "#sync" ? RepoEvent.maxSyncBlocks : RepoEvent.maxCommitBlocks
            guard (body["blocks"]?.bytesValue?.count ?? 0) <= maxBlocks else { return nil }
            if let handle = body["handle"]?.stringValue, (try? Handle(handle)) == nil { body["handle"] = nil }
            for name in ["time", "status", "rev", "since"] where (body[name]?.stringValue?.utf8.count ?? 0) > 64 { body[name] = nil }
            if body["seq"] == nil { body["seq"] = .int(0) }
            var writer = DAGCBORWriter(capacity: frame.count + 16)
            writer.write(DataValue.map(DataMap(["op": 1, "t": .string(type)])))
            writer.writeMapHeader(body.count)
            var head = [UInt8]()
            // The entries are in canonical key order.
            for entry in body.entries {
                writer.writeString(entry.key)
                if entry.key == "seq" {
                    head = writer.bytes
                    writer = DAGCBORWriter(capacity: frame.count - head.count + 16)
                } else {
                    writer.write(entry.value)
                }
            }
            return (head, writer.bytes)
        }

        /// Splits a frame encoded here around its body's `seq` value, so that
        /// a commit can be encoded before the store numbers it, and numbered
        /// with a copy inside the store's write. `nil` if the frame does not
        /// decode or its body has no `seq`.
        init?(splitting frame: [UInt8]) {
            let split = frame.withUnsafeBytes { buffer -> Range<Int>? in
                var reader = DAGCBORReader(buffer)
                do {
                    try reader.skipValue()  // the header
                    for _ in 0..<(try reader.readMapHeader()) {
                        let key = try reader.readString()
                        let start = reader.offset
                        try reader.skipValue()
                        if key == "seq" { return start..<reader.offset }
                    }
                } catch {}
                return nil
            }
            guard let split else { return nil }
            (head, tail) = (Array(frame[..<split.lowerBound]), Array(frame[split.upperBound...]))
        }

        /// The frame with `seq` in place of the host's.
        func frame(seq: Int64) -> [UInt8] {
            var writer = DAGCBORWriter(capacity: head.count + tail.count + 9)
            writer.bytes.append(contentsOf: head)
            writer.writeInt(seq)
            writer.bytes.append(contentsOf: tail)
            return writer.bytes
        }
    }

    /// An RFC 3339 time with milliseconds, in UTC.
    static func timestamp(_ date: Date) -> Datetime { Datetime(date) }
}

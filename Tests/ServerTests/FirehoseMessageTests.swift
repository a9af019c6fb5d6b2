import ATCrypto
import ATData
import ATRepo
import ATSyntax
import Foundation
@testable import Server
import Testing

/// A relay sends a host's events again under its own sequence numbers: the
/// re-numbered frame must be the canonical frame with only `seq` changed.
@Suite("Firehose messages re-sequenced")
struct FirehoseMessageTests {
    /// The frame re-encoded from its decoded body with `seq` replaced.
    func reencoded(_ frame: [UInt8], seq: Int64) throws -> [UInt8] {
        let (header, length) = try DAGCBOR.decodePrefix(frame)
        guard case .map(var body) = try DAGCBOR.decode(Array(frame[length...])) else {
            Issue.record("the body is not a map")
            return []
        }
        body["seq"] = .int(seq)
        return DAGCBOR.encode(header) + DAGCBOR.encode(.map(body))
    }

    @Test func renumberedFramesEqualTheirCanonicalReencoding() throws {
        let did = try DID("did:plc:ewvi7nxzyoun6zhxrhs64oiz")
        let frames = [
            FirehoseFrame.identity(seq: 7, did: did, handle: try Handle("alice.test")),
            FirehoseFrame.account(seq: 123_456, did: did, active: false, status: "takendown"),
            FirehoseFrame.sync(seq: 1, did: did, commit: CID.compute([1, 2, 3]), commitBlock: [0xA0], rev: try TID("3jzfcijpj2z2a")),
            // A body without seq gets one.
            FirehoseFrame.message("#identity", ["did": .string(did.description), "time": "2024-01-01T00:00:00.000Z"]),
        ]
        for frame in frames {
            let message = try #require(FirehoseFrame.Message(frame))
            // Every width of CBOR integer: immediate, 1, 2, 4 and 8 bytes.
            for seq: Int64 in [0, 23, 24, 255, 256, 65_535, 65_536, 4_294_967_295, 4_294_967_296, .max] {
                #expect(message.frame(seq: seq) == (try reencoded(frame, seq: seq)))
            }
        }
        #expect(FirehoseFrame.Message([0xFF, 0x00]) == nil)
    }

    /// M6: what a relay passes on is re-encoded from the lexicon's fields of
    /// the message type: anything else a host adds is dropped, a handle that
    /// is not one is dropped, and types a relay does not forward (`#info`),
    /// ops past 200 and blocks past the lexicon's size give no message.
    @Test func m6OnlyTheLexiconsFieldsArePassedOn() throws {
        let did = try DID("did:plc:ewvi7nxzyoun6zhxrhs64oiz")
        let junk = DataValue.bytes([UInt8](repeating: 7, count: 4 << 20))
        let identity = FirehoseFrame.message("#identity", [
            "seq": 5, "did": .string(did.description), "time": "2024-01-01T00:00:00.000Z", "handle": "alice.test", "junk": junk,
        ])
        let message = try #require(FirehoseFrame.Message(identity))
        let clean = message.frame(seq: 9)
        #expect(clean.count < 200)
        #expect(clean == FirehoseFrame.identity(seq: 9, did: did, handle: try Handle("alice.test"), time: Date(timeIntervalSince1970: 1_704_067_200)))
        let badHandle = FirehoseFrame.message("#identity", ["seq": 5, "did": .string(did.description), "time": "t", "handle": .string("no handle")])
        let (_, length) = try DAGCBOR.decodePrefix(try #require(FirehoseFrame.Message(badHandle)).frame(seq: 1))
        #expect(try DAGCBOR.decode(Array(try #require(FirehoseFrame.Message(badHandle)).frame(seq: 1)[length...]))["handle"] == nil)

        let op: DataValue = ["action": "create", "path": "app.bsky.feed.post/3jzfcijpj2z2a", "cid": .link(CID.compute([1])), "extra": junk]
        let commit = FirehoseFrame.message("#commit", [
            "seq": 1, "repo": .string(did.description), "ops": [op], "blocks": .bytes([1, 2, 3]), "mine": "x", "time": "t",
        ])
        let reencoded = try #require(FirehoseFrame.Message(commit)).frame(seq: 2)
        let (_, start) = try DAGCBOR.decodePrefix(reencoded)
        let body = try DAGCBOR.decode(Array(reencoded[start...]))
        #expect(body["mine"] == nil && body["ops"]?.arrayValue?.first?["extra"] == nil)
        #expect(body["ops"]?.arrayValue?.first?["path"] == "app.bsky.feed.post/3jzfcijpj2z2a")

        #expect(FirehoseFrame.Message(FirehoseFrame.info("OutdatedCursor", "too old")) == nil)
        let tooMany = FirehoseFrame.message("#commit", ["seq": 1, "ops": .array(Array(repeating: op, count: 201)), "blocks": .bytes([])])
        #expect(FirehoseFrame.Message(tooMany) == nil)
        let tooBig = FirehoseFrame.message("#commit", ["seq": 1, "ops": [], "blocks": .bytes([UInt8](repeating: 0, count: 2_000_001))])
        #expect(FirehoseFrame.Message(tooBig) == nil)
    }

    /// A frame that re-encoding would not change (a well-behaved host's) is
    /// cut as it is, and gives exactly what re-encoding gives; one that needs
    /// anything dropped, added or made canonical is re-encoded.
    @Test func aFrameThatNeedsNoChangeIsPassedOnAsItIs() throws {
        let did = try DID("did:plc:ewvi7nxzyoun6zhxrhs64oiz")
        let cid = CID.compute([1]), prev = CID.compute([2])
        let opFields = DataMap(["action": "update", "path": "app.bsky.feed.post/3jzfcijpj2z2a", "cid": .link(cid), "prev": .link(prev)] as [String: DataValue])
        let op = DataValue.map(opFields)
        let commit = DataMap([
            "seq": 42, "rebase": false, "tooBig": false, "repo": .string(did.description), "commit": .link(cid), "rev": "3jzfcijpj2z2a",
            "since": .null, "blocks": .bytes([1, 2, 3]), "ops": [op], "blobs": [], "prevData": .link(prev), "time": "2024-01-01T00:00:00.000Z",
        ] as [String: DataValue])
        let clean = [
            FirehoseFrame.message("#commit", .map(commit)),
            FirehoseFrame.identity(seq: 7, did: did, handle: try Handle("alice.test")),
            FirehoseFrame.account(seq: 123_456, did: did, active: false, status: "takendown"),
            FirehoseFrame.sync(seq: 1, did: did, commit: cid, commitBlock: [0xA0], rev: try TID("3jzfcijpj2z2a")),
        ]
        for frame in clean {
            let passed = try #require(FirehoseFrame.Message.passedOn(frame))
            let again = try #require(FirehoseFrame.Message.reencoded(frame))
            #expect(passed.head == again.head && passed.tail == again.tail)
        }
        var extraOp = opFields
        extraOp["extra"] = "x"
        var withMine = commit, withExtraOp = commit
        withMine["mine"] = "x"
        withExtraOp["ops"] = .array([.map(extraOp)])
        var nonMinimal = FirehoseFrame.message("#identity", ["seq": 5, "did": .string(did.description), "time": "t"])
        let five = try #require(nonMinimal.lastIndex(of: 0x05))  // seq 5, the last small integer in the frame
        nonMinimal.replaceSubrange(five...five, with: [0x18, 0x05])
        var trailing = FirehoseFrame.message("#commit", .map(commit))
        trailing.append(0)
        let changed: [(String, [UInt8])] = [
            ("an unknown field", FirehoseFrame.message("#commit", .map(withMine))),
            ("an unknown op field", FirehoseFrame.message("#commit", .map(withExtraOp))),
            ("a handle that is not one", FirehoseFrame.message("#identity", ["seq": 5, "did": .string(did.description), "handle": "no handle"])),
            ("a time past 64 bytes", FirehoseFrame.message("#identity", ["seq": 5, "did": .string(did.description), "time": .string(String(repeating: "9", count: 65))])),
            ("no seq", FirehoseFrame.message("#identity", ["did": .string(did.description)])),
            ("another header field", DAGCBOR.encode(["op": 1, "t": "#identity", "x": 1]) + DAGCBOR.encode(["seq": 5, "did": .string(did.description)])),
            ("a seq in two bytes", nonMinimal),
            ("a byte after the body", trailing),
        ]
        for (what, frame) in changed {
            #expect(FirehoseFrame.Message.passedOn(frame) == nil, "\(what) was passed on as it is")
            let message = FirehoseFrame.Message(frame), again = FirehoseFrame.Message.reencoded(frame)
            #expect(message?.head == again?.head && message?.tail == again?.tail, "\(what)")
        }
    }

    /// The PDS encodes a commit's frame before the store numbers it, then
    /// splices the number in: the result must be the frame encoded with that
    /// number, for every width of CBOR integer.
    @Test func aSplitCommitFrameNumberedLaterEqualsOneEncodedWithItsNumber() throws {
        let did = try DID("did:plc:splitsplitsplitsplitsplit")
        let key = try Keys.generate(.k256)
        let clock = TIDClock()
        let store = MemoryBlockStore()
        var repo = try Repository.create(did: did, key: key, rev: clock.next(), store: store)
        let post = try NSID("app.bsky.feed.post")
        for i in 0..<3 {
            let since = repo.commit.rev
            let writes: [RecordWrite] = (0..<(1 + 40 * i)).map { _ in
                .create(RepoPath(collection: post, recordKey: RecordKey(clock.next())), ["text": .string("post \(i)")])
            }
            let (next, result) = try repo.applying(writes, key: key, rev: clock.next(), store: store)
            let proof = try CommitProof.blocks(tree: next.mst, ops: result.ops, newBlocks: result.newBlocks, from: store)
            let time = Date(timeIntervalSince1970: 1_800_000_000 + Double(i))
            let split = try #require(FirehoseFrame.Message(
                splitting: FirehoseFrame.commit(seq: 0, did: did, result: result, blocks: proof, since: since, time: time)))
            for seq: Int64 in [1, 23, 24, 255, 256, 65_535, 65_536, 4_294_967_295, 4_294_967_296, .max] {
                #expect(split.frame(seq: seq) == FirehoseFrame.commit(seq: seq, did: did, result: result, blocks: proof, since: since, time: time))
            }
            repo = next
        }
        // Not a frame, and a frame whose body has no seq.
        #expect(FirehoseFrame.Message(splitting: [0xFF, 0x00]) == nil)
        #expect(FirehoseFrame.Message(splitting: FirehoseFrame.message("#identity", ["did": .string(did.description)])) == nil)
    }
}

import ATData
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
            FirehoseFrame.info("OutdatedCursor", "too old"),
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
}

import ATData
import ATSyntax
import Foundation
import Hummingbird
import Logging
import NIOCore
@testable import Server
import Testing

/// Blobs as the reference PDS treats them, in process: the stored type is
/// sniffed from the bytes, a record's reference must state the stored type
/// and size (and pass the lexicon's `accept` and `maxSize`), and uploads no
/// record claims are deleted after the grace period.
@Suite("PDS blobs: types, references, orphans")
struct BlobRulesTests {
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D] + Array("IHDR".utf8) + [UInt8](repeating: 3, count: 200)

    func account() async throws -> (PDS, DID) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pds-\(UUID())")
        let config = ServerConfig(dataDirectory: dir, port: 0, bcryptCost: 4)
        let pds = try await PDS.open(config: config, publicURL: URL(string: "http://127.0.0.1:2583")!, logger: Logger(label: "test"))
        let created = try await pds.createAccount(["handle": "blobby.test", "password": "correct horse battery"], admin: false)
        return (pds, created.did)
    }

    func upload(_ pds: PDS, _ did: DID, _ bytes: [UInt8], as declared: String?) async throws -> BlobUpload {
        try await pds.uploadBlob(did: did, mimeType: declared, declared: bytes.count, body: RequestBody(buffer: ByteBuffer(bytes: bytes)))
    }

    func profile(avatar cid: CID, mimeType: String, size: Int) -> DataValue {
        ["$type": "app.bsky.actor.profile", "displayName": "Blobby",
         "avatar": ["$type": "blob", "ref": .link(cid), "mimeType": .string(mimeType), "size": .int(Int64(size))]]
    }

    func refusal(_ body: () throws -> Void) -> XRPCError? {
        do {
            try body()
            return nil
        } catch {
            return error as? XRPCError
        }
    }

    @Test func theStoredTypeComesFromTheBytes() async throws {
        let (pds, did) = try await account()
        #expect(try await upload(pds, did, Self.png, as: "*/*").mimeType == "image/png")
        #expect(try await upload(pds, did, Array("plain words".utf8), as: nil).mimeType == "text/plain")
        #expect(try await upload(pds, did, [0, 1, 2, 0xFF], as: "*/*").mimeType == "application/octet-stream")
        #expect(try await upload(pds, did, [0, 1, 2, 0xFE], as: "model/gltf-binary").mimeType == "model/gltf-binary")
        let png = try await upload(pds, did, Self.png, as: "*/*")
        #expect(try pds.blobs.metadata(did: did, cid: png.cid)?.mimeType == "image/png")
    }

    @Test func aReferenceMustStateTheStoredTypeAndSize() async throws {
        let (pds, did) = try await account()
        let collection = try NSID("app.bsky.actor.profile")
        let png = try await upload(pds, did, Self.png, as: "*/*")
        let text = try await upload(pds, did, Array("not an image".utf8), as: "*/*")

        let wrongType = refusal { _ = try pds.check(profile(avatar: png.cid, mimeType: "image/jpeg", size: png.size), collection: collection, did: did, validate: nil) }
        #expect(wrongType?.name == "InvalidRequest")
        #expect(wrongType?.message.contains("does not match") == true)
        let wrongSize = refusal { _ = try pds.check(profile(avatar: png.cid, mimeType: "image/png", size: png.size + 1), collection: collection, did: did, validate: nil) }
        #expect(wrongSize?.name == "InvalidRequest")
        // A text blob, stated truly, is still not an image the lexicon accepts as an avatar.
        let notAccepted = refusal { _ = try pds.check(profile(avatar: text.cid, mimeType: "text/plain", size: text.size), collection: collection, did: did, validate: nil) }
        #expect(notAccepted?.name == "InvalidRequest")
        #expect(notAccepted?.message.contains("not accepted") == true)
        // A blob that was never uploaded.
        let missing = CID.compute(Array("never uploaded".utf8), codec: .raw)
        #expect(refusal { _ = try pds.check(profile(avatar: missing, mimeType: "image/png", size: 3), collection: collection, did: did, validate: nil) }?.name == "BlobNotFound")
        // Refused records claimed nothing; the true reference is accepted and claims the blob.
        #expect(pds.blobs.unreferencedBytes(did: did) == png.size + text.size)
        #expect(try pds.check(profile(avatar: png.cid, mimeType: "image/png", size: png.size), collection: collection, did: did, validate: nil) == "valid")
        #expect(pds.blobs.unreferencedBytes(did: did) == text.size)
    }

    @Test func unclaimedUploadsGoAfterTheGracePeriod() async throws {
        let (pds, did) = try await account()
        #expect(pds.config.orphanBlobLifetime == 3600)
        let kept = try await upload(pds, did, Self.png, as: nil)
        let orphan = try await upload(pds, did, Array("nobody wants me".utf8), as: nil)
        _ = try pds.check(profile(avatar: kept.cid, mimeType: "image/png", size: kept.size), collection: try NSID("app.bsky.actor.profile"), did: did, validate: nil)
        // Half an hour on, within the grace period: kept.
        pds.collectOrphanBlobsIfDue(now: Date().addingTimeInterval(1800))
        #expect(pds.blobs.exists(did: did, cid: orphan.cid))
        // Past the hour: gone, and the claimed blob stays.
        pds.collectOrphanBlobsIfDue(now: Date().addingTimeInterval(3 * 3600))
        #expect(!pds.blobs.exists(did: did, cid: orphan.cid))
        #expect(pds.blobs.exists(did: did, cid: kept.cid))
    }
}

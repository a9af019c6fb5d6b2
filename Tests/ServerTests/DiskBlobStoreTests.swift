import ATData
import ATSyntax
import Foundation
@testable import Server
import Testing

/// Blobs on disk: streamed uploads that stay pending until a record claims
/// them, the bytes pending per account, orphans, and what a crash leaves.
@Suite("Disk blob store")
struct DiskBlobStoreTests {
    let did = try! DID("did:plc:ewvi7nxzyoun6zhxrhs64oiz")

    func root() -> URL { FileManager.default.temporaryDirectory.appendingPathComponent("blobs-\(UUID())") }

    func chunks(_ parts: [[UInt8]]) -> AsyncStream<[UInt8]> {
        AsyncStream { continuation in
            parts.forEach { continuation.yield($0) }
            continuation.finish()
        }
    }

    @Test func uploadsArePendingUntilClaimedAndOrphansGo() async throws {
        let store = try DiskBlobStore(root: root())
        let upload = try await store.put(did: did, mimeType: "text/plain", maxBytes: 100, chunks: chunks([[1, 2], [3]]))
        #expect(upload == BlobUpload(cid: CID.compute([1, 2, 3], codec: .raw), size: 3))
        #expect(store.unreferencedBytes(did: did) == 3 && store.exists(did: did, cid: upload.cid))
        let other = try await store.put(did: did, mimeType: "text/plain", maxBytes: 100, chunks: chunks([[9]]))
        #expect(try store.claim(did: did, cid: upload.cid))
        #expect(store.unreferencedBytes(did: did) == 1)
        #expect(try store.metadata(did: did, cid: upload.cid)?.mimeType == "text/plain")
        #expect(store.collectOrphans(olderThan: Date().addingTimeInterval(60)) == 1)
        #expect(!store.exists(did: did, cid: other.cid) && store.exists(did: did, cid: upload.cid))
        #expect(try !store.claim(did: did, cid: other.cid))
    }

    @Test func aTooLargeUploadLeavesNothing() async throws {
        let dir = root()
        let store = try DiskBlobStore(root: dir)
        await #expect(throws: BlobUploadError.self) {
            _ = try await store.put(did: did, mimeType: "x/y", maxBytes: 4, chunks: chunks([[1, 2, 3], [4, 5]]))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent(".tmp").path).isEmpty)
        #expect(store.unreferencedBytes(did: did) == 0)
    }

    /// L6: what a crash leaves staged (now in `.tmp/`, before beside the blob) is deleted on opening.
    @Test func openingClearsWhatACrashLeft() throws {
        let dir = root()
        let account = dir.appendingPathComponent("did_plc_x")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".tmp"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: account, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir.appendingPathComponent(".tmp/half").path, contents: Data([1]))
        FileManager.default.createFile(atPath: account.appendingPathComponent("bafkrei.tmp-1234").path, contents: Data([1]))
        FileManager.default.createFile(atPath: account.appendingPathComponent("bafkreikept").path, contents: Data([1]))
        _ = try DiskBlobStore(root: dir)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent(".tmp").path).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: account.path) == ["bafkreikept"])
    }
}

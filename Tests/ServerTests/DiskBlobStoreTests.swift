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
        var heads = [[UInt8]]()
        let upload = try await store.put(did: did, maxBytes: 100, chunks: chunks([[1, 2], [3]])) { heads.append($0); return "text/plain" }
        #expect(upload == BlobUpload(cid: CID.compute([1, 2, 3], codec: .raw), size: 3, mimeType: "text/plain"))
        #expect(heads == [[1, 2, 3]])
        // The same bytes again keep the type stored first.
        let again = try await store.put(did: did, maxBytes: 100, chunks: chunks([[1], [2, 3]])) { _ in "image/png" }
        #expect(again.mimeType == "text/plain")
        #expect(store.unreferencedBytes(did: did) == 3 && store.exists(did: did, cid: upload.cid))
        let other = try await store.put(did: did, maxBytes: 100, chunks: chunks([[9]])) { _ in "text/plain" }
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
            _ = try await store.put(did: did, maxBytes: 4, chunks: chunks([[1, 2, 3], [4, 5]])) { _ in "x/y" }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent(".tmp").path).isEmpty)
        #expect(store.unreferencedBytes(did: did) == 0)
    }

    /// The type is told from the first bytes only, however the body is cut.
    @Test func theTypeIsSniffedFromTheFirstBytesOfAStreamedUpload() async throws {
        let store = try DiskBlobStore(root: root())
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 7, count: 5000)
        let parts = stride(from: 0, to: png.count, by: 3).map { Array(png[$0..<min($0 + 3, png.count)]) }
        var head = [UInt8]()
        let upload = try await store.put(did: did, maxBytes: 10_000, chunks: chunks(parts)) { bytes in
            head = bytes
            return MediaType.resolve(head: bytes, declared: "*/*")
        }
        #expect(head == Array(png.prefix(MediaType.sniffLength)))
        #expect(upload.mimeType == "image/png")
        #expect(try store.metadata(did: did, cid: upload.cid)?.mimeType == "image/png")
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

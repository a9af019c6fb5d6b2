import ATData
import ATSyntax
import Foundation
import Hummingbird

extension PDS {
    /// `com.atproto.repo.uploadBlob`: streams the body to disk (never more
    /// than `maxBlob`), within the account's quota of unreferenced bytes.
    /// Uploads in flight count against the quota by their declared length.
    ///
    /// - Throws: 413 `PayloadTooLarge`, 400 `BlobQuotaExceeded`, or 400
    ///   `InvalidRequest` for a body that ends before its `Content-Length`.
    /// The stored type is sniffed from the bytes; `mimeType`, the declared
    /// `Content-Type`, counts only when nothing is recognised (see ``MediaType``).
    func uploadBlob(did: DID, mimeType: String?, declared: Int?, body: RequestBody) async throws -> BlobUpload {
        if let declared, declared > config.maxBlob { throw XRPCError.payloadTooLarge(config.maxBlob) }
        collectOrphanBlobsIfDue()
        let reservation = declared ?? config.maxBlob
        let pending = blobs.unreferencedBytes(did: did)
        let admitted = uploading.withLock { uploading in
            let inFlight = uploading[did, default: 0]
            guard pending + inFlight + reservation <= config.unreferencedBlobQuota else { return false }
            uploading[did] = inFlight + reservation
            return true
        }
        guard admitted else {
            throw XRPCError.named(
                "BlobQuotaExceeded",
                "This account has \(pending) bytes of blobs no record references; at most \(config.unreferencedBlobQuota) are kept")
        }
        defer {
            uploading.withLock { uploading in
                let left = uploading[did, default: 0] - reservation
                uploading[did] = left > 0 ? left : nil
            }
        }
        let upload: BlobUpload
        do {
            upload = try await blobs.put(did: did, maxBytes: config.maxBlob, chunks: body.map { Array($0.readableBytesView) }) { head in
                MediaType.resolve(head: head, declared: mimeType)
            }
        } catch BlobUploadError.tooLarge(let limit) {
            throw XRPCError.payloadTooLarge(limit)
        } catch let error as StorageError {
            throw error
        } catch {
            throw XRPCError.invalidRequest("The upload body ended early: \(error)")
        }
        if let declared, declared != upload.size {
            throw XRPCError.invalidRequest("The upload body has \(upload.size) bytes, not the \(declared) of its Content-Length")
        }
        return upload
    }

    /// Deletes blobs left unreferenced past their lifetime, at most once every ten minutes.
    func collectOrphanBlobsIfDue(now: Date = Date()) {
        let due = lastOrphanSweep.withLock { last in
            guard now.timeIntervalSince(last) >= 600 else { return false }
            last = now
            return true
        }
        guard due else { return }
        let removed = blobs.collectOrphans(olderThan: now.addingTimeInterval(-config.orphanBlobLifetime))
        if removed > 0 { logger.info("deleted \(removed) blobs no record referenced") }
    }
}

import ATData
import ATSyntax
import Crypto
import Foundation

/// Blobs as files.
///
/// An upload streams to `<root>/.tmp/` while it is hashed, then becomes
/// `<root>/<did>/pending/<cid>`: uploaded, not yet referenced. The first
/// record that references it moves it to `<root>/<did>/<cid>` (see
/// ``claim(did:cid:)``). What is pending counts against the account's quota
/// and is deleted once older than the orphan lifetime (``collectOrphans(olderThan:)``).
/// The MIME type is kept beside each blob in `<cid>.type`. Files are
/// renamed into place, so a crash never leaves half a blob, and what a crash
/// leaves in `.tmp/` is deleted when the store opens.
public struct DiskBlobStore: BlobStore {
    /// The directory.
    public let root: URL
    private var temporary: URL { root.appendingPathComponent(".tmp") }

    /// Blobs under `root`, created if needed; unfinished uploads are deleted.
    public init(root: URL) throws {
        self.root = root
        let fileManager = FileManager.default
        try? fileManager.removeItem(at: root.appendingPathComponent(".tmp"))
        // Earlier versions staged beside the blob, as `<cid>.tmp-<uuid>`.
        for account in (try? fileManager.contentsOfDirectory(atPath: root.path)) ?? [] {
            let dir = root.appendingPathComponent(account)
            for name in (try? fileManager.contentsOfDirectory(atPath: dir.path)) ?? [] where name.contains(".tmp-") {
                try? fileManager.removeItem(at: dir.appendingPathComponent(name))
            }
        }
        try fileManager.createDirectory(at: root.appendingPathComponent(".tmp"), withIntermediateDirectories: true)
    }

    private func directory(_ did: DID) -> URL {
        root.appendingPathComponent(did.description.replacingOccurrences(of: ":", with: "_"))
    }

    private func pending(_ did: DID) -> URL { directory(did).appendingPathComponent("pending") }

    /// Where the blob is: claimed, else pending.
    private func file(did: DID, cid: CID) -> URL? {
        let claimed = directory(did).appendingPathComponent(cid.description)
        if FileManager.default.fileExists(atPath: claimed.path) { return claimed }
        let waiting = pending(did).appendingPathComponent(cid.description)
        return FileManager.default.fileExists(atPath: waiting.path) ? waiting : nil
    }

    public func put<Chunks: AsyncSequence>(
        did: DID, maxBytes: Int, chunks: Chunks, mimeType: ([UInt8]) -> String
    ) async throws -> BlobUpload where Chunks.Element == [UInt8] {
        let staging = temporary.appendingPathComponent(UUID().uuidString)
        guard FileManager.default.createFile(atPath: staging.path, contents: nil) else {
            throw StorageError(.io, "cannot write \(staging.path)")
        }
        var moved = false
        defer { if !moved { try? FileManager.default.removeItem(at: staging) } }
        let handle = try FileHandle(forWritingTo: staging)
        var hasher = SHA256()
        var size = 0
        var head = [UInt8]()
        do {
            for try await chunk in chunks {
                size += chunk.count
                guard size <= maxBytes else { throw BlobUploadError.tooLarge(maxBytes) }
                if head.count < MediaType.sniffLength { head += chunk.prefix(MediaType.sniffLength - head.count) }
                hasher.update(data: chunk)
                try handle.write(contentsOf: chunk)
            }
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            throw error
        }
        let digest = hasher.finalize()
        let cid = digest.withUnsafeBytes { CID(codec: .raw, sha256Digest: SHA256Digest($0)) }
        if let stored = try metadata(did: did, cid: cid) { return BlobUpload(cid: cid, size: size, mimeType: stored.mimeType) }
        let type = mimeType(head)
        let dir = pending(did)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Self.writeAtomically(Data(type.utf8), to: dir.appendingPathComponent(cid.description + ".type"), staging: temporary)
        try Self.replace(dir.appendingPathComponent(cid.description), with: staging)
        moved = true
        return BlobUpload(cid: cid, size: size, mimeType: type)
    }

    public func exists(did: DID, cid: CID) -> Bool { file(did: did, cid: cid) != nil }

    public func claim(did: DID, cid: CID) throws -> Bool {
        let claimed = directory(did).appendingPathComponent(cid.description)
        if FileManager.default.fileExists(atPath: claimed.path) { return true }
        let waiting = pending(did).appendingPathComponent(cid.description)
        do {
            if FileManager.default.fileExists(atPath: waiting.path + ".type") {
                try Self.replace(claimed.appendingPathExtension("type"), with: URL(fileURLWithPath: waiting.path + ".type"))
            }
            try FileManager.default.moveItem(at: waiting, to: claimed)
            return true
        } catch {
            return FileManager.default.fileExists(atPath: claimed.path)
        }
    }

    public func unreferencedBytes(did: DID) -> Int {
        let dir = pending(did)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { !$0.hasSuffix(".type") }.reduce(0) { total, name in
            let size = (try? FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent(name).path)[.size] as? Int) ?? 0
            return total + size
        }
    }

    public func collectOrphans(olderThan cutoff: Date) -> Int {
        let fileManager = FileManager.default
        var removed = 0
        for account in (try? fileManager.contentsOfDirectory(atPath: root.path)) ?? [] where account != ".tmp" {
            let dir = root.appendingPathComponent(account).appendingPathComponent("pending")
            for name in (try? fileManager.contentsOfDirectory(atPath: dir.path)) ?? [] where !name.hasSuffix(".type") {
                let path = dir.appendingPathComponent(name).path
                guard let modified = try? fileManager.attributesOfItem(atPath: path)[.modificationDate] as? Date, modified < cutoff else { continue }
                try? fileManager.removeItem(atPath: path)
                try? fileManager.removeItem(atPath: path + ".type")
                removed += 1
            }
        }
        return removed
    }

    public func deleteAll(did: DID) throws {
        let dir = directory(did)
        guard FileManager.default.fileExists(atPath: dir.path) else { return }
        // Renamed first, so that a crash halfway leaves no account directory that looks whole.
        let doomed = temporary.appendingPathComponent("deleted-" + UUID().uuidString)
        try Self.replace(doomed, with: dir)
        try FileManager.default.removeItem(at: doomed)
    }

    public func metadata(did: DID, cid: CID) throws -> (size: Int, mimeType: String)? {
        guard let file = file(did: did, cid: cid),
            let attributes = try? FileManager.default.attributesOfItem(atPath: file.path), let size = attributes[.size] as? Int
        else { return nil }
        let type = FileManager.default.contents(atPath: file.path + ".type").map { String(decoding: $0, as: UTF8.self) }
        return (size, type ?? "application/octet-stream")
    }

    public func read(did: DID, cid: CID, chunkSize: Int, _ body: ([UInt8]) async throws -> Void) async throws {
        guard let file = file(did: did, cid: cid) else { throw StorageError(.corrupt, "blob \(cid) of \(did) is gone") }
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        while let chunk = try handle.read(upToCount: chunkSize), !chunk.isEmpty {
            try await body([UInt8](chunk))
        }
    }

    /// Writes `data` to a new file in `staging`, then renames it to `url`.
    static func writeAtomically(_ data: Data, to url: URL, staging: URL) throws {
        let file = staging.appendingPathComponent(UUID().uuidString)
        guard FileManager.default.createFile(atPath: file.path, contents: data) else {
            throw StorageError(.io, "cannot write \(file.path)")
        }
        let handle = try FileHandle(forWritingTo: file)
        try handle.synchronize()
        try handle.close()
        try replace(url, with: file)
    }

    /// Renames `source` to `url` (rename(2): atomic, and it replaces what is there).
    static func replace(_ url: URL, with source: URL) throws {
        guard rename(source.path, url.path) == 0 else { throw StorageError(.io, "cannot rename \(source.path) to \(url.path): errno \(errno)") }
    }
}

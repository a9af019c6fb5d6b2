import ATData
import ATSyntax
import Foundation

/// Blobs as files: `<root>/<did>/<cid>`, with the MIME type beside each in
/// `<cid>.type`. Each file is written to a temporary name and renamed, so a
/// crash never leaves half a blob.
public struct DiskBlobStore: BlobStore {
    /// The directory.
    public let root: URL

    /// Blobs under `root`, created if needed.
    public init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    private func directory(_ did: DID) -> URL {
        root.appendingPathComponent(did.description.replacingOccurrences(of: ":", with: "_"))
    }

    public func put(did: DID, cid: CID, bytes: [UInt8], mimeType: String) throws {
        let dir = directory(did)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Self.writeAtomically(Data(bytes), to: dir.appendingPathComponent(cid.description))
        try Self.writeAtomically(Data(mimeType.utf8), to: dir.appendingPathComponent(cid.description + ".type"))
    }

    public func exists(did: DID, cid: CID) -> Bool {
        FileManager.default.fileExists(atPath: directory(did).appendingPathComponent(cid.description).path)
    }

    public func metadata(did: DID, cid: CID) throws -> (size: Int, mimeType: String)? {
        let file = directory(did).appendingPathComponent(cid.description)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: file.path), let size = attributes[.size] as? Int else {
            return nil
        }
        let type = FileManager.default.contents(atPath: file.path + ".type").map { String(decoding: $0, as: UTF8.self) }
        return (size, type ?? "application/octet-stream")
    }

    public func read(did: DID, cid: CID, chunkSize: Int, _ body: ([UInt8]) async throws -> Void) async throws {
        let handle = try FileHandle(forReadingFrom: directory(did).appendingPathComponent(cid.description))
        defer { try? handle.close() }
        while let chunk = try handle.read(upToCount: chunkSize), !chunk.isEmpty {
            try await body([UInt8](chunk))
        }
    }

    static func writeAtomically(_ data: Data, to url: URL) throws {
        let temporary = url.appendingPathExtension("tmp-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: temporary.path, contents: data) else {
            throw StorageError(.io, "cannot write \(temporary.path)")
        }
        let handle = try FileHandle(forWritingTo: temporary)
        try handle.synchronize()
        try handle.close()
        if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
        try FileManager.default.moveItem(at: temporary, to: url)
    }
}

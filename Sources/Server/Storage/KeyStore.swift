import ATCrypto
import ATSyntax
import Foundation

/// The server's secrets: the secret that signs its session tokens, its PLC
/// rotation key, and one repository signing key per account.
public protocol KeyStore: Sendable {
    /// The session-token secret (32 bytes), made on first use. Every process
    /// that shares the store gets the same one.
    func jwtSecret() async throws -> [UInt8]
    /// The server's PLC rotation key (K-256), made on first use; the same
    /// for every process that shares the store.
    func rotationKey() async throws -> any PrivateKey
    /// The signing key of `did`; ``StorageError/Code/corrupt`` when there is none.
    func signingKey(for did: DID) async throws -> any PrivateKey
    /// Stores the signing key of `did`, replacing any it had.
    func storeSigningKey(_ key: any PrivateKey, for did: DID) async throws
    /// Removes the signing key of a deleted account; nothing when it has none.
    func deleteSigningKey(for did: DID) async throws
}

/// Secrets in files under one directory, each readable by its owner only:
/// `jwt.secret`, `rotation.key`, and `keys/<did>.key` (multibase text).
///
/// A key is written to a temporary file, flushed to disk, then moved into
/// place, so that a crash leaves the old key or the new one, never part of
/// one. The secrets made on first use are linked into place only if no other
/// process got there first: processes that share the directory (on a
/// filesystem they all mount) agree on them.
public struct FileKeyStore: KeyStore {
    /// The directory.
    public let directory: URL

    /// The store in `directory`, which it creates (mode 0700) when missing.
    public init(directory: URL) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(
                at: directory.appendingPathComponent("keys"), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw StorageError(.io, "cannot create \(directory.path): \(error)")
        }
    }

    public func jwtSecret() throws -> [UInt8] {
        let file = directory.appendingPathComponent("jwt.secret")
        if let data = FileManager.default.contents(atPath: file.path), data.count == 32 { return [UInt8](data) }
        var generator = SystemRandomNumberGenerator()
        let fresh = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let kept = try create(Data(fresh), at: file)
        guard kept.count == 32 else { throw StorageError(.corrupt, "\(file.path) does not hold a 32-byte secret") }
        return [UInt8](kept)
    }

    public func rotationKey() throws -> any PrivateKey {
        let file = directory.appendingPathComponent("rotation.key")
        if let data = FileManager.default.contents(atPath: file.path) { return try Self.key(data, file) }
        return try Self.key(try create(Data(try Keys.generate(.k256).multibase.utf8), at: file), file)
    }

    public func signingKey(for did: DID) throws -> any PrivateKey {
        let file = keyFile(did)
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw StorageError(.corrupt, "the signing key of \(did) is missing")
        }
        return try Self.key(data, file)
    }

    public func storeSigningKey(_ key: any PrivateKey, for did: DID) throws {
        let file = keyFile(did)
        let temporary = try writeTemporary(Data(key.multibase.utf8), beside: file)
        guard rename(temporary.path, file.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary.path)
            throw StorageError(.io, "cannot move the signing key of \(did) into place: \(reason)")
        }
        try syncDirectory(of: file)
    }

    public func deleteSigningKey(for did: DID) throws {
        guard unlink(keyFile(did).path) == 0 || errno == ENOENT else {
            throw StorageError(.io, "cannot remove the signing key of \(did): \(String(cString: strerror(errno)))")
        }
    }

    private func keyFile(_ did: DID) -> URL {
        directory.appendingPathComponent("keys").appendingPathComponent(did.description.replacingOccurrences(of: ":", with: "_") + ".key")
    }

    private static func key(_ data: Data, _ file: URL) throws -> any PrivateKey {
        do {
            return try Keys.privateKey(multibase: String(decoding: data, as: UTF8.self))
        } catch {
            throw StorageError(.corrupt, "\(file.path) does not hold a private key: \(error)")
        }
    }

    /// Puts `data` at `file` unless it exists; returns what `file` then holds.
    private func create(_ data: Data, at file: URL) throws -> Data {
        let temporary = try writeTemporary(data, beside: file)
        defer { unlink(temporary.path) }
        if link(temporary.path, file.path) == 0 {
            try syncDirectory(of: file)
            return data
        }
        guard errno == EEXIST, let existing = FileManager.default.contents(atPath: file.path) else {
            throw StorageError(.io, "cannot create \(file.path): \(String(cString: strerror(errno)))")
        }
        return existing
    }

    /// Writes `data` to a new file (mode 0600) in `file`'s directory, flushed to disk.
    private func writeTemporary(_ data: Data, beside file: URL) throws -> URL {
        let temporary = file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).\(UUID().uuidString)")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StorageError(.io, "cannot write \(temporary.path): \(String(cString: strerror(errno)))") }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == data.count, synced else {
            unlink(temporary.path)
            throw StorageError(.io, "cannot write \(temporary.path)")
        }
        return temporary
    }

    /// Makes a new name in `file`'s directory durable.
    private func syncDirectory(of file: URL) throws {
        let fd = open(file.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw StorageError(.io, "cannot open \(file.deletingLastPathComponent().path)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw StorageError(.io, "cannot flush \(file.deletingLastPathComponent().path)") }
    }
}

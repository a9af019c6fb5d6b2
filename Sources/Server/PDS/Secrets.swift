import ATCrypto
import ATSyntax
import Foundation

/// The server's secrets on disk, each file readable by the owner only: the
/// JWT secret, the PLC rotation key, and one signing key per account.
struct Secrets: Sendable {
    let directory: URL

    init(directory: URL) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// The JWT secret, made on first use.
    func jwtSecret() throws -> [UInt8] {
        let file = directory.appendingPathComponent("jwt.secret")
        if let data = FileManager.default.contents(atPath: file.path), data.count == 32 { return [UInt8](data) }
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &generator) }
        try write(Data(bytes), to: file)
        return bytes
    }

    /// The PLC rotation key of the server, made on first use.
    func rotationKey() throws -> any PrivateKey {
        try key(at: directory.appendingPathComponent("rotation.key"))
    }

    /// The signing key of `did`.
    func signingKey(for did: DID) throws -> any PrivateKey {
        let file = keyFile(did)
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw StorageError(.corrupt, "the signing key of \(did) is missing")
        }
        return try Keys.privateKey(multibase: String(decoding: data, as: UTF8.self))
    }

    /// Stores a new account's signing key.
    func storeSigningKey(_ key: any PrivateKey, for did: DID) throws {
        try write(Data(key.multibase.utf8), to: keyFile(did))
    }

    /// Removes a deleted account's signing key.
    func deleteSigningKey(for did: DID) throws {
        let file = keyFile(did)
        if FileManager.default.fileExists(atPath: file.path) { try FileManager.default.removeItem(at: file) }
    }

    private func keyFile(_ did: DID) -> URL {
        directory.appendingPathComponent("keys").appendingPathComponent(did.description.replacingOccurrences(of: ":", with: "_") + ".key")
    }

    private func key(at file: URL) throws -> any PrivateKey {
        if let data = FileManager.default.contents(atPath: file.path) {
            return try Keys.privateKey(multibase: String(decoding: data, as: UTF8.self))
        }
        let key = try Keys.generate(.k256)
        try write(Data(key.multibase.utf8), to: file)
        return key
    }

    private func write(_ data: Data, to file: URL) throws {
        try FileManager.default.createDirectory(
            at: file.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard FileManager.default.createFile(atPath: file.path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw StorageError(.io, "cannot write \(file.path)")
        }
    }
}

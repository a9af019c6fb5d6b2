import ATCrypto
import ATSyntax
import Foundation
import Server
import Testing

/// The file-backed key store: secrets made once even when several processes
/// race for them, keys replaced whole, and typed errors for what is missing
/// or damaged.
@Suite("File key store")
struct FileKeyStoreTests {
    func directory() -> URL { FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID())") }

    @Test func secretsMadeOnFirstUseAreTheSameForEveryStoreOfTheDirectory() async throws {
        let dir = directory()
        // Stores of one directory stand for processes that share it.
        let stores = try (0..<8).map { _ in try FileKeyStore(directory: dir) }
        let (secrets, rotations) = try await withThrowingTaskGroup(of: ([UInt8], String).self) { group in
            for store in stores {
                group.addTask { (try await store.jwtSecret(), try await store.rotationKey().multibase) }
            }
            return try await group.reduce(into: ([[UInt8]](), [String]())) { $0.0.append($1.0); $0.1.append($1.1) }
        }
        #expect(Set(secrets).count == 1 && secrets[0].count == 32)
        #expect(Set(rotations).count == 1)
        #expect(try await FileKeyStore(directory: dir).jwtSecret() == secrets[0])
        // Only the owner may read them, and no temporary file is left behind.
        let attributes = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("jwt.secret").path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["jwt.secret", "keys", "rotation.key"])
    }

    @Test func signingKeysAreStoredReplacedAndDeleted() async throws {
        let store = try FileKeyStore(directory: directory())
        let did = try DID("did:plc:aliceaaaaaaaaaaaaaaaaaaa")
        let missing = await #expect(throws: StorageError.self) { try await store.signingKey(for: did) }
        #expect(missing?.code == .corrupt)
        let first = try Keys.generate(.k256), second = try Keys.generate(.p256)
        try await store.storeSigningKey(first, for: did)
        #expect(try await store.signingKey(for: did).multibase == first.multibase)
        try await store.storeSigningKey(second, for: did)
        #expect(try await store.signingKey(for: did).multibase == second.multibase)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.directory.appendingPathComponent("keys").path).count == 1)
        try await store.deleteSigningKey(for: did)
        try await store.deleteSigningKey(for: did)
        await #expect(throws: StorageError.self) { try await store.signingKey(for: did) }
    }

    @Test func aDamagedKeyFileIsReportedAsCorrupt() async throws {
        let store = try FileKeyStore(directory: directory())
        try Data("not a key".utf8).write(to: store.directory.appendingPathComponent("rotation.key"))
        let error = await #expect(throws: StorageError.self) { try await store.rotationKey() }
        #expect(error?.code == .corrupt)
        try Data([1, 2, 3]).write(to: store.directory.appendingPathComponent("jwt.secret"))
        await #expect(throws: StorageError.self) { try await store.jwtSecret() }
    }
}

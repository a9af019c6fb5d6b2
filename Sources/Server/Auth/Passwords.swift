import Crypto
import Foundation
import HummingbirdBcrypt
import NIOPosix
import Synchronization

/// Password hashing with bcrypt, off the concurrency pool (on NIO's thread
/// pool), so that a burst of logins cannot stall other requests.
///
/// bcrypt reads at most 72 bytes and stops at a NUL. So a password is
/// pre-hashed (SHA-256, base64: 44 bytes) before bcrypt, which makes every
/// byte count; stored hashes say so with the prefix `sha256:`. Hashes
/// without it (made before) are checked as they were made. Passwords with a
/// NUL, and longer than 256 bytes, are refused (``validate(_:)``).
public struct PasswordHasher: Sendable {
    /// The bcrypt cost (log2 of the rounds).
    public var cost: UInt8
    /// A hash of no password, which unknown accounts are checked against so
    /// that a login takes as long whether the account exists or not.
    private let decoy: String
    private let runs = Runs()
    private static let prefix = "sha256:"

    /// How many bcrypt computations this hasher has run (hashes and checks).
    public var bcryptRuns: Int { runs.count.load(ordering: .relaxed) }

    private final class Runs: Sendable {
        let count = Atomic<Int>(0)
    }

    /// A hasher with `cost` (10 by default: about 60 ms a hash here).
    public init(cost: UInt8 = 10) {
        self.cost = min(max(cost, 4), 31)
        decoy = Self.prefix + Bcrypt.hash(UUID().uuidString, cost: self.cost)
    }

    /// Why a password cannot be used, or `nil`.
    public static func validate(_ password: String) -> String? {
        if password.isEmpty { return "the password is empty" }
        if password.utf8.contains(0) { return "the password contains a NUL character" }
        if password.utf8.count > 256 { return "the password is longer than 256 bytes" }
        return nil
    }

    /// The hash of `password`, salted.
    public func hash(_ password: String) async throws -> String {
        let (cost, input) = (cost, Self.prehash(password))
        runs.count.add(1, ordering: .relaxed)
        return try await NIOThreadPool.singleton.runIfActive { Self.prefix + Bcrypt.hash(input, cost: cost) }
    }

    /// Whether `password` matches `hash`; with no hash (an unknown
    /// account), the same work is done and the answer is `false`.
    public func verify(_ password: String, hash: String?) async -> Bool {
        let stored = hash ?? decoy
        guard !password.utf8.contains(0) else { return false }
        let input = stored.hasPrefix(Self.prefix) ? Self.prehash(password) : password
        let bcrypt = stored.hasPrefix(Self.prefix) ? String(stored.dropFirst(Self.prefix.count)) : stored
        runs.count.add(1, ordering: .relaxed)
        let matches = (try? await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(input, hash: bcrypt) }) ?? false
        return matches && hash != nil
    }

    private static func prehash(_ password: String) -> String {
        Data(SHA256.hash(data: Data(password.utf8))).base64EncodedString()
    }
}

import HummingbirdBcrypt

/// Password hashing with bcrypt.
public struct PasswordHasher: Sendable {
    /// The bcrypt cost (log2 of the rounds).
    public var cost: UInt8

    /// A hasher with `cost` (10 by default: about 60 ms a hash here).
    public init(cost: UInt8 = 10) {
        self.cost = min(max(cost, 4), 31)
    }

    /// The hash of `password`, salted.
    public func hash(_ password: String) -> String {
        Bcrypt.hash(password, cost: cost)
    }

    /// Whether `password` matches `hash`.
    public func verify(_ password: String, hash: String) -> Bool {
        Bcrypt.verify(password, hash: hash)
    }
}

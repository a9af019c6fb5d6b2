import ATData

extension MST {
    /// The layer of `key`: the leading zero bits of its SHA-256, halved and
    /// rounded down (a fanout of 4).
    public static func layer(of key: [UInt8]) -> Int {
        key.withUnsafeBytes { SHA256Digest(hashing: $0).leadingZeroBitCount / 2 }
    }

    /// The layer of a string key.
    public static func layer(of key: String) -> Int { layer(of: Array(key.utf8)) }
}

import ATSyntax

/// A record's place in a repository: `collection/rkey`, the MST key.
public struct RepoPath: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The collection NSID.
    public let collection: NSID
    /// The record key.
    public let recordKey: RecordKey

    /// A path from its parts.
    public init(collection: NSID, recordKey: RecordKey) {
        self.collection = collection
        self.recordKey = recordKey
    }

    /// Parses an MST key, `collection/rkey`.
    public init(_ key: [UInt8]) throws(RepoError) {
        let text = String(decoding: key, as: UTF8.self)
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, Array(text.utf8) == key else {
            throw RepoError(.invalidKey, "'\(text)' is not a collection/rkey path")
        }
        do {
            collection = try NSID(String(parts[0]))
            recordKey = try RecordKey(String(parts[1]))
        } catch {
            throw RepoError(.invalidKey, "'\(text)': \(error)")
        }
    }

    /// The MST key bytes.
    public var key: [UInt8] { Array(description.utf8) }

    public var description: String { "\(collection)/\(recordKey)" }

    public static func < (lhs: RepoPath, rhs: RepoPath) -> Bool { lhs.key.lexicographicallyPrecedes(rhs.key) }
}

import ATSyntax
import Foundation

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

    /// Checks that `key` is a valid `collection/rkey` path without building a
    /// `RepoPath`. `collections` remembers collection prefixes already
    /// checked, since a repository holds few of them.
    static func validate(_ key: [UInt8], collections: inout KnownCollections) throws(RepoError) {
        try validate(key[...], collections: &collections)
    }

    /// The same, for a key that is a slice of a larger buffer.
    static func validate(_ key: ArraySlice<UInt8>, collections: inout KnownCollections) throws(RepoError) {
        guard let slash = key.firstIndex(of: 0x2F), slash > key.startIndex, slash < key.endIndex - 1, slash + 1 + 512 >= key.endIndex else {
            throw RepoError(.invalidKey, "'\(String(decoding: key, as: UTF8.self))' is not a collection/rkey path")
        }
        let collection = key[..<slash]
        if !collections.contains(collection) {
            guard (try? NSID(String(decoding: collection, as: UTF8.self))) != nil else {
                throw RepoError(.invalidKey, "'\(String(decoding: key, as: UTF8.self))': the collection is not an NSID")
            }
            collections.insert(collection)
        }
        let rkey = key[(slash + 1)...]
        for c in rkey {
            let ok = (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39)
                || c == 0x2E || c == 0x2D || c == 0x5F || c == 0x3A || c == 0x7E
            guard ok else { throw RepoError(.invalidKey, "'\(String(decoding: key, as: UTF8.self))': bad record key character") }
        }
        if rkey.elementsEqual([0x2E]) || rkey.elementsEqual([0x2E, 0x2E]) {
            throw RepoError(.invalidKey, "'.' and '..' are not record keys")
        }
    }

    /// The MST key bytes.
    public var key: [UInt8] { Array(description.utf8) }

    public var description: String { "\(collection)/\(recordKey)" }

    public static func < (lhs: RepoPath, rhs: RepoPath) -> Bool { KeyOrder.precedes(lhs.key, rhs.key) }
}

/// The collection NSIDs already checked, for code that checks many keys.
struct KnownCollections {
    /// The first few known, in the order met: a repository has few
    /// collections, and a scan with `memcmp` beats hashing a key byte by
    /// byte. The one last found is tried first: keys often come sorted.
    private var few: [ArraySlice<UInt8>] = []
    private var last = 0
    private var all = Set<ArraySlice<UInt8>>()
    private static let scanned = 16

    mutating func contains(_ collection: ArraySlice<UInt8>) -> Bool {
        let found = collection.withUnsafeBytes { b -> Int? in
            func matches(_ known: ArraySlice<UInt8>) -> Bool {
                known.count == b.count && known.withUnsafeBytes { a in memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 }
            }
            if last < few.count, matches(few[last]) { return last }
            return few.firstIndex(where: matches)
        }
        if let found {
            last = found
            return true
        }
        return few.count == Self.scanned && all.contains(collection)
    }

    mutating func insert(_ collection: ArraySlice<UInt8>) {
        // A copy: the one asked about may be a caller's buffer that changes next.
        let copy = Array(collection)[...]
        if few.count < Self.scanned { few.append(copy) } else { all.insert(copy) }
    }
}

/// An `at://` URI that names a repository, a collection, or a record.
///
/// This is the restricted form used in records and APIs:
/// `at://<authority>[/<collection>[/<record key>]]`, with no query, fragment or
/// trailing slash, 8 KiB at most.
public struct ATURI: SyntaxValue {
    /// The repository: a DID or a handle.
    public let authority: ATIdentifier
    /// The collection NSID, if present.
    public let collection: NSID?
    /// The record key, if present.
    public let recordKey: RecordKey?

    /// The longest AT-URI accepted, in bytes.
    public static let maxLength = 8192

    /// Parses and validates `string`.
    public init(_ string: String) throws(SyntaxError) {
        func fail(_ code: SyntaxError.Code, _ message: String) -> SyntaxError {
            SyntaxError("ATURI", code, message)
        }
        guard !string.isEmpty else { throw fail(.empty, "empty string") }
        guard string.utf8.count <= Self.maxLength else { throw fail(.tooLong, "longer than \(Self.maxLength) bytes") }
        guard string.hasPrefix("at://") else { throw fail(.invalidStructure, "must start with 'at://'") }
        // Split on the UTF-8 bytes: '/' is ASCII, so the pieces are whole characters.
        let parts = string.utf8.dropFirst(5).split(separator: ASCII.slash, maxSplits: 3, omittingEmptySubsequences: false).map { Substring($0) }
        guard parts.count <= 3 else { throw fail(.invalidStructure, "too many path segments") }
        do {
            authority = try ATIdentifier(String(parts[0]))
            collection = parts.count > 1 ? try NSID(String(parts[1])) : nil
            recordKey = parts.count > 2 ? try RecordKey(String(parts[2])) : nil
        } catch {
            throw fail(error.code, "\(error.type): \(error.message)")
        }
    }

    /// The AT-URI of a repository, or of a collection in it.
    public init(authority: ATIdentifier, collection: NSID? = nil) {
        self.authority = authority
        self.collection = collection
        self.recordKey = nil
    }

    /// The AT-URI of a record.
    public init(authority: ATIdentifier, collection: NSID, recordKey: RecordKey) {
        self.authority = authority
        self.collection = collection
        self.recordKey = recordKey
    }

    public var description: String {
        var s = "at://" + authority.description
        if let collection { s += "/" + collection.description }
        if let recordKey { s += "/" + recordKey.description }
        return s
    }
}

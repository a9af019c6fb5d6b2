/// An `at://` URI that names a repository, a collection, or a record.
///
/// This is the restricted form used in records and APIs:
/// `at://<authority>[/<collection>[/<record key>]]`, with no query, fragment or
/// trailing slash, 8 KiB at most.
public struct ATURI: SyntaxValue {
    /// The URI as it was parsed, or as built.
    public let description: String
    /// Byte offsets in `description`: where the authority ends, and where the
    /// collection ends (`nil` when absent); a record key follows when
    /// `collectionEnd` is before the end. Kept instead of the parts, so that
    /// parsing allocates nothing.
    private let authorityEnd: Int
    private let collectionEnd: Int?
    private let nameLength: Int
    private let methodLength: Int

    /// The longest AT-URI accepted, in bytes.
    public static let maxLength = 8192

    /// Parses and validates `string`.
    public init(_ string: String) throws(SyntaxError) {
        func fail(_ code: SyntaxError.Code, _ message: String) -> SyntaxError {
            SyntaxError("ATURI", code, message)
        }
        let parsed = try ASCII.withBytes(string) { (bytes) throws(SyntaxError) -> (Int, Int?, Int, Int, Bool) in
            guard !bytes.isEmpty else { throw fail(.empty, "empty string") }
            guard bytes.count <= Self.maxLength else { throw fail(.tooLong, "longer than \(Self.maxLength) bytes") }
            guard ASCII.hasPrefix(bytes, "at://") else { throw fail(.invalidStructure, "must start with 'at://'") }
            var firstSlash: Int? = nil, secondSlash: Int? = nil
            for i in 5..<bytes.count where bytes[i] == ASCII.slash {
                if firstSlash == nil { firstSlash = i } else if secondSlash == nil { secondSlash = i } else {
                    throw fail(.invalidStructure, "too many path segments")
                }
            }
            let authorityEnd = firstSlash ?? bytes.count
            let authority = UnsafeBufferPointer(rebasing: bytes[5..<authorityEnd])
            var methodLength = 0
            let isDID = ASCII.hasPrefix(authority, "did:")
            do throws(SyntaxError) {
                if isDID {
                    methodLength = try DID.validate(authority)
                } else {
                    _ = try Handle.validate(authority)
                }
                var collectionEnd: Int? = nil
                var nameLength = 0
                if let first = firstSlash {
                    let end = secondSlash ?? bytes.count
                    nameLength = try NSID.validate(UnsafeBufferPointer(rebasing: bytes[(first + 1)..<end]))
                    collectionEnd = end
                    if secondSlash != nil { try RecordKey.validate(UnsafeBufferPointer(rebasing: bytes[(end + 1)...])) }
                }
                let lowercase = isDID || !authority.contains(where: ASCII.isUpper)
                return (authorityEnd, collectionEnd, nameLength, methodLength, lowercase)
            } catch {
                throw fail(error.code, "\(error.type): \(error.message)")
            }
        }
        // A handle authority is kept lowercased, as `Handle` keeps it.
        self.description = parsed.4
            ? string
            : String(decoding: string.utf8.enumerated().map { $0.offset < parsed.0 && ASCII.isUpper($0.element) ? $0.element + 0x20 : $0.element }, as: UTF8.self)
        (authorityEnd, collectionEnd, nameLength, methodLength, _) = parsed
    }

    /// The AT-URI of a repository, or of a collection in it.
    public init(authority: ATIdentifier, collection: NSID? = nil) {
        self.init(authority: authority, collection: collection, key: nil)
    }

    /// The AT-URI of a record.
    public init(authority: ATIdentifier, collection: NSID, recordKey: RecordKey) {
        self.init(authority: authority, collection: collection, key: recordKey)
    }

    private init(authority: ATIdentifier, collection: NSID?, key: RecordKey?) {
        var s = "at://" + authority.description
        authorityEnd = s.utf8.count
        methodLength = authority.did.map { $0.method.utf8.count } ?? 0
        if let collection { s += "/" + collection.description }
        collectionEnd = collection == nil ? nil : s.utf8.count
        nameLength = collection?.name.utf8.count ?? 0
        if let key { s += "/" + key.description }
        description = s
    }

    private func piece(_ range: Range<Int>) -> String {
        let utf8 = description.utf8
        return String(Substring(utf8[utf8.index(utf8.startIndex, offsetBy: range.lowerBound)..<utf8.index(utf8.startIndex, offsetBy: range.upperBound)]))
    }

    /// The repository: a DID or a handle.
    public var authority: ATIdentifier {
        let text = piece(5..<authorityEnd)
        return methodLength > 0 ? .did(DID(validated: text, methodLength: methodLength)) : .handle(Handle(validated: text))
    }

    /// The collection NSID, if present.
    public var collection: NSID? {
        collectionEnd.map { NSID(validated: piece((authorityEnd + 1)..<$0), nameLength: nameLength) }
    }

    /// The record key, if present.
    public var recordKey: RecordKey? {
        guard let collectionEnd, collectionEnd < description.utf8.count else { return nil }
        return RecordKey(validated: piece((collectionEnd + 1)..<description.utf8.count))
    }
}

import ATData
import ATProtoAPI
import ATSyntax

/// How a server judged a record against its lexicon. Open: any other value is
/// kept as it came.
public enum ValidationStatus: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The record matched its lexicon.
    case valid
    /// The server does not know the lexicon.
    case unknown
    /// Any other status, as sent.
    case other(String)

    /// The status named `rawValue`.
    public init(rawValue: String) {
        switch rawValue {
        case "valid": self = .valid
        case "unknown": self = .unknown
        default: self = .other(rawValue)
        }
    }

    /// The status as sent.
    public var rawValue: String {
        switch self {
        case .valid: "valid"
        case .unknown: "unknown"
        case .other(let s): s
        }
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// What `putRecord` and `createRecord` return.
public struct RecordWriteOutput: Sendable, Hashable, Codable {
    /// The record's `at://` URI.
    public var uri: ATURI
    /// The record's CID.
    public var cid: CID
    /// The commit that wrote it, when the server says.
    public var commit: CommitRef?
    /// The lexicon validation result, when the server says.
    public var validationStatus: ValidationStatus?
}

/// What `deleteRecord` returns.
public struct RecordDeleteOutput: Sendable, Hashable, Codable {
    /// The commit that deleted it, when the server says.
    public var commit: CommitRef?
}

/// The expected current state of a record, for a compare-and-swap write.
public enum RecordSwap: Sendable, Hashable {
    /// The record must not exist yet (`swapRecord: null`).
    case absent
    /// The record's current CID must be this.
    case cid(CID)
}

/// A record as `getRecord` and `listRecords` return it.
public struct RecordEntry: Sendable, Hashable {
    /// The record's `at://` URI.
    public var uri: ATURI
    /// The record's CID, when the server gave it.
    public var cid: CID?
    /// The record, in the atproto data model.
    public var value: DataValue

    /// The record as a `Decodable` type, read as DAG-CBOR data-model values
    /// (links as `CID`, bytes as `[UInt8]`).
    public func value<T: Decodable>(as type: T.Type) throws -> T {
        try DAGCBORDecoder().decode(T.self, from: value)
    }
}

/// One page of `com.atproto.repo.listRecords`.
public struct RecordPage: Sendable, Hashable {
    /// The records.
    public var records: [RecordEntry]
    /// Where the next page starts, if there is one.
    public var cursor: String?
}

/// A write of `com.atproto.repo.applyWrites`.
public enum RepoWrite: Sendable, Hashable {
    /// Creates a record; the server picks a TID key when `rkey` is `nil`.
    case create(collection: NSID, rkey: RecordKey?, value: DataValue)
    /// Replaces a record.
    case update(collection: NSID, rkey: RecordKey, value: DataValue)
    /// Deletes a record.
    case delete(collection: NSID, rkey: RecordKey)

    /// The write as the generated union member.
    var generated: Com.Atproto.Repo.ApplyWrites.Input.WritesItem {
        switch self {
        case .create(let collection, let rkey, let value): .create(.init(collection: collection, rkey: rkey, value: value))
        case .update(let collection, let rkey, let value): .update(.init(collection: collection, rkey: rkey, value: value))
        case .delete(let collection, let rkey): .delete(.init(collection: collection, rkey: rkey))
        }
    }
}

/// What `applyWrites` returns.
public struct ApplyWritesOutput: Sendable, Hashable {
    /// The commit, when the server says.
    public var commit: CommitRef?
    /// One result per write, in order.
    public var results: [Result]

    /// The result of one write.
    public enum Result: Sendable, Hashable {
        /// A created record.
        case create(uri: ATURI, cid: CID, validationStatus: ValidationStatus?)
        /// An updated record.
        case update(uri: ATURI, cid: CID, validationStatus: ValidationStatus?)
        /// A deleted record.
        case delete
    }
}

/// What `describeRepo` returns.
public struct RepoDescription: Sendable, Hashable {
    /// The account's handle.
    public var handle: String
    /// The account.
    public var did: DID
    /// The DID document, as sent.
    public var didDoc: DataValue
    /// The collections the repository has records in.
    public var collections: [String]
    /// Whether the handle resolves back to the DID.
    public var handleIsCorrect: Bool
}

/// A blob reference, as `uploadBlob` returns it and records embed it.
public struct BlobRef: Sendable, Hashable {
    /// The blob's CID (raw codec).
    public var ref: CID
    /// Its MIME type.
    public var mimeType: String
    /// Its size in bytes.
    public var size: Int

    /// A reference with these fields.
    public init(ref: CID, mimeType: String, size: Int) {
        self.ref = ref
        self.mimeType = mimeType
        self.size = size
    }

    /// The reference as a data-model value, ready to go into a record.
    public var dataValue: DataValue {
        ["$type": "blob", "ref": .link(ref), "mimeType": .string(mimeType), "size": .int(Int64(size))]
    }
}

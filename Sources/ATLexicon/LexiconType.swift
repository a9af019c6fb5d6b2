import ATData

/// A schema in a lexicon: one field type, or one of the primary types.
public indirect enum LexiconType: Sendable {
    case boolean(const: Bool?, default: Bool?)
    case integer(Integer)
    case string(StringType)
    case bytes(minLength: Int?, maxLength: Int?)
    case cidLink
    case blob(accept: [String]?, maxSize: Int?)
    case unknown
    case array(items: LexiconType, minLength: Int?, maxLength: Int?)
    case object(Object)
    /// A reference to another definition: `nsid#name`, `#name` (resolved when parsed), or `nsid` (its `main`).
    case ref(String)
    case union(refs: [String], closed: Bool)
    case token
    case record(key: String, record: Object)
    /// A query or procedure; the parameters and bodies are kept as given.
    case query(DataValue)
    case procedure(DataValue)
    case subscription(DataValue)
    case permissionSet(DataValue)
    case params(Object)

    /// Integer constraints.
    public struct Integer: Sendable {
        public var minimum: Int64?
        public var maximum: Int64?
        public var allowed: [Int64]?
        public var const: Int64?
        public var `default`: Int64?
    }

    /// String constraints.
    public struct StringType: Sendable {
        public var format: String?
        public var minLength: Int?
        public var maxLength: Int?
        public var minGraphemes: Int?
        public var maxGraphemes: Int?
        public var allowed: [String]?
        public var const: String?
        public var knownValues: [String]?
    }

    /// Object properties.
    public struct Object: Sendable {
        public var properties: [String: LexiconType]
        public var required: [String]
        public var nullable: [String]
    }

    /// The name of the type, as written in lexicons.
    public var name: String {
        switch self {
        case .boolean: "boolean"
        case .integer: "integer"
        case .string: "string"
        case .bytes: "bytes"
        case .cidLink: "cid-link"
        case .blob: "blob"
        case .unknown: "unknown"
        case .array: "array"
        case .object: "object"
        case .ref: "ref"
        case .union: "union"
        case .token: "token"
        case .record: "record"
        case .query: "query"
        case .procedure: "procedure"
        case .subscription: "subscription"
        case .permissionSet: "permission-set"
        case .params: "params"
        }
    }
}

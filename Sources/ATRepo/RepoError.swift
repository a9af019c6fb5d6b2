import ATData

/// The error thrown by ATRepo: a tree, commit or repository that is malformed,
/// inconsistent or incomplete.
///
/// Branch on ``code``; ``message`` says where.
public struct RepoError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of problem was found. The set of codes may grow.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name.
        public let rawValue: String
        /// A code with the given name.
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// An MST node's bytes do not hash to its CID.
        public static let nodeHashMismatch = Code("nodeHashMismatch")
        /// A record's bytes do not hash to its CID.
        public static let recordHashMismatch = Code("recordHashMismatch")
        /// A commit's bytes do not hash to its CID.
        public static let commitHashMismatch = Code("commitHashMismatch")
        /// A block the structure links to is not available.
        public static let missingBlock = Code("missingBlock")
        /// A block is not valid DAG-CBOR, or does not have the shape of its kind.
        public static let malformedBlock = Code("malformedBlock")
        /// MST keys are out of order, or fall outside their subtree's range.
        public static let keyOrder = Code("keyOrder")
        /// An MST key sits in a node of the wrong layer, or a subtree skips a layer.
        public static let wrongLayer = Code("wrongLayer")
        /// An MST entry's prefix length is not the shared prefix with the previous key.
        public static let nonCanonicalPrefix = Code("nonCanonicalPrefix")
        /// An MST node is empty where the spec does not allow it.
        public static let emptyNode = Code("emptyNode")
        /// A link that must be a CIDv1 dag-cbor SHA-256 is not.
        public static let nonBlessedCID = Code("nonBlessedCID")
        /// A key is not a valid repository path, or is empty.
        public static let invalidKey = Code("invalidKey")
        /// A key was not found where it must exist.
        public static let keyNotFound = Code("keyNotFound")
        /// A key already exists where it must not.
        public static let keyExists = Code("keyExists")
        /// A commit names another account than the one expected.
        public static let didMismatch = Code("didMismatch")
    }

    /// What went wrong.
    public let code: Code
    /// A human-readable explanation.
    public let message: String
    /// The block in question, for ``Code/missingBlock``.
    public let cid: CID?

    /// An error with a code and a message.
    public init(_ code: Code, _ message: String, cid: CID? = nil) {
        self.code = code
        self.message = message
        self.cid = cid
    }

    public var description: String { "\(code): \(message)" }
}

/// The error thrown by ATCrypto.
///
/// Branch on ``code``; ``message`` is for people.
public struct CryptoError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of problem was found. The set of codes may grow.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name.
        public let rawValue: String
        /// A code with the given name.
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Key bytes that are not a valid key for the curve.
        public static let invalidKey = Code("invalidKey")
        /// A `did:key` or multibase string that is malformed or names an unsupported key type.
        public static let invalidDIDKey = Code("invalidDIDKey")
        /// A signature that is not 64 bytes of `r || s` (DER is not accepted).
        public static let invalidSignatureFormat = Code("invalidSignatureFormat")
        /// A signature whose `s` is in the upper half of the curve order.
        public static let highS = Code("highS")
        /// A well-formed signature that does not verify.
        public static let badSignature = Code("badSignature")
        /// The cryptographic library failed.
        public static let internalFailure = Code("internalFailure")
    }

    /// What went wrong.
    public let code: Code
    /// A human-readable explanation.
    public let message: String

    /// An error with a code and a message.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

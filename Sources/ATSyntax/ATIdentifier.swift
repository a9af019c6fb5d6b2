/// An account identifier that is either a DID or a handle, as in an AT-URI authority.
public enum ATIdentifier: SyntaxValue, Comparable {
    /// A DID.
    case did(DID)
    /// A handle.
    case handle(Handle)

    /// Parses a DID when `string` starts with `did:`, a handle otherwise.
    public init(_ string: String) throws(SyntaxError) {
        if string.hasPrefix("did:") {
            self = .did(try DID(string))
        } else {
            do {
                self = .handle(try Handle(string))
            } catch {
                throw SyntaxError("ATIdentifier", error.code, error.message)
            }
        }
    }

    public var description: String {
        switch self {
        case .did(let did): did.description
        case .handle(let handle): handle.description
        }
    }

    /// The DID, when this identifier is one.
    public var did: DID? {
        if case .did(let did) = self { did } else { nil }
    }

    /// The handle, when this identifier is one.
    public var handle: Handle? {
        if case .handle(let handle) = self { handle } else { nil }
    }

    public static func < (lhs: ATIdentifier, rhs: ATIdentifier) -> Bool { lhs.description < rhs.description }
}

import ATSyntax

/// A logged-in session: `createSession`, `refreshSession` and `createAccount`
/// return one. `Codable`, so that it can be stored.
public struct SessionInfo: Sendable, Hashable, Codable {
    /// The short-lived token for requests.
    public var accessJwt: String
    /// The long-lived token that gets new access tokens.
    public var refreshJwt: String
    /// The account's handle.
    public var handle: String
    /// The account.
    public var did: DID
    /// The account's email, when the server shares it.
    public var email: String?
    /// Whether the account is active.
    public var active: Bool?
    /// Why it is not, when it is not.
    public var status: String?

    /// A session with these fields.
    public init(accessJwt: String, refreshJwt: String, handle: String, did: DID, email: String? = nil, active: Bool? = nil, status: String? = nil) {
        self.accessJwt = accessJwt
        self.refreshJwt = refreshJwt
        self.handle = handle
        self.did = did
        self.email = email
        self.active = active
        self.status = status
    }
}

/// `com.atproto.server.getSession`'s output: who the bearer is.
public struct SessionStatus: Sendable, Hashable, Codable {
    /// The account's handle.
    public var handle: String
    /// The account.
    public var did: DID
    /// The account's email, when the server shares it.
    public var email: String?
    /// Whether the account is active.
    public var active: Bool?
    /// Why it is not, when it is not.
    public var status: String?
}

/// `com.atproto.server.describeServer`'s output.
public struct ServerDescription: Sendable, Hashable, Codable {
    /// The server's DID.
    public var did: DID
    /// The domains under which it gives out handles.
    public var availableUserDomains: [String]
    /// Whether signing up needs an invite code.
    public var inviteCodeRequired: Bool?
    /// Whether signing up needs a phone number.
    public var phoneVerificationRequired: Bool?
    /// Policy links.
    public var links: Links?

    /// The server's policy links.
    public struct Links: Sendable, Hashable, Codable {
        /// The privacy policy.
        public var privacyPolicy: String?
        /// The terms of service.
        public var termsOfService: String?
    }
}

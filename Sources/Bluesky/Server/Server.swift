import ATData
import ATProtoAPI
import ATSyntax
import HTTPTypes

extension Bluesky {
    /// The `com.atproto.server.*` endpoints: accounts and sessions. Thin
    /// wrappers over the generated `com.atproto.server` methods.
    public struct Server: Sendable {
        let client: Bluesky

        private var api: Bluesky.ComAtprotoServerAPI { client.com.atproto.server }

        /// `com.atproto.server.createSession`: logs in with a handle (or DID,
        /// or email) and a password. See ``Session`` for a session that refreshes itself.
        public func createSession(
            identifier: String, password: String, authFactorToken: String? = nil, options: CallOptions = .init()
        ) async throws(BlueskyError) -> SessionInfo {
            let s = try await api.createSession(identifier: identifier, password: password, authFactorToken: authFactorToken, options: options)
            return SessionInfo(
                accessJwt: s.accessJwt, refreshJwt: s.refreshJwt, handle: s.handle.description, did: s.did, email: s.email, active: s.active,
                status: s.status)
        }

        /// `com.atproto.server.refreshSession`: new tokens for a refresh token.
        public func refreshSession(refreshToken: String, options: CallOptions = .init()) async throws(BlueskyError) -> SessionInfo {
            var options = options
            options.headers[.authorization] = "Bearer \(refreshToken)"
            let s = try await api.refreshSession(options: options)
            return SessionInfo(
                accessJwt: s.accessJwt, refreshJwt: s.refreshJwt, handle: s.handle.description, did: s.did, email: s.email, active: s.active,
                status: s.status)
        }

        /// `com.atproto.server.deleteSession`: ends the session of a refresh token.
        public func deleteSession(refreshToken: String, options: CallOptions = .init()) async throws(BlueskyError) {
            var options = options
            options.headers[.authorization] = "Bearer \(refreshToken)"
            try await api.deleteSession(options: options)
        }

        /// `com.atproto.server.getSession`: who the bearer is.
        public func getSession(options: CallOptions = .init()) async throws(BlueskyError) -> SessionStatus {
            let s = try await api.getSession(options: options)
            return SessionStatus(handle: s.handle.description, did: s.did, email: s.email, active: s.active, status: s.status)
        }

        /// `com.atproto.server.createAccount`: a new account, logged in.
        public func createAccount(
            handle: Handle, email: String? = nil, password: String? = nil, inviteCode: String? = nil, did: DID? = nil,
            options: CallOptions = .init()
        ) async throws(BlueskyError) -> SessionInfo {
            let s = try await api.createAccount(email: email, handle: handle, did: did, inviteCode: inviteCode, password: password, options: options)
            // Servers often add the session's `email` and `active` (fields of createSession's output) here too.
            return SessionInfo(
                accessJwt: s.accessJwt, refreshJwt: s.refreshJwt, handle: s.handle.description, did: s.did,
                email: s.extra["email"]?.stringValue, active: s.extra["active"]?.boolValue, status: s.extra["status"]?.stringValue)
        }

        /// `com.atproto.server.describeServer`: the server's DID, handle domains and sign-up rules.
        public func describeServer(options: CallOptions = .init()) async throws(BlueskyError) -> ServerDescription {
            let d = try await api.describeServer(options: options)
            return ServerDescription(
                did: d.did, availableUserDomains: d.availableUserDomains, inviteCodeRequired: d.inviteCodeRequired,
                phoneVerificationRequired: d.phoneVerificationRequired,
                links: d.links.map { .init(privacyPolicy: $0.privacyPolicy?.description, termsOfService: $0.termsOfService?.description) })
        }
    }
}

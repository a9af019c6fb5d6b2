import ATData
import ATSyntax
import HTTPTypes

extension Bluesky {
    /// The `com.atproto.server.*` endpoints: accounts and sessions.
    public struct Server: Sendable {
        let client: Bluesky

        /// `com.atproto.server.createSession`: logs in with a handle (or DID,
        /// or email) and a password. See ``Session`` for a session that refreshes itself.
        public func createSession(
            identifier: String, password: String, authFactorToken: String? = nil, options: CallOptions = .init()
        ) async throws(BlueskyError) -> SessionInfo {
            var input = DataMap(["identifier": .string(identifier), "password": .string(password)])
            if let authFactorToken { input["authFactorToken"] = .string(authFactorToken) }
            return try await client.json(.procedure("com.atproto.server.createSession", json: .map(input)), options: options)
        }

        /// `com.atproto.server.refreshSession`: new tokens for a refresh token.
        public func refreshSession(refreshToken: String, options: CallOptions = .init()) async throws(BlueskyError) -> SessionInfo {
            var options = options
            options.headers[.authorization] = "Bearer \(refreshToken)"
            return try await client.json(.procedure("com.atproto.server.refreshSession"), options: options)
        }

        /// `com.atproto.server.deleteSession`: ends the session of a refresh token.
        public func deleteSession(refreshToken: String, options: CallOptions = .init()) async throws(BlueskyError) {
            var options = options
            options.headers[.authorization] = "Bearer \(refreshToken)"
            try await client.send(.procedure("com.atproto.server.deleteSession"), options: options)
        }

        /// `com.atproto.server.getSession`: who the bearer is.
        public func getSession(options: CallOptions = .init()) async throws(BlueskyError) -> SessionStatus {
            try await client.json(.query("com.atproto.server.getSession"), options: options)
        }

        /// `com.atproto.server.createAccount`: a new account, logged in.
        public func createAccount(
            handle: Handle, email: String? = nil, password: String? = nil, inviteCode: String? = nil, did: DID? = nil,
            options: CallOptions = .init()
        ) async throws(BlueskyError) -> SessionInfo {
            var input = DataMap(["handle": .string(handle.description)])
            if let email { input["email"] = .string(email) }
            if let password { input["password"] = .string(password) }
            if let inviteCode { input["inviteCode"] = .string(inviteCode) }
            if let did { input["did"] = .string(did.description) }
            return try await client.json(.procedure("com.atproto.server.createAccount", json: .map(input)), options: options)
        }

        /// `com.atproto.server.describeServer`: the server's DID, handle domains and sign-up rules.
        public func describeServer(options: CallOptions = .init()) async throws(BlueskyError) -> ServerDescription {
            try await client.json(.query("com.atproto.server.describeServer"), options: options)
        }
    }
}

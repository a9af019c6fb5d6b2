/// The credential sent as `Authorization: Bearer <token>`.
///
/// Either a fixed token, or a provider that is asked before every request, so
/// that a session can hand out fresh tokens. A provider can also take a
/// `refresh` hook: when a server answers `ExpiredToken`, the client calls it
/// once and repeats the request with the new token (see ``Session``).
public struct Bearer: Sendable, ExpressibleByStringLiteral {
    let current: @Sendable () async throws -> String?
    let refresh: (@Sendable (_ rejected: String?) async throws -> Bool)?

    /// A fixed token.
    public static func token(_ token: String) -> Bearer {
        Bearer(current: { token }, refresh: nil)
    }

    /// A token that `provide` produces before each request; `nil` sends none.
    ///
    /// - Parameter refresh: called with the rejected token when the server
    ///   answers `ExpiredToken`; returns whether a new token is available.
    public static func provider(
        _ provide: @escaping @Sendable () async throws -> String?,
        refresh: (@Sendable (_ rejected: String?) async throws -> Bool)? = nil
    ) -> Bearer {
        Bearer(current: provide, refresh: refresh)
    }

    /// A fixed token.
    public init(stringLiteral value: String) {
        self = .token(value)
    }

    private init(current: @escaping @Sendable () async throws -> String?, refresh: (@Sendable (String?) async throws -> Bool)?) {
        self.current = current
        self.refresh = refresh
    }
}

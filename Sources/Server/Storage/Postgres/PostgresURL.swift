import Foundation
import NIOSSL
import PostgresNIO

/// A PostgreSQL connection URL, as libpq and most tools write it:
/// `postgres://user:password@host:port/database?sslmode=…`.
///
/// - `postgresql://` is the same scheme.
/// - The port defaults to 5432; the user must be given.
/// - `sslmode` is `disable`, `prefer` (the default, as in libpq), `require`
///   (encrypted, the server's certificate unchecked) or `verify-full`.
/// - `?host=/run/postgresql` connects through the Unix socket in that
///   directory instead of TCP.
public struct PostgresURL: Sendable, CustomStringConvertible {
    /// Where the server is.
    enum Endpoint: Sendable {
        case tcp(host: String, port: Int)
        case socket(path: String)
    }

    /// How the connection is encrypted.
    enum Encryption: Sendable {
        case disable, prefer, require, verify
    }

    let endpoint: Endpoint
    let encryption: Encryption
    let username: String
    let password: String?
    let database: String?

    /// The URL without its password, for logs and messages.
    public let description: String

    /// Parses `text`; throws ``StorageError`` with ``StorageError/Code/io`` and the reason when it is not a usable URL.
    public init(_ text: String) throws {
        func refuse(_ why: String) -> StorageError { StorageError(.io, "bad PostgreSQL URL: \(why)") }
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            scheme == "postgres" || scheme == "postgresql"
        else { throw refuse("expected postgres://user:password@host:port/database") }
        guard let user = components.user, !user.isEmpty else { throw refuse("no user") }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        if let socket = query["host"], socket.hasPrefix("/") {
            endpoint = .socket(path: socket + "/.s.PGSQL.\(components.port ?? 5432)")
        } else {
            guard let host = components.host, !host.isEmpty else { throw refuse("no host") }
            endpoint = .tcp(host: host, port: components.port ?? 5432)
        }
        switch query["sslmode"] ?? "prefer" {
        case "disable": encryption = .disable
        case "allow", "prefer": encryption = .prefer
        case "require": encryption = .require
        case "verify-ca", "verify-full": encryption = .verify
        case let mode: throw refuse("sslmode \(mode) is not one of disable, prefer, require, verify-full")
        }
        username = user
        password = components.password
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? nil : path
        var shown = components
        if shown.password != nil { shown.password = "***" }
        description = shown.string ?? "postgres://"
    }

    /// The pool's configuration.
    public var configuration: PostgresClient.Configuration {
        switch endpoint {
        case .socket(let path):
            return .init(unixSocketPath: path, username: username, password: password, database: database)
        case .tcp(let host, let port):
            let tls: PostgresClient.Configuration.TLS =
                if let asked = tls { asked.required ? .require(asked.configuration) : .prefer(asked.configuration) } else { .disable }
            return .init(host: host, port: port, username: username, password: password, database: database, tls: tls)
        }
    }

    /// One connection's configuration.
    var connectionConfiguration: PostgresConnection.Configuration {
        get throws {
            switch endpoint {
            case .socket(let path):
                return .init(unixSocketPath: path, username: username, password: password, database: database)
            case .tcp(let host, let port):
                var tls = PostgresConnection.Configuration.TLS.disable
                if let asked = self.tls {
                    let context = try NIOSSLContext(configuration: asked.configuration)
                    tls = asked.required ? .require(context) : .prefer(context)
                }
                return .init(host: host, port: port, username: username, password: password, database: database, tls: tls)
            }
        }
    }

    /// The TLS that `sslmode` asks for: `nil` for none, else its
    /// configuration and whether a server without it is refused.
    private var tls: (configuration: TLSConfiguration, required: Bool)? {
        switch encryption {
        case .disable: nil
        case .prefer: (Self.tls(verifying: false), false)
        case .require: (Self.tls(verifying: false), true)
        case .verify: (Self.tls(verifying: true), true)
        }
    }

    /// TLS that checks the server's certificate, or only encrypts (libpq's `require`).
    private static func tls(verifying: Bool) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if !verifying { tls.certificateVerification = .none }
        return tls
    }
}

import ATData
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
@testable import Server

/// The whole PDS router in process (HummingbirdTesting), over a temporary
/// data directory, with JSON calls.
protocol InProcessPDS {}

extension InProcessPDS {
    func app(
        _ mailer: CapturingMailer = CapturingMailer(), tokenLifetime: TimeInterval = 900, configure: (inout ServerConfig) -> Void = { _ in }
    ) async throws -> (some ApplicationProtocol, URL) {
        var config = ServerConfig(dataDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("pds-\(UUID())"), port: 0, bcryptCost: 4)
        configure(&config)
        config.mailer = mailer
        config.emailTokenLifetime = tokenLifetime
        config.adminPassword = "pw-admin"
        config.publicURL = URL(string: "http://127.0.0.1:2583")
        return (try await PDSServer.application(config: config, logger: Logger(label: "test")), config.dataDirectory)
    }

    func json(_ value: DataValue) -> ByteBuffer { ByteBuffer(bytes: value.jsonData()) }

    func post(_ client: some TestClientProtocol, _ nsid: String, _ body: DataValue, auth: String? = nil) async throws -> (Int, DataValue?) {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let auth { headers[.authorization] = auth }
        return try await client.execute(uri: "/xrpc/" + nsid, method: .post, headers: headers, body: json(body)) { response in
            (response.status.code, response.body.readableBytes > 0 ? try? DataValue(json: Data(buffer: response.body)) : nil)
        }
    }

    func get(_ client: some TestClientProtocol, _ path: String, auth: String? = nil) async throws -> (Int, DataValue?) {
        var headers = HTTPFields()
        if let auth { headers[.authorization] = auth }
        return try await client.execute(uri: path, method: .get, headers: headers) { response in
            (response.status.code, response.body.readableBytes > 0 ? try? DataValue(json: Data(buffer: response.body)) : nil)
        }
    }

    /// A new account: its DID and a bearer header for its session.
    func newAccount(_ client: some TestClientProtocol, _ handle: String, email: String? = nil) async throws -> (did: String, auth: String) {
        var input: DataValue = ["handle": .string(handle), "password": "correct horse"]
        if let email { input = ["handle": .string(handle), "password": "correct horse", "email": .string(email)] }
        let (status, created) = try await post(client, "com.atproto.server.createAccount", input)
        guard status == 200, let did = created?["did"]?.stringValue, let token = created?["accessJwt"]?.stringValue else {
            throw StorageError(.io, "createAccount \(handle) answered \(status): \(String(describing: created))")
        }
        return (did, "Bearer " + token)
    }
}

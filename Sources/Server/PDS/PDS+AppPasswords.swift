import ATProtoAPI
import ATSyntax
import Foundation

private typealias ServerAPI = Com.Atproto.Server

extension PDS {
    /// The most app passwords an account may have.
    static let appPasswordLimit = 25

    /// A new app password: four groups of four lowercase letters and digits,
    /// as the reference PDS makes them (`abcd-efgh-ijkl-mnop`).
    static func newAppPassword() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String((0..<4).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }) }
            .joined(separator: "-")
    }

    /// `server.createAppPassword`, `listAppPasswords` and `revokeAppPassword`.
    /// Making and revoking them takes a full session; an app password's
    /// session can list them.
    func registerAppPasswordMethods(_ methods: inout XRPCMethods) {
        methods.procedure(ServerAPI.CreateAppPassword.nsid) { [self] call in
            let did = try await authenticateFully(call)
            let input = try await call.input(ServerAPI.CreateAppPassword.Input.self, limit: config.maxJSONBody)
            let name = input.name.trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, name.count <= 64 else { throw XRPCError.invalidRequest("An app password's name is 1 to 64 characters") }
            let existing = try await accounts.appPasswords(did: did)
            guard !existing.contains(where: { $0.name == name }) else {
                throw XRPCError.named("DuplicateAppPassword", "An app password named \(name) exists")
            }
            guard existing.count < Self.appPasswordLimit else {
                throw XRPCError.named("TooManyAppPasswords", "At most \(Self.appPasswordLimit) app passwords")
            }
            let password = Self.newAppPassword()
            let record = AppPasswordRecord(
                did: did, name: name, passwordHash: try await passwords.hash(password), privileged: input.privileged ?? false, createdAt: Date())
            do {
                try await accounts.createAppPassword(record)
            } catch let error as StorageError where error.code == .conflict {
                throw XRPCError.named("DuplicateAppPassword", "An app password named \(name) exists")
            }
            return .lex(ServerAPI.CreateAppPassword.AppPassword(
                name: name, password: password, createdAt: Datetime(record.createdAt), privileged: record.privileged))
        }
        methods.query(ServerAPI.ListAppPasswords.nsid) { [self] call in
            let did = try await authenticate(call)
            return await .lex(ServerAPI.ListAppPasswords.Output(passwords: try accounts.appPasswords(did: did).map {
                .init(name: $0.name, createdAt: Datetime($0.createdAt), privileged: $0.privileged)
            }))
        }
        methods.procedure(ServerAPI.RevokeAppPassword.nsid) { [self] call in
            let did = try await authenticateFully(call)
            let input = try await call.input(ServerAPI.RevokeAppPassword.Input.self, limit: config.maxJSONBody)
            _ = try await accounts.deleteAppPassword(did: did, name: input.name)
            return .empty
        }
    }
}

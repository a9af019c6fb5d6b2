import ATCrypto
import ATData
import ATProtoAPI
import ATSyntax
import Foundation

private typealias IdentityAPI = Com.Atproto.Identity

extension PDS {
    /// The PLC operations of a move: what the new server recommends
    /// (`getRecommendedDidCredentials`), a token by email
    /// (`requestPlcOperationSignature`), the old server's signature with its
    /// rotation key (`signPlcOperation`), and the new server's checks before
    /// it sends the operation on (`submitPlcOperation`).
    func registerPLCOperationMethods(_ methods: inout XRPCMethods) {
        methods.query(IdentityAPI.GetRecommendedDidCredentials.nsid) { [self] call in
            let did = try await authenticate(call)
            guard let account = try await account(did) else { throw XRPCError.invalidToken("the account is gone") }
            let recommended = try await recommendedFields(for: account)
            return .lex(IdentityAPI.GetRecommendedDidCredentials.Output(
                rotationKeys: recommended["rotationKeys"]?.arrayValue?.compactMap(\.stringValue), alsoKnownAs: ["at://\(account.handle)"],
                verificationMethods: recommended["verificationMethods"], services: recommended["services"]))
        }
        methods.procedure(IdentityAPI.RequestPlcOperationSignature.nsid) { [self] call in
            try await mailTokenToOwner(call, purpose: "plc_operation", subject: "PLC update requested") { account, token in
                "To sign a change of the identity of \(account.handle) (\(account.did)), use this token: \(token)"
            }
            return .empty
        }
        methods.procedure(IdentityAPI.SignPlcOperation.nsid) { [self] call in
            let did = try await authenticateFully(call)
            let input = try await call.input(IdentityAPI.SignPlcOperation.Input.self, limit: config.maxJSONBody)
            return .lex(IdentityAPI.SignPlcOperation.Output(operation: try await signPLCOperation(input, for: did).value))
        }
        methods.procedure(IdentityAPI.SubmitPlcOperation.nsid) { [self] call in
            let did = try await authenticateFully(call)
            let input = try await call.input(IdentityAPI.SubmitPlcOperation.Input.self, limit: config.maxJSONBody)
            try await submitPLCOperation(input.operation, for: did)
            return .empty
        }
    }

    /// What the DID document of `account` should say for this server to host
    /// it: this server's rotation key, the account's signing key here, its
    /// handle, and this server as its PDS.
    func recommendedFields(for account: AccountRecord) async throws -> DataValue {
        let signingKey = try await keys.signingKey(for: account.did).publicKey.didKey
        let endpoint = DataValue.string(publicURL.absoluteString.trimmingTrailingSlash)
        let fields: DataValue = [
            "rotationKeys": .array([.string(rotationKey.publicKey.didKey)]),
            "alsoKnownAs": .array([.string("at://\(account.handle)")]),
            "verificationMethods": ["atproto": .string(signingKey)],
            "services": ["atproto_pds": ["type": "AtprotoPersonalDataServer", "endpoint": endpoint]],
        ]
        return fields
    }

    /// `identity.signPlcOperation`: with the emailed token, signs an
    /// operation that follows `did`'s current one, with the fields given and
    /// the current ones for the rest, using this server's rotation key.
    ///
    /// - Throws: 400 `InvalidToken`/`ExpiredToken` without a good token,
    ///   400 `InvalidRequest` when this server's key may not sign for `did`.
    func signPLCOperation(_ input: Com.Atproto.Identity.SignPlcOperation.Input, for did: DID) async throws -> PLCOperation {
        guard did.description.hasPrefix("did:plc:") else { throw XRPCError.invalidRequest("\(did) is not a did:plc") }
        guard let token = input.token else { throw XRPCError.named("InvalidToken", "An email token is required (requestPlcOperationSignature)") }
        guard try await accounts.consumeEmailToken(token, purpose: "plc_operation", did: did, now: Date()) else {
            throw XRPCError.named("ExpiredToken", "Token is invalid or expired")
        }
        guard let current = try await currentPLCOperation(did) else { throw XRPCError.named("DidNotFound", "No PLC operation for \(did)") }
        guard current.rotationKeys.contains(rotationKey.publicKey.didKey) else {
            throw XRPCError.invalidRequest("This server's rotation key is not one of \(did)'s; it cannot sign its operations")
        }
        let unsigned: DataValue = [
            "type": "plc_operation",
            "rotationKeys": input.rotationKeys.map { .array($0.map(DataValue.string)) } ?? current.value["rotationKeys"] ?? [],
            "verificationMethods": input.verificationMethods ?? current.value["verificationMethods"] ?? [:],
            "alsoKnownAs": input.alsoKnownAs.map { .array($0.map(DataValue.string)) } ?? current.value["alsoKnownAs"] ?? [],
            "services": input.services ?? current.value["services"] ?? [:],
            "prev": .string(current.cid.description),
        ]
        do {
            return try PLCOperation.sign(unsigned: unsigned, with: rotationKey)
        } catch let error as PLCError {
            throw XRPCError.invalidRequest("Invalid operation: \(error.description)")
        }
    }

    /// `identity.submitPlcOperation`: checks that the operation keeps `did`
    /// hosted here (this server's rotation key, the account's signing key,
    /// its handle, this server as PDS), sends it to the PLC directory, and
    /// says so with `#identity`.
    func submitPLCOperation(_ value: DataValue, for did: DID) async throws {
        guard did.description.hasPrefix("did:plc:") else { throw XRPCError.invalidRequest("\(did) is not a did:plc") }
        guard let account = try await account(did) else { throw XRPCError.invalidToken("the account is gone") }
        let operation: PLCOperation
        do {
            operation = try PLCOperation(value: value)
        } catch let error as PLCError {
            throw XRPCError.invalidRequest("Invalid operation: \(error.description)")
        }
        let expected = try await recommendedFields(for: account)
        guard operation.rotationKeys.contains(rotationKey.publicKey.didKey) else {
            throw XRPCError.invalidRequest("Rotation keys do not include this server's rotation key")
        }
        guard operation.signingKey == expected["verificationMethods"]?["atproto"]?.stringValue else {
            throw XRPCError.invalidRequest("Incorrect signing key: it must be the account's key on this server")
        }
        guard operation.alsoKnownAs.contains("at://\(account.handle)") else {
            throw XRPCError.invalidRequest("Incorrect handle in alsoKnownAs: it must include at://\(account.handle)")
        }
        guard operation.value["services"]?["atproto_pds"] == expected["services"]?["atproto_pds"] else {
            throw XRPCError.invalidRequest("Incorrect atproto_pds service: it must be this server, \(publicURL.absoluteString.trimmingTrailingSlash)")
        }
        do {
            try await submitToPLC(operation, did: did)
        } catch let error as PLCError {
            throw XRPCError.invalidRequest("The PLC directory refused the operation: \(error.description)")
        }
        forgetAccount(did)
        identity.forget(did: did)
        try await firehose.append(did: did) { FirehoseFrame.identity(seq: $0, did: did, handle: account.handle) }
        logger.info("\(did)'s DID document now names this server")
    }
}

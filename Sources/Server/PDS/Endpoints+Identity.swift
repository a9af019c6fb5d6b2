import ATCrypto
import ATData
import ATProtoAPI
import ATSyntax
import Bluesky
import Foundation
import HTTPTypes
import Hummingbird

private typealias IdentityAPI = Com.Atproto.Identity

extension PDS {
    /// `com.atproto.identity.*`: resolving handles and DIDs (this server's
    /// own first, then the network's), and changing an account's handle.
    func registerIdentityMethods(_ methods: inout XRPCMethods) {
        let writes = config.writeLimit.map { ("writes", $0) }
        methods.query(IdentityAPI.ResolveHandle.nsid) { [self] call in
            let params = try call.parameters(IdentityAPI.ResolveHandle.Parameters.self)
            return .lex(IdentityAPI.ResolveHandle.Output(did: try await resolveHandle(params.handle)))
        }
        methods.query(IdentityAPI.ResolveDid.nsid) { [self] call in
            let params = try call.parameters(IdentityAPI.ResolveDid.Parameters.self)
            return .lex(IdentityAPI.ResolveDid.Output(didDoc: try await didDocument(params.did)))
        }
        methods.query(IdentityAPI.ResolveIdentity.nsid) { [self] call in
            let params = try call.parameters(IdentityAPI.ResolveIdentity.Parameters.self)
            let did: DID
            switch params.identifier {
            case .did(let value): did = value
            case .handle(let handle): did = try await resolveHandle(handle)
            }
            let document = try await didDocument(did)
            // The handle counts only when it resolves back to the DID.
            var handle = try Handle("handle.invalid")
            if let claimed = document["alsoKnownAs"]?.arrayValue?.compactMap(\.stringValue).first(where: { $0.hasPrefix("at://") }),
                let candidate = try? Handle(String(claimed.dropFirst(5))), (try? await resolveHandle(candidate)) == did
            {
                handle = candidate
            }
            return .lex(IdentityAPI.Defs.IdentityInfo(did: did, handle: handle, didDoc: document))
        }
        methods.procedure(IdentityAPI.UpdateHandle.nsid, limit: writes) { [self] call in
            let did = try await authenticateFully(call)
            let input = try await call.input(IdentityAPI.UpdateHandle.Input.self, limit: config.maxJSONBody)
            try await updateHandle(of: did, to: input.handle)
            return .empty
        }
    }

    /// The DID of `handle`: a local account's, else what DNS or HTTPS says.
    func resolveHandle(_ handle: Handle) async throws -> DID {
        if let account = try await accounts.account(handle: handle) { return account.did }
        do {
            return try await identity.resolveHandle(handle)
        } catch {
            throw XRPCError.named("HandleNotFound", "Unable to resolve handle: \(handle)")
        }
    }

    /// The DID document of `did`: from the embedded PLC directory when it
    /// holds the DID, else resolved.
    func didDocument(_ did: DID) async throws -> DataValue {
        if let operation = try await plc.current(did) { return operation.document(for: did) }
        do {
            let document = try await identity.resolveDID(did)
            return try DataValue(json: JSONEncoder().encode(document))
        } catch {
            throw XRPCError.named("DidNotFound", "Unable to resolve DID: \(did)")
        }
    }

    /// `com.atproto.identity.updateHandle`: a handle under this server's
    /// domain must be free; any other must already resolve to the account.
    /// The DID document changes through a PLC operation signed with the
    /// server's rotation key, and `#identity` goes out on the firehose.
    func updateHandle(of did: DID, to handle: Handle) async throws {
        guard let account = try await account(did) else { throw XRPCError.invalidToken("the account is gone") }
        try await checkHandle(handle, for: did)
        if let holder = try await accounts.account(handle: handle), holder.did != did {
            throw XRPCError.named("HandleNotAvailable", "Handle already taken: \(handle)")
        }
        guard handle != account.handle else { return }
        guard let current = try await currentPLCOperation(did) else { throw XRPCError.internalError("no PLC operation for \(did)") }
        let operation = try PLCOperation.sign(
            .init(
                rotationKeys: current.rotationKeys, signingKey: current.signingKey ?? "", alsoKnownAs: ["at://\(handle)"],
                pdsEndpoint: current.pdsEndpoint ?? publicURL.absoluteString.trimmingTrailingSlash, prev: current.cid),
            with: rotationKey)
        try await submitToPLC(operation, did: did)
        do {
            try await accounts.updateHandle(did: did, handle: handle)
        } catch let error as StorageError where error.code == .conflict {
            throw XRPCError.named("HandleNotAvailable", "Handle already taken: \(handle)")
        }
        forgetAccount(did)
        identity.forget(handle: account.handle, did: did)
        try await firehose.append(did: did) { FirehoseFrame.identity(seq: $0, did: did, handle: handle) }
        logger.info("\(did) is now \(handle) (was \(account.handle))")
    }

    /// Checks a handle `did` asks for: under this server's domain it must be
    /// free (``checkLocalHandle(_:)``); any other must already resolve to `did`.
    ///
    /// - Throws: 400 `InvalidHandle` or `HandleNotAvailable`.
    func checkHandle(_ handle: Handle, for did: DID) async throws {
        if handle.description.hasSuffix("." + config.handleDomain) {
            try checkLocalHandle(handle)
            return
        }
        let resolved: DID
        do {
            resolved = try await identity.resolveHandle(handle, fresh: true)
        } catch {
            throw XRPCError.named("InvalidHandle", "External handle did not resolve to DID: \(error.detail)")
        }
        guard resolved == did else {
            throw XRPCError.named("InvalidHandle", "External handle \(handle) resolves to \(resolved), not \(did)")
        }
    }

    /// The repository signing key `did`'s document names now: from the PLC
    /// directory for a `did:plc`, else resolved afresh.
    ///
    /// - Throws: 400 `DidNotFound` when the document cannot be had or has no usable key.
    func currentSigningKey(_ did: DID) async throws -> any PublicKey {
        do {
            if did.description.hasPrefix("did:plc:"), let operation = try await currentPLCOperation(did), let key = operation.signingKey {
                return try Keys.publicKey(didKey: key)
            }
            return try await serviceResolver.resolve(did).signingKey()
        } catch let error as XRPCError {
            throw error
        } catch {
            throw XRPCError.named("DidNotFound", "Unable to find the signing key of \(did): \(error)")
        }
    }

    /// The last operation of `did`: from the embedded directory, or from the external one.
    func currentPLCOperation(_ did: DID) async throws -> PLCOperation? {
        guard let external = config.plcURL else { return try await plc.current(did) }
        guard let url = URL(string: external.absoluteString.trimmingTrailingSlash + "/" + did.description + "/log/last") else {
            throw XRPCError.internalError("the PLC directory's URL is invalid")
        }
        let response = try await outbound.send(HTTPRequest(method: .get, url: url), body: nil, timeout: .seconds(15))
        let body = try await response.body.collect(upTo: 1 << 16)
        guard response.head.status.code == 200 else { return nil }
        return try PLCOperation(json: Data(body))
    }

    /// `GET /.well-known/atproto-did`: the DID of the local account whose
    /// handle is the request's host, as text.
    func registerWellKnown(on router: Router<PDSRequestContext>) {
        router.get("/.well-known/atproto-did") { [self] request, _ -> Response in
            let authority = request.head.authority ?? ""
            let host = authority.split(separator: ":").first.map(String.init) ?? ""
            guard let handle = try? Handle(host), let account = try await accounts.account(handle: handle) else {
                throw XRPCError.notFound("No user by that handle at this server: \(host)")
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: account.did.description)))
        }
    }
}

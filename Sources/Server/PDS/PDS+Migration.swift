import ATCrypto
import ATData
import ATProtoAPI
import ATRepo
import ATSyntax
import Bluesky
import Foundation
import Hummingbird

private typealias Repo = Com.Atproto.Repo

extension PDS {
    /// `server.createAccount` with an existing `did`: an account moving here.
    /// The caller proves control of the DID with a service-auth token signed
    /// by its current repository key, for this server (`aud`) and this method
    /// (`lxm`). The account starts deactivated, with a new signing key and an
    /// empty repository, until its repository is imported, its DID document
    /// names this server, and it is activated.
    func createMigratingAccount(
        _ input: Com.Atproto.Server.CreateAccount.Input, did: DID, serviceAuth token: String, admin: Bool
    ) async throws -> Com.Atproto.Server.CreateAccount.Output {
        let verifier = ServiceAuthVerifier(audience: serviceDID) { [self] did, _ in try await currentSigningKey(did) }
        let claims: ServiceAuthClaims
        do {
            claims = try await verifier.verify(token, method: try NSID(Com.Atproto.Server.CreateAccount.nsid))
        } catch let error as ServiceAuthError {
            throw XRPCError(.unauthorized, error.name, error.message)
        }
        guard claims.issuer == did.description else {
            throw XRPCError(.unauthorized, "AuthenticationRequired", "The service-auth token is from \(claims.issuer), not \(did)")
        }
        if let existing = try await account(did) {
            throw XRPCError.named("AlreadyExists", "\(did) already has an account here (\(existing.handle))")
        }
        try await checkHandle(input.handle, for: did)
        let password = try await checkNewAccount(input, admin: admin)
        let signingKey = try Keys.generate(config.signingCurve)
        let account = AccountRecord(
            did: did, handle: input.handle, email: input.email, passwordHash: try await passwords.hash(password), createdAt: Date(),
            deactivatedAt: Date())
        try await keys.storeSigningKey(signingKey, for: did)
        do {
            try await accounts.createAccount(account)
        } catch {
            // No account for the DID here (checked above): its new key goes too.
            try? await keys.deleteSigningKey(for: did)
            if let error = error as? StorageError, error.code == .conflict {
                throw XRPCError.named("HandleNotAvailable", "Handle or email already taken")
            }
            throw error
        }
        cache(try RepoWriter.create(did: did, key: signingKey, store: repos, commits: commits, publish: publisher))
        logger.info("created account \(input.handle) \(did), moving here; deactivated until it is activated")
        let session = try await session(for: account)
        return .init(
            accessJwt: session.accessJwt, refreshJwt: session.refreshJwt, handle: session.handle, did: session.did,
            didDoc: try? await didDocument(did))
    }

    /// `repo.importRepo` and `repo.listMissingBlobs`.
    func registerMigrationMethods(_ methods: inout XRPCMethods) {
        methods.procedure(Repo.ImportRepo.nsid) { [self] call in
            let did = try await authenticateFully(call)
            try await importRepo(did: did, body: call.request.body)
            return .empty
        }
        methods.query(Repo.ListMissingBlobs.nsid) { [self] call in
            let did = try await authenticate(call)
            let params = try call.parameters(Repo.ListMissingBlobs.Parameters.self)
            let limit = min(max(params.limit ?? 500, 1), 1000)
            var missing = [Repo.ListMissingBlobs.RecordBlob](), cursor = params.cursor, more = true
            // Pages of references until `limit` are missing or there are no more.
            while missing.count < limit, more {
                let page = try repos.blobReferences(of: did, after: cursor, limit: 1000)
                more = page.count == 1000
                for reference in page {
                    cursor = reference.blob
                    guard let cid = try? CID(reference.blob), !blobs.exists(did: did, cid: cid) else { continue }
                    let uri = try ATURI("at://\(did)/\(reference.collection)/\(reference.rkey)")
                    missing.append(.init(cid: cid, recordUri: uri))
                    if missing.count == limit { break }
                }
            }
            return .lex(Repo.ListMissingBlobs.Output(cursor: missing.count == limit ? missing.last?.cid.description : nil, blobs: missing))
        }
    }

    /// Replaces `did`'s repository with the CAR in `body`, as it streams in.
    ///
    /// The blocks are staged on disk; the repository is then walked from the
    /// CAR's root and checked as a whole — the commit is `did`'s and signed
    /// with the key its DID document names now, every node and record is
    /// there and hashes to its CID — while it is written in one transaction,
    /// so memory stays flat and a CAR that fails leaves nothing behind. The
    /// tree is kept under a new commit signed with this server's key for the
    /// account, at a revision after the imported one. Blobs the records
    /// reference that are already here are claimed; the rest are listed by
    /// `listMissingBlobs`.
    ///
    /// Only a deactivated account (one moving here) takes an import.
    func importRepo(did: DID, body: RequestBody) async throws {
        guard let account = try await account(did) else { throw XRPCError.invalidToken("the account is gone") }
        if account.takedownRef != nil { throw XRPCError.named("AccountTakedown", "Account has been taken down") }
        guard account.deactivatedAt != nil else {
            throw XRPCError.invalidRequest("Only a deactivated account takes an import: deactivate \(did) first")
        }
        let key = try await currentSigningKey(did)
        let staging = try repos.beginImport(did: did)
        let started = ContinuousClock.now
        let (root, importedRev, bytes) = try await stage(body, into: staging)
        let staged = ContinuousClock.now
        let clock = recordKeyClock.next()
        let rev = importedRev.map { clock > $0 ? clock : TID(rawValue: $0.rawValue + 1) } ?? clock
        let signingKey = try await keys.signingKey(for: did)
        let counts = try await offPool {
            var records = 0, blobRefs = 0
            do {
                try staging.install(rev: rev) { staged, sink in
                    let commit: Commit
                    do {
                        commit = try Repository.walkVerifying(
                            commit: root, did: did, store: staged, key: key, node: { cid, _ in try sink.keep(cid) },
                            leaf: { key, cid in
                                // The walk checked the key: ASCII `collection/rkey`.
                                let slash = key.firstIndex(of: 0x2F) ?? key.endIndex
                                try sink.index(
                                    collection: String(decoding: key[..<slash], as: UTF8.self),
                                    rkey: String(decoding: key[(slash + 1)...], as: UTF8.self), cid: cid)
                                records += 1
                            })
                    } catch let error as CryptoError {
                        throw XRPCError.invalidRequest("The commit is not signed by \(did)'s current key: \(error)")
                    }
                    let resigned = try Commit.sign(did: did, data: commit.data, rev: rev, key: signingKey)
                    let encoded = resigned.encoded()
                    return (CID.compute(encoded, codec: .dagCBOR), encoded)
                } checkRecord: { cid, bytes in
                    try Repository.checkRecord(cid, bytes)
                    let links = Self.blobLinks(in: bytes)
                    blobRefs += links.count
                    return links
                }
            } catch let error as RepoError {
                throw XRPCError.invalidRequest("The repository does not verify: \(error.message)")
            }
            return (records, blobRefs)
        }
        let installed = ContinuousClock.now
        writers.remove(did)
        var claimed = 0, cursor: String?
        while true {
            let page = try repos.blobReferences(of: did, after: cursor, limit: 1000)
            for reference in page {
                if let cid = try? CID(reference.blob), blobs.exists(did: did, cid: cid), try blobs.claim(did: did, cid: cid) { claimed += 1 }
            }
            guard page.count == 1000, let last = page.last else { break }
            cursor = last.blob
        }
        let seconds = { (duration: Duration) in String(format: "%.2f", Double(duration.components.attoseconds) / 1e18 + Double(duration.components.seconds)) }
        logger.info("""
            imported \(counts.0) records (\(bytes) bytes of CAR) into \(did) at \(rev): received and staged in \(seconds(staged - started)) s, \
            verified and stored in \(seconds(installed - staged)) s; \(claimed) of its \(counts.1) blob references are here
            """)
    }

    /// Reads a CAR body into `staging` in batches; returns its root, the
    /// revision of its root commit when the CAR holds it, and its length.
    private func stage(_ body: RequestBody, into staging: any RepoImport) async throws -> (CID, TID?, Int) {
        var reader = CARStreamReader(body.map { $0.readableBytesView }, options: CAROptions(verifyBlocks: false))
        do {
            let header = try await reader.header()
            guard let root = header.roots.first else { throw XRPCError.invalidRequest("The CAR has no root") }
            var batch = [(cid: CID, bytes: [UInt8])](), batchBytes = 0, rev: TID?
            while let block = try await reader.next() {
                if reader.byteCount > config.maxImportBytes { throw XRPCError.payloadTooLarge(config.maxImportBytes) }
                if block.cid == root { rev = (try? Commit(decoding: Array(block.data)))?.rev }
                batch.append((block.cid, Array(block.data)))
                batchBytes += block.data.count
                if batchBytes >= 4 << 20 || batch.count >= 8192 {
                    try staging.stage(batch)
                    batch.removeAll(keepingCapacity: true)
                    batchBytes = 0
                }
            }
            try staging.stage(batch)
            return (root, rev, reader.byteCount)
        } catch let error as DataError {
            staging.discard()
            throw XRPCError.invalidRequest("The CAR is malformed: \(error.message)")
        } catch {
            staging.discard()
            throw error
        }
    }

    /// The CIDs of the blobs a record references (`{$type: blob, ref}`);
    /// only records with a CID link (CBOR tag 42) are decoded.
    static func blobLinks(in record: [UInt8]) -> [CID] {
        var tagged = false
        for i in record.indices.dropLast() where record[i] == 0xD8 && record[i + 1] == 0x2A {
            tagged = true
            break
        }
        guard tagged, let value = try? DAGCBOR.decode(record) else { return [] }
        return value.blobRefs.map(\.cid)
    }
}

/// Runs blocking work (a long SQLite transaction) on a thread of its own,
/// off the cooperative pool.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result(catching: work)) }
    }
}

import ATData
import ATProtoAPI
import ATSyntax
import Foundation

private typealias ServerAPI = Com.Atproto.Server
private typealias Admin = Com.Atproto.Admin

extension PDS {
    /// The account of `did` if its repository may be read.
    ///
    /// - Throws: 400 `RepoNotFound`, `RepoTakendown` or `RepoDeactivated`, as
    ///   the `com.atproto.sync` lexicons name them.
    @discardableResult
    func requireAvailableRepo(_ did: DID) async throws -> AccountRecord {
        guard let account = try await account(did) else { throw XRPCError.named("RepoNotFound", "Could not find repo for DID: \(did)") }
        if account.takedownRef != nil { throw XRPCError.named("RepoTakendown", "Repo has been takendown: \(did)") }
        if account.deactivatedAt != nil { throw XRPCError.named("RepoDeactivated", "Repo has been deactivated: \(did)") }
        return account
    }

    /// Refuses writes by an account that is deactivated or taken down.
    func requireActiveForWrites(_ did: DID) async throws {
        guard let account = try await account(did) else { throw XRPCError.invalidToken("the account is gone") }
        if account.takedownRef != nil { throw XRPCError.named("AccountTakedown", "Account has been taken down") }
        if account.deactivatedAt != nil { throw XRPCError.named("AccountDeactivated", "Account is deactivated") }
    }

    /// Deactivates `did` (at `date`) or activates it again (`nil`), and says so on the firehose.
    func setDeactivated(_ did: DID, at date: Date?) async throws {
        try await accounts.setDeactivated(did: did, at: date)
        try await announceStatus(did)
    }

    /// Takes `did` down with `ref`, or lifts the takedown (`nil`), and says so on the firehose.
    func setTakedown(_ did: DID, ref: String?) async throws {
        try await accounts.setTakedown(did: did, ref: ref)
        try await announceStatus(did)
    }

    /// `#account` with the account's status as it now is; on activation also
    /// `#identity`, so that consumers refresh what they cached.
    private func announceStatus(_ did: DID) async throws {
        forgetAccount(did)
        guard let account = try await account(did) else { return }
        if account.isActive {
            try await firehose.append(did: did) { FirehoseFrame.identity(seq: $0, did: did, handle: account.handle) }
        }
        try await firehose.append(did: did) { FirehoseFrame.account(seq: $0, did: did, active: account.isActive, status: account.status) }
        // And `#sync` with the current commit: after a move here, the network
        // has the repository as the old host last signed it.
        if account.isActive, let root = try repos.root(of: did), let block = try repos.blocks(of: did).get(root.commit) {
            try await firehose.append(did: did) { FirehoseFrame.sync(seq: $0, did: did, commit: root.commit, commitBlock: block, rev: root.rev) }
        }
        logger.info("\(did) is now \(account.status ?? "active")")
    }

    /// `server.checkAccountStatus`, `activateAccount`, `deactivateAccount`
    /// and the repository takedowns of `admin.updateSubjectStatus` and `getSubjectStatus`.
    func registerAccountStatusMethods(_ methods: inout XRPCMethods) {
        methods.query(ServerAPI.CheckAccountStatus.nsid) { [self] call in
            let did = try await authenticate(call)
            guard let account = try await account(did) else { throw XRPCError.invalidToken("the account is gone") }
            guard let root = try repos.root(of: did) else { throw XRPCError.internalError("\(did) has no repository") }
            let counts = try repos.counts(of: did)
            // The DID document must name this server as the account's PDS.
            let pds = try await currentPLCOperation(did)?.pdsEndpoint
            let imported = try repos.blobs(of: did, since: nil, cursor: nil, limit: counts.blobs + 1)
                .filter { text in (try? CID(text)).map { blobs.exists(did: did, cid: $0) } ?? false }.count
            return await .lex(ServerAPI.CheckAccountStatus.Output(
                activated: account.deactivatedAt == nil, validDid: pds == publicURL.absoluteString.trimmingTrailingSlash,
                repoCommit: root.commit, repoRev: root.rev.description, repoBlocks: counts.blocks, indexedRecords: counts.records,
                privateStateValues: try accounts.preferences(did: did) == nil ? 0 : 1, expectedBlobs: counts.blobs, importedBlobs: imported))
        }
        methods.procedure(ServerAPI.ActivateAccount.nsid) { [self] call in
            let did = try await authenticateFully(call)
            guard let account = try await account(did) else { throw XRPCError.invalidToken("the account is gone") }
            if account.takedownRef != nil { throw XRPCError.named("AccountTakedown", "Account has been taken down") }
            if account.deactivatedAt != nil { try await setDeactivated(did, at: nil) }
            return .empty
        }
        methods.procedure(ServerAPI.DeactivateAccount.nsid) { [self] call in
            let did = try await authenticateFully(call)
            _ = try await call.input(ServerAPI.DeactivateAccount.Input.self, limit: config.maxJSONBody)
            guard let account = try await account(did) else { throw XRPCError.invalidToken("the account is gone") }
            if account.deactivatedAt == nil { try await setDeactivated(did, at: Date()) }
            return .empty
        }
        methods.procedure(Admin.UpdateSubjectStatus.nsid) { [self] call in
            guard try isAdmin(call) else { throw XRPCError(.unauthorized, "AuthenticationRequired", "The admin password is required") }
            let input = try await call.input(Admin.UpdateSubjectStatus.Input.self, limit: config.maxJSONBody)
            let echoed: Admin.UpdateSubjectStatus.Output.Subject
            switch input.subject {
            case .defsRepoRef(let subject):
                echoed = .defsRepoRef(subject)
                guard try await account(subject.did) != nil else { throw XRPCError.named("RepoNotFound", "Could not find repo for DID: \(subject.did)") }
                if let takedown = input.takedown {
                    try await setTakedown(subject.did, ref: takedown.applied ? (takedown.ref ?? "takedown") : nil)
                }
                if let deactivated = input.deactivated {
                    try await setDeactivated(subject.did, at: deactivated.applied ? Date() : nil)
                }
            case .strongRef(let subject):
                echoed = .strongRef(subject)
                let did = try await subjectDID(subject.uri)
                if let takedown = input.takedown {
                    try await accounts.setTakedown(did: did, subject: subject.uri.description, ref: takedown.applied ? (takedown.ref ?? "takedown") : nil)
                }
            case .defsRepoBlobRef(let subject):
                echoed = .defsRepoBlobRef(subject)
                guard try await account(subject.did) != nil else { throw XRPCError.named("RepoNotFound", "Could not find repo for DID: \(subject.did)") }
                if let takedown = input.takedown {
                    try await accounts.setTakedown(did: subject.did, subject: subject.cid.description, ref: takedown.applied ? (takedown.ref ?? "takedown") : nil)
                }
            case .unknown:
                throw XRPCError.invalidRequest("Invalid subject: a repoRef, a strongRef or a repoBlobRef")
            }
            return .lex(Admin.UpdateSubjectStatus.Output(subject: echoed, takedown: input.takedown))
        }
        methods.query(Admin.GetSubjectStatus.nsid) { [self] call in
            guard try isAdmin(call) else { throw XRPCError(.unauthorized, "AuthenticationRequired", "The admin password is required") }
            let params = try call.parameters(Admin.GetSubjectStatus.Parameters.self)
            let takedownRef: String?, subject: Admin.GetSubjectStatus.Output.Subject
            var deactivated: Admin.Defs.StatusAttr?
            if let uri = params.uri {
                let did = try await subjectDID(uri)
                guard let collection = uri.collection, let rkey = uri.recordKey,
                    let cid = try repos.record(of: did, collection: collection.description, rkey: rkey.description)
                else { throw XRPCError.named("NotFound", "No such record: \(uri)") }
                takedownRef = try await accounts.takedown(did: did, subject: uri.description)
                subject = .strongRef(Com.Atproto.Repo.StrongRef(uri: uri, cid: cid))
            } else if let blob = params.blob {
                guard let did = params.did, try await account(did) != nil, blobs.exists(did: did, cid: blob) else {
                    throw XRPCError.named("NotFound", "No such blob: give did and blob of a stored blob")
                }
                takedownRef = try await accounts.takedown(did: did, subject: blob.description)
                subject = .defsRepoBlobRef(Admin.Defs.RepoBlobRef(did: did, cid: blob))
            } else if let did = params.did {
                guard let account = try await account(did) else { throw XRPCError.named("NotFound", "No such subject: \(did)") }
                takedownRef = account.takedownRef
                subject = .defsRepoRef(Admin.Defs.RepoRef(did: did))
                deactivated = Admin.Defs.StatusAttr(applied: account.deactivatedAt != nil)
            } else {
                throw XRPCError.invalidRequest("Give did, uri, or did and blob")
            }
            return .lex(Admin.GetSubjectStatus.Output(
                subject: subject, takedown: Admin.Defs.StatusAttr(applied: takedownRef != nil, ref: takedownRef), deactivated: deactivated))
        }
    }

    /// The DID of a record subject's AT-URI, which must name an account here.
    private func subjectDID(_ uri: ATURI) async throws -> DID {
        guard case .did(let did) = uri.authority, try await account(did) != nil else {
            throw XRPCError.named("RepoNotFound", "Could not find repo for \(uri)")
        }
        return did
    }

    /// Whether the record at `uri` or the blob `cid` of `did` is taken down:
    /// such subjects are not served.
    func isTakenDown(did: DID, subject: String) async throws -> Bool {
        try await accounts.takedown(did: did, subject: subject) != nil
    }
}

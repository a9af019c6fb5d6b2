import ATData
import ATProtoAPI
import ATSyntax
import Foundation

/// Moves an account from one PDS to another, as `bsky account migrate` does.
///
/// The steps, in order: an account for the same DID on the new host
/// (created with a service-auth token from the old host), the repository
/// exported and imported, missing blobs copied, preferences copied, the DID
/// document changed to name the new host (a PLC operation the old host signs
/// with a token sent by email, and the new host submits), the new account
/// activated and the old one deactivated.
///
/// Every step first asks the hosts whether it is already done, so running a
/// migration again after it stopped — killed, or failed on a step — resumes
/// where it stopped.
///
/// ```swift
/// let migration = AccountMigration(
///     from: oldPDS, identifier: "alice.example", password: password, to: newPDS, newHandle: "alice.new.example")
/// try await migration.run(plcToken: { readLine() ?? "" }) { print($0) }
/// ```
public struct AccountMigration: Sendable {
    /// The old host.
    public var from: Bluesky
    /// The handle, DID or email to log in with at the old host.
    public var identifier: String
    /// The account's password; the new account gets the same one.
    public var password: String
    /// The new host.
    public var to: Bluesky
    /// The handle on the new host; the old one when `nil`.
    public var newHandle: Handle?
    /// An invite code for the new host, if it asks for one.
    public var inviteCode: String?
    /// The largest repository the old host may send.
    public var maxRepoBytes: Int = 1 << 30

    /// What a migration reports as it goes.
    public enum Event: Sendable, Equatable {
        /// A step began (`doing`) or ended, with what it did.
        case step(String)
        /// Blobs copied so far, of `total`.
        case blobs(copied: Int, total: Int)
    }

    /// A migration of the account `identifier` logs in as at `from`, to `to`.
    public init(from: Bluesky, identifier: String, password: String, to: Bluesky, newHandle: Handle? = nil, inviteCode: String? = nil) {
        self.from = from
        self.identifier = identifier
        self.password = password
        self.to = to
        self.newHandle = newHandle
        self.inviteCode = inviteCode
    }

    /// Runs the migration, or what is left of it.
    ///
    /// - Parameters:
    ///   - plcToken: asked for the token the old host emails when the DID
    ///     document must change (after it was asked to send one); return a
    ///     token given in advance to skip the request.
    ///   - requestToken: whether to ask the old host to email a token first.
    ///   - report: told of each step and of blob progress.
    /// - Returns: the blobs the old host could not give (missing there too).
    @discardableResult
    public func run(
        requestToken: Bool = true, plcToken: @Sendable () async throws -> String, report: @Sendable (Event) async -> Void
    ) async throws -> [CID] {
        let old = try await Session.login(from, identifier: identifier, password: password)
        let oldInfo = await old.info
        let did = oldInfo.did, oldClient = old.client
        await report(.step("logged in at \(from.serverURL.absoluteString) as \(oldInfo.handle) (\(did))"))
        let newClient = try await newAccount(did: did, old: oldClient, report: report)

        try await copyRepository(did: did, old: oldClient, new: newClient, report: report)
        let unavailable = try await copyBlobs(did: did, old: oldClient, new: newClient, report: report)
        let preferences = try await oldClient.call(query: "app.bsky.actor.getPreferences")
        _ = try await newClient.call(procedure: "app.bsky.actor.putPreferences", input: ["preferences": preferences["preferences"] ?? []])
        await report(.step("copied \(preferences["preferences"]?.arrayValue?.count ?? 0) preferences"))
        try await updateIdentity(did: did, old: oldClient, new: newClient, requestToken: requestToken, plcToken: plcToken, report: report)

        if try await newClient.com.atproto.server.checkAccountStatus().activated {
            await report(.step("the account is already active at \(to.serverURL.absoluteString)"))
        } else {
            try await newClient.com.atproto.server.activateAccount()
            await report(.step("activated the account at \(to.serverURL.absoluteString)"))
        }
        if try await oldClient.com.atproto.server.checkAccountStatus().activated {
            try await oldClient.com.atproto.server.deactivateAccount()
            await report(.step("deactivated the account at \(from.serverURL.absoluteString)"))
        } else {
            await report(.step("the account is already deactivated at \(from.serverURL.absoluteString)"))
        }
        return unavailable
    }

    /// The account at the new host: logged in when it exists, else created
    /// with a service-auth token the old host signs for the new one.
    private func newAccount(did: DID, old: Bluesky, report: @Sendable (Event) async -> Void) async throws -> Bluesky {
        var anonymous = to
        anonymous.bearer = nil
        if let session = try await Self.login(anonymous, did: did, password: password) {
            await report(.step("the account already exists at \(to.serverURL.absoluteString)"))
            return session.client
        }
        let server = try await anonymous.com.atproto.server.describeServer()
        let token = try await old.com.atproto.server.getServiceAuth(
            aud: server.did.description, exp: Int(Date().timeIntervalSince1970) + 600, lxm: try NSID(Com.Atproto.Server.CreateAccount.nsid)
        ).token
        let oldSession = try await old.com.atproto.server.getSession()
        var options = CallOptions()
        options.headers[.authorization] = "Bearer \(token)"
        let handle = try newHandle ?? Handle(oldSession.handle.description)
        _ = try await anonymous.com.atproto.server.createAccount(
            email: oldSession.email, handle: handle, did: did, inviteCode: inviteCode, password: password, options: options)
        await report(.step("created the account \(handle) at \(to.serverURL.absoluteString) (deactivated until the end)"))
        return try await Session.login(anonymous, identifier: did.description, password: password).client
    }

    /// A session at `host`, or `nil` when it has no such account (or another
    /// password: creating the account then says which).
    private static func login(_ host: Bluesky, did: DID, password: String) async throws(BlueskyError) -> Session? {
        do {
            return try await Session.login(host, identifier: did.description, password: password)
        } catch {
            if error.status == 401 { return nil }
            throw error
        }
    }

    /// Exports the repository from the old host and imports it, unless the
    /// new host already holds as many records.
    private func copyRepository(did: DID, old: Bluesky, new: Bluesky, report: @Sendable (Event) async -> Void) async throws {
        let before = try await old.com.atproto.server.checkAccountStatus()
        let here = try await new.com.atproto.server.checkAccountStatus()
        if here.indexedRecords == before.indexedRecords, here.repoBlocks > 1 || before.indexedRecords == 0 {
            await report(.step("the repository is already imported (\(here.indexedRecords) records)"))
            return
        }
        var download = CallOptions(maxResponseBytes: maxRepoBytes)
        download.timeout = .seconds(600)
        let car = try await old.sync.getRepo(did: did, options: download)
        var upload = CallOptions()
        upload.timeout = .seconds(600)
        try await new.com.atproto.repo.importRepo(body: car, options: upload)
        let after = try await new.com.atproto.server.checkAccountStatus()
        await report(.step("imported the repository: \(after.indexedRecords) records, \(car.count) bytes"))
    }

    /// Copies every blob the new host lists as missing; blobs the old host
    /// does not have either are skipped and returned.
    private func copyBlobs(did: DID, old: Bluesky, new: Bluesky, report: @Sendable (Event) async -> Void) async throws -> [CID] {
        let status = try await new.com.atproto.server.checkAccountStatus()
        let total = status.expectedBlobs - status.importedBlobs
        guard total > 0 else {
            await report(.step("all \(status.expectedBlobs) blobs are already there"))
            return []
        }
        var copied = 0, unavailable = [CID](), cursor: String?
        await report(.blobs(copied: 0, total: total))
        repeat {
            let page = try await new.com.atproto.repo.listMissingBlobs(limit: 500, cursor: cursor)
            for missing in page.blobs {
                guard let blob = try await Self.blob(missing.cid, of: did, at: old) else {
                    unavailable.append(missing.cid)
                    continue
                }
                _ = try await new.com.atproto.repo.uploadBlob(body: blob.bytes, contentType: blob.mimeType ?? "application/octet-stream")
                copied += 1
                await report(.blobs(copied: copied, total: total))
            }
            cursor = page.cursor
        } while cursor != nil
        await report(.step("copied \(copied) blobs" + (unavailable.isEmpty ? "" : "; \(unavailable.count) are missing at the old host too")))
        return unavailable
    }

    /// A blob from the old host, or `nil` when it does not have it either.
    private static func blob(_ cid: CID, of did: DID, at host: Bluesky) async throws(BlueskyError) -> BlobData? {
        do {
            return try await host.sync.getBlob(did: did, cid: cid)
        } catch {
            if error.status == 400 || error.status == 404 { return nil }
            throw error
        }
    }

    /// Changes the DID document to name the new host, unless it already does.
    private func updateIdentity(
        did: DID, old: Bluesky, new: Bluesky, requestToken: Bool, plcToken: @Sendable () async throws -> String,
        report: @Sendable (Event) async -> Void
    ) async throws {
        let recommended = try await new.com.atproto.identity.getRecommendedDidCredentials()
        let document = try await new.com.atproto.identity.resolveDid(did: did).didDoc
        let wantedPDS = recommended.services?["atproto_pds"]?["endpoint"]?.stringValue
        let wantedKey = recommended.verificationMethods?["atproto"]?.stringValue
        if let wantedPDS, let wantedKey, Self.pds(of: document) == wantedPDS, Self.signingKey(of: document) == wantedKey {
            await report(.step("the DID document already names \(wantedPDS)"))
            return
        }
        if requestToken {
            try await old.com.atproto.identity.requestPlcOperationSignature()
            await report(.step("\(from.serverURL.absoluteString) sent a token to the account's email"))
        }
        let token = try await plcToken()
        let signed = try await old.com.atproto.identity.signPlcOperation(
            token: token, rotationKeys: recommended.rotationKeys, alsoKnownAs: recommended.alsoKnownAs,
            verificationMethods: recommended.verificationMethods, services: recommended.services)
        try await new.com.atproto.identity.submitPlcOperation(operation: signed.operation)
        await report(.step("the DID document now names \(wantedPDS ?? to.serverURL.absoluteString)"))
    }

    /// The `#atproto_pds` endpoint of a DID document in the data model.
    static func pds(of document: DataValue) -> String? {
        document["service"]?.arrayValue?.first { $0["id"]?.stringValue?.hasSuffix("#atproto_pds") == true }?["serviceEndpoint"]?.stringValue
    }

    /// The `#atproto` key of a DID document, as a `did:key`.
    static func signingKey(of document: DataValue) -> String? {
        document["verificationMethod"]?.arrayValue?.first { $0["id"]?.stringValue?.hasSuffix("#atproto") == true }?["publicKeyMultibase"]?
            .stringValue.map { "did:key:" + $0 }
    }
}

import ATCrypto
import ATData
import ATLexicon
import ATRepo
import ATSyntax
import Bluesky
import Foundation
import Logging
import Synchronization

/// The PDS: accounts, sessions and signed repositories over the storage
/// protocols, plus the PLC directory role it uses for identities.
public final class PDS: Sendable {
    /// The configuration.
    public let config: ServerConfig
    /// The URL clients reach it at.
    public let publicURL: URL
    /// The server's `did:web`.
    public let serviceDID: String
    let accounts: any AccountStore
    let repos: any RepoStore
    let blobs: any BlobStore
    let plc: PLCDirectory
    let firehose: Firehose
    let tokens: TokenIssuer
    let passwords: PasswordHasher
    let keys: any KeyStore
    let rotationKey: any PrivateKey
    let lexicons: LexiconCatalog
    /// Outbound HTTP (the PLC directory, crawler notifications): the
    /// operator's own URLs, so private addresses are allowed, but redirects
    /// are not followed and connections go to the checked address.
    let outbound = GuardedTransport(policy: HostPolicy(allowPrivate: true))
    /// Outbound HTTP of proxied calls and identity lookups: the configured
    /// AppView, chat service and PLC directory are trusted; any other host
    /// must be on a public address unless ``ServerConfig/proxyAllowPrivate``.
    let proxyTransport: GuardedTransport
    /// Finds the DID documents of services that `atproto-proxy` names.
    let serviceResolver: DIDResolver
    /// Resolves handles and DIDs that are not this server's, through the
    /// same guarded transport.
    let identity: IdentityResolver
    let logger: Logger
    /// The writers of the repositories used most recently.
    let writers: WriterCache
    /// Group commit for every repository's writes.
    let commits: CommitQueue
    /// Accounts looked up so far (accounts are never removed; a new handle
    /// replaces the entry, see ``forgetAccount(_:)``).
    private let knownAccounts = Mutex<[DID: AccountRecord]>([:])
    /// When the crawlers were last sent `notifyOfUpdate`.
    let lastNotify = Mutex(Date.distantPast)
    /// Record keys the server picks, for createRecord.
    let recordKeyClock = TIDClock()
    /// Bytes of uploads in flight per account, counted against its blob quota.
    let uploading = Mutex<[DID: Int]>([:])
    /// When unreferenced blobs were last collected.
    let lastOrphanSweep = Mutex(Date.distantPast)
    /// Rate limits: the XRPC methods', logins', the PLC directory's and admin attempts'.
    let limiter = RateLimiter()
    /// Repository exports running at once.
    let exports = ExportGate()

    /// A PDS over SQLite and disk under `config.dataDirectory`.
    public static func open(config: ServerConfig, publicURL: URL, logger: Logger) async throws -> PDS {
        let data = config.dataDirectory
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        // A 64 MiB log between the writer's own checkpoints: measured under
        // wrk, 1,000 pages held each write up (about 1,700 writes/s), while
        // 16,384 pages let the checkpointer's thread copy nearly all of it.
        let database = try SQLiteStore(
            path: data.appendingPathComponent("pds.sqlite").path, synchronous: config.synchronous, checkpointPages: 16_384)
        let blobs = try DiskBlobStore(root: data.appendingPathComponent("blobs"))
        try await database.pruneEvents(before: Date(timeIntervalSinceNow: -config.firehoseWindow))
        try database.discardStagedImports()
        let pds = try await PDS(
            config: config, publicURL: publicURL, accounts: database, repos: database, blobs: blobs, plcStore: database, events: database,
            keys: FileKeyStore(directory: data.appendingPathComponent("secrets")), logger: logger)
        pds.collectOrphanBlobsIfDue()
        return pds
    }

    /// A PDS over the given stores.
    init(
        config: ServerConfig, publicURL: URL, accounts: any AccountStore, repos: any RepoStore, blobs: any BlobStore,
        plcStore: any PLCStore, events: any EventStore, keys: any KeyStore, logger: Logger
    ) async throws {
        self.config = config
        self.publicURL = publicURL
        let host = publicURL.host ?? "localhost"
        self.serviceDID = "did:web:" + (publicURL.port.map { "\(host)%3A\($0)" } ?? host)
        self.accounts = accounts
        self.repos = repos
        self.commits = CommitQueue(store: repos)
        self.writers = WriterCache(capacity: config.writerCacheSize)
        self.blobs = blobs
        self.plc = PLCDirectory(store: plcStore)
        self.firehose = try await Firehose(events: events, limits: config.connections)
        self.keys = keys
        self.tokens = await TokenIssuer(secret: try await keys.jwtSecret(), audience: serviceDID)
        self.passwords = PasswordHasher(cost: config.bcryptCost)
        self.rotationKey = try await keys.rotationKey()
        self.lexicons = try LexiconCatalog.bundled()
        self.logger = logger
        // The services the operator named: the AppView, the chat service and the PLC directory.
        let trusted = [config.appview?.url, config.chat?.url, config.plcURL].compactMap { $0.flatMap { try? CrawlHost(url: $0).description } }
        self.proxyTransport = GuardedTransport(policy: HostPolicy(allowPrivate: config.proxyAllowPrivate, trusted: Set(trusted)))
        self.serviceResolver = DIDResolver(plcURL: config.plcURL ?? publicURL, transport: proxyTransport, timeout: .seconds(10))
        self.identity = IdentityResolver(dns: config.dns, didResolver: serviceResolver, transport: proxyTransport)
    }

    /// The account of `did`, from memory after the first lookup.
    func account(_ did: DID) async throws -> AccountRecord? {
        if let known = knownAccounts.withLock({ $0[did] }) { return known }
        guard let account = try await accounts.account(did: did) else { return nil }
        knownAccounts.withLock { $0[did] = account }
        return account
    }

    /// Drops the remembered account of `did`, after its handle changed.
    func forgetAccount(_ did: DID) {
        _ = knownAccounts.withLock { $0.removeValue(forKey: did) }
    }

    /// The writer of `did`'s repository, loaded on first use.
    func writer(for did: DID) async throws -> RepoWriter {
        if let writer = writers.writer(for: did), !writer.isRetired { return writer }
        guard try await account(did) != nil else { throw XRPCError.named("RepoNotFound", "Could not find repo for DID: \(did)") }
        return writers.insert(try RepoWriter(did: did, key: try await keys.signingKey(for: did), store: repos, commits: commits, publish: publisher))
    }

    /// The commit, and the blocks that prove `path` present or absent: from
    /// the writer when it is in memory, else read along the path from the
    /// store, without loading the whole tree into a writer (so that reading
    /// records of many accounts does not evict the writers of busy ones).
    func recordProof(did: DID, path: RepoPath) async throws -> (commit: CID, blocks: [(cid: CID, bytes: [UInt8])]) {
        if let writer = writers.writer(for: did), !writer.isRetired { return try await writer.proof(for: path) }
        let store = repos.blocks(of: did)
        do {
            let proof = try repos.readingStableRoot(of: did) { root in
                (root.commit, try Repository.recordProof(for: path, commit: root.commit, in: store))
            }
            if let proof { return proof }
        } catch let error as RepoError where error.code == .missingBlock {
            // Still moving after a few tries: the writer has the tree.
        }
        return try await writer(for: did).proof(for: path)
    }

    /// Applies `ops` to `did`'s repository through its writer, fetched again
    /// if the cache retired it meanwhile, and tried again (a few times) on
    /// the stored state if the writer had built on an older commit.
    func write(_ did: DID, _ ops: [WriteOp], swapCommit: CID?) async throws -> WriteOutcome {
        var staleTries = 0
        while true {
            do {
                return try await writer(for: did).apply(ops, swapCommit: swapCommit)
            } catch is RepoWriter.Retired {
                continue
            } catch let stale as RepoWriter.Stale {
                staleTries += 1
                guard staleTries < 4 else { throw stale.refusal }
            }
        }
    }

    /// What writers call with their durable events.
    var publisher: @Sendable (SequencedEvent) -> Void {
        { [self] in
            firehose.publish($0)
            notifyCrawlersIfDue()
        }
    }

    /// The DID of a repo parameter: a DID, or a handle of this server.
    func resolveRepo(_ identifier: ATIdentifier) async throws -> DID {
        switch identifier {
        case .did(let did):
            guard try await account(did) != nil else { throw XRPCError.named("RepoNotFound", "Could not find repo for DID: \(did)") }
            return did
        case .handle(let handle):
            guard let account = try await accounts.account(handle: handle) else {
                throw XRPCError.named("RepoNotFound", "Could not find repo for handle: \(handle)")
            }
            return account.did
        }
    }

    /// Every XRPC method the PDS serves itself.
    func registerMethods(_ methods: inout XRPCMethods) {
        registerServerMethods(&methods)
        registerRepoMethods(&methods)
        registerSyncMethods(&methods)
        registerPreferenceMethods(&methods)
        registerIdentityMethods(&methods)
        registerAccountStatusMethods(&methods)
        registerDeletionMethods(&methods)
        registerAppPasswordMethods(&methods)
        registerEmailMethods(&methods)
        registerMigrationMethods(&methods)
        registerPLCOperationMethods(&methods)
        methods.fallback = { [self] call in try await proxy(&call) }
    }

    /// The DID a valid access token speaks for: a full session's or an app
    /// password's that has not been revoked.
    func authenticate(_ call: XRPCRequest) async throws -> DID {
        try await credentials(call).did
    }

    /// Who a valid access token speaks for, with its scope and app password.
    func credentials(_ call: XRPCRequest) async throws -> (did: DID, scope: TokenIssuer.Scope, appPassword: String?) {
        let token = try call.bearer()
        let verified: (did: DID, scope: TokenIssuer.Scope, id: String?, appPassword: String?)
        do {
            verified = try await tokens.verify(token, scopes: TokenIssuer.Scope.accessScopes)
        } catch .expired {
            throw XRPCError.expiredToken
        } catch .invalid(let why) {
            throw XRPCError.invalidToken(why)
        }
        if let name = verified.appPassword, try await !accounts.appPasswords(did: verified.did).contains(where: { $0.name == name }) {
            throw XRPCError.named("ExpiredToken", "Token has been revoked")
        }
        return (verified.did, verified.scope, verified.appPassword)
    }

    /// The DID of a full session, not an app password's: for what changes
    /// the account, its identity or its app passwords.
    ///
    /// - Throws: 400 `InvalidToken` ("Bad token scope") for an app-password session.
    func authenticateFully(_ call: XRPCRequest) async throws -> DID {
        let credentials = try await credentials(call)
        guard credentials.scope == .access else { throw XRPCError.invalidToken("Bad token scope") }
        return credentials.did
    }

    /// The DID of `repo`, which the authenticated `caller` must own.
    func authorize(_ caller: DID, toWrite repo: ATIdentifier) async throws -> DID {
        let target = try await resolveRepo(repo)
        guard caller == target else { throw XRPCError.notYourRepo("Not authorized to write to \(target)") }
        try await requireActiveForWrites(caller)
        return target
    }

    /// Whether the request carries the admin password (HTTP Basic, user
    /// `admin`); 429 for a client that failed too often.
    func isAdmin(_ call: XRPCRequest) throws -> Bool {
        guard let password = config.adminPassword else { return false }
        return try call.isBasicAuth(user: "admin", password: password, limiter: limiter, attempts: config.adminAttemptLimit)
    }
}

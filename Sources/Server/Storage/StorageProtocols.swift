import ATData
import ATRepo
import ATSyntax
import Foundation

/// An account as the PDS stores it.
public struct AccountRecord: Sendable, Hashable {
    /// The account's DID.
    public var did: DID
    /// Its handle.
    public var handle: Handle
    /// Its email, if given.
    public var email: String?
    /// The bcrypt hash of its password.
    public var passwordHash: String
    /// When it was created.
    public var createdAt: Date
    /// When its owner deactivated it; `nil` while it is not deactivated.
    public var deactivatedAt: Date?
    /// The moderation reference of its takedown; `nil` unless it is taken down.
    public var takedownRef: String?
    /// When its owner confirmed its email (with a token sent to it).
    public var emailConfirmedAt: Date?

    /// An account with these fields.
    public init(
        did: DID, handle: Handle, email: String?, passwordHash: String, createdAt: Date, deactivatedAt: Date? = nil,
        takedownRef: String? = nil, emailConfirmedAt: Date? = nil
    ) {
        self.did = did
        self.handle = handle
        self.email = email
        self.passwordHash = passwordHash
        self.createdAt = createdAt
        self.deactivatedAt = deactivatedAt
        self.takedownRef = takedownRef
        self.emailConfirmedAt = emailConfirmedAt
    }

    /// Whether its repository is served and written: neither deactivated nor taken down.
    public var isActive: Bool { deactivatedAt == nil && takedownRef == nil }

    /// Why it is inactive, as `#account` and `getRepoStatus` say it: a
    /// takedown wins over a deactivation; `nil` when active.
    public var status: String? { takedownRef != nil ? "takendown" : deactivatedAt != nil ? "deactivated" : nil }
}

/// An app password: a second password, for one app, that cannot manage the account.
public struct AppPasswordRecord: Sendable, Hashable {
    /// The account.
    public var did: DID
    /// The name the owner gave it.
    public var name: String
    /// Its bcrypt hash.
    public var passwordHash: String
    /// Whether its sessions may also reach chat.
    public var privileged: Bool
    /// When it was made.
    public var createdAt: Date

    /// An app password with these fields.
    public init(did: DID, name: String, passwordHash: String, privileged: Bool, createdAt: Date) {
        self.did = did
        self.name = name
        self.passwordHash = passwordHash
        self.privileged = privileged
        self.createdAt = createdAt
    }
}

/// Accounts, refresh tokens and invite codes.
public protocol AccountStore: Sendable {
    /// Stores a new account; throws ``StorageError/conflict`` when its DID,
    /// handle or email is taken.
    func createAccount(_ account: AccountRecord) async throws
    /// The account with this DID.
    func account(did: DID) async throws -> AccountRecord?
    /// The account with this handle.
    func account(handle: Handle) async throws -> AccountRecord?
    /// The account with this email.
    func account(email: String) async throws -> AccountRecord?
    /// Records a refresh token's id as valid until `expiresAt`, for a session
    /// opened with the app password `appPassword`, if any.
    func storeRefreshToken(id: String, did: DID, expiresAt: Date, appPassword: String?) async throws
    /// Removes a refresh token; `nil` when it was not (or no longer) valid,
    /// else the app password of its session (`.some(nil)` for none).
    func consumeRefreshToken(id: String) async throws -> String??
    /// Stores an app password; throws ``StorageError/conflict`` when the account has one of that name.
    func createAppPassword(_ password: AppPasswordRecord) async throws
    /// The account's app passwords, by name.
    func appPasswords(did: DID) async throws -> [AppPasswordRecord]
    /// Removes an app password and the sessions opened with it; `false` when there is none of that name.
    func deleteAppPassword(did: DID, name: String) async throws -> Bool
    /// Uses one use of an invite code; `false` when it has none left.
    func useInviteCode(_ code: String) async throws -> Bool
    /// Creates an invite code good for `uses` accounts.
    func createInviteCode(_ code: String, uses: Int) async throws
    /// Marks the account deactivated at `date`, or active again with `nil`.
    func setDeactivated(did: DID, at date: Date?) async throws
    /// Takes the account down with the moderation reference `ref`, or lifts the takedown with `nil`.
    func setTakedown(did: DID, ref: String?) async throws
    /// Replaces the account's password hash.
    func setPasswordHash(_ hash: String, did: DID) async throws
    /// Keeps a one-use `token` for `purpose` (account deletion, say) until
    /// `expiresAt`, replacing the account's earlier one for that purpose.
    func storeEmailToken(_ token: String, purpose: String, did: DID, expiresAt: Date) async throws
    /// Uses up the token: `true` when it was the account's for `purpose` and
    /// had not expired at `now`. A token works once.
    func consumeEmailToken(_ token: String, purpose: String, did: DID, now: Date) async throws -> Bool
    /// Uses up a token for `purpose` whoever it was sent to: the account it
    /// was for, when it is good at `now`.
    func consumeEmailToken(_ token: String, purpose: String, now: Date) async throws -> DID?
    /// Sets the account's email (`nil` leaves it) and when it was confirmed
    /// (`nil`: not confirmed); ``StorageError/conflict`` when another account has that email.
    func setEmail(_ email: String?, confirmedAt: Date?, did: DID) async throws
    /// Removes the account and what it alone holds: sessions, tokens,
    /// preferences.
    func deleteAccount(did: DID) async throws
    /// Gives the account a new handle; throws ``StorageError/conflict`` when
    /// another account has it.
    func updateHandle(did: DID, handle: Handle) async throws
    /// Takes down one subject of `did` (a record's AT-URI or a blob's CID)
    /// with `ref`, or lifts the takedown (`nil`).
    func setTakedown(did: DID, subject: String, ref: String?) async throws
    /// The takedown reference of a subject of `did`, when it is taken down.
    func takedown(did: DID, subject: String) async throws -> String?
    /// The account's app preferences as last stored: the JSON object
    /// `app.bsky.actor.getPreferences` answers.
    func preferences(did: DID) async throws -> [UInt8]?
    /// Replaces the account's app preferences.
    func setPreferences(_ json: [UInt8], did: DID) async throws
}

/// A repository's current commit.
public struct RepoRoot: Sendable, Hashable {
    /// The account.
    public var did: DID
    /// The commit block's CID.
    public var commit: CID
    /// The commit's revision.
    public var rev: TID
}

/// One commit, as the store writes it in a single transaction.
public struct StoredCommit: Sendable {
    /// The account.
    public var did: DID
    /// The new commit.
    public var commit: CID
    /// Its revision.
    public var rev: TID
    /// The blocks it adds (records, MST nodes, the commit).
    public var newBlocks: [(cid: CID, bytes: [UInt8])]
    /// Blocks it no longer needs: replaced nodes and records, and the previous commit.
    public var removed: [CID]
    /// Record index changes: the new CID of each path, `nil` for a delete.
    public var records: [(collection: String, rkey: String, cid: CID?)]
    /// The blobs each written path references (empty for a delete).
    public var blobs: [(collection: String, rkey: String, cids: [CID])]
    /// The firehose frame of this commit, given its sequence number; stored
    /// in the same transaction.
    public var event: (@Sendable (Int64) -> [UInt8])?
    /// The commit this one follows. When set, a group write refuses this
    /// commit (`conflict`) unless it is the stored root at its turn.
    public var previous: CID? = nil
}

/// A firehose event with its sequence number.
public struct SequencedEvent: Sendable, Hashable {
    /// The sequence number: increasing, without gaps.
    public var seq: Int64
    /// The frame: DAG-CBOR header and body.
    public var frame: [UInt8]
}

/// The persisted firehose: every event in sequence.
///
/// Sequence numbers increase by one, with no gaps, and an event becomes
/// visible only after every event before it: a reader that follows the log
/// by `seq` never passes over one that commits later.
public protocol EventStore: Sendable {
    /// Appends an event built from its sequence number.
    func appendEvent(did: DID, _ make: @escaping @Sendable (Int64) -> [UInt8]) async throws -> SequencedEvent
    /// Events after `seq`, in order, up to `limit`.
    func events(after seq: Int64, limit: Int) async throws -> [SequencedEvent]
    /// The oldest and latest sequence numbers kept, `nil` before any event.
    func eventBounds() async throws -> (oldest: Int64, latest: Int64)?
    /// Drops events older than `date`, keeping at least the latest.
    func pruneEvents(before date: Date) async throws
}

/// Repositories: blocks with the revision that wrote them, the current
/// commit, the record index and blob references.
public protocol RepoStore: Sendable {
    /// The current commit of `did`'s repository.
    func root(of did: DID) throws -> RepoRoot?
    /// The blocks of `did`'s repository, for reading.
    func blocks(of did: DID) -> any BlockStore
    /// Writes a commit, all of it or nothing, with its firehose event when it
    /// has one. Blocks that are removed and not still used by another path are
    /// deleted, so the store holds exactly the current repository.
    @discardableResult
    func apply(_ commit: StoredCommit) throws -> SequencedEvent?
    /// Writes commits in order in one transaction, one sync to disk for all
    /// (group commit). A commit whose ``StoredCommit/previous`` is not the
    /// root at its turn is refused alone, with `conflict`; a failure of the
    /// transaction fails them all.
    func apply(group commits: [StoredCommit]) throws -> [Result<SequencedEvent?, StorageError>]
    /// Records of a collection in key order (reversed when `reverse`), after `cursor`.
    func records(of did: DID, collection: String, limit: Int, cursor: String?, reverse: Bool) throws -> [(rkey: String, cid: CID)]
    /// The collections that have records.
    func collections(of did: DID) throws -> [String]
    /// Blobs referenced by records, in CID order, after `cursor`; with `since`,
    /// only those referenced by writes after that revision.
    func blobs(of did: DID, since: TID?, cursor: String?, limit: Int) throws -> [String]
    /// Repositories in DID order, after `cursor`.
    func repos(after cursor: String?, limit: Int) throws -> [RepoRoot]
    /// The CID of one record, from the index.
    func record(of did: DID, collection: String, rkey: String) throws -> CID?
    /// Removes the repository: its blocks, records, blob references and root.
    func deleteRepo(of did: DID) throws
    /// How many blocks, records and distinct referenced blobs the repository has.
    func counts(of did: DID) throws -> (blocks: Int, records: Int, blobs: Int)
    /// A consistent view of one repository for an export, unaffected by
    /// commits that land while it is read; `nil` when there is no such repository.
    func snapshot(of did: DID) throws -> (any RepoSnapshot)?
    /// The blobs records reference, with one record that references each, in
    /// blob CID order after `cursor`.
    func blobReferences(of did: DID, after cursor: String?, limit: Int) throws -> [(blob: String, collection: String, rkey: String)]
    /// Whether a record of `did` references the blob.
    func referencesBlob(_ cid: CID, of did: DID) throws -> Bool
    /// Starts replacing `did`'s repository with an imported one. Blocks are
    /// staged on disk as they arrive, apart from every repository, until
    /// ``RepoImport/install(rev:_:)``.
    func beginImport(did: DID) throws -> any RepoImport
}

/// A repository import in progress: staged blocks, then one transaction
/// that swaps the repository.
public protocol RepoImport: Sendable {
    /// Stages blocks. A CID staged twice is kept once.
    func stage(_ blocks: [(cid: CID, bytes: [UInt8])]) throws
    /// In one transaction: removes the account's repository; calls `build`
    /// with the staged blocks and a sink, to walk the tree (keeping its nodes
    /// and indexing its records by path); then reads the block of every
    /// indexed record once, in CID order, passes it to `checkRecord` (which
    /// throws for a bad record and returns the blobs it references) and
    /// stores it; stores the kept nodes and the commit block `build`
    /// returned, and sets the root to that commit (all written at `rev`).
    ///
    /// - Throws: what `build` or `checkRecord` throw, or ``RepoError`` with
    ///   ``RepoError/Code/missingBlock`` for an indexed record that was not
    ///   staged. Nothing changes then. The staged blocks are dropped either way.
    func install(
        rev: TID, _ build: (_ staged: any BlockStore, _ sink: any ImportSink) throws -> (cid: CID, bytes: [UInt8]),
        checkRecord: (CID, [UInt8]) throws -> [CID]
    ) throws
    /// Drops the staged blocks.
    func discard()
}

/// Where an import's verified repository goes.
public protocol ImportSink {
    /// Keeps a staged MST node (records are kept by ``index(collection:rkey:cid:)``).
    func keep(_ cid: CID) throws
    /// Indexes a record by its path.
    func index(collection: String, rkey: String, cid: CID) throws
}

/// One repository frozen at a commit, read in batches.
public protocol RepoSnapshot: Sendable {
    /// The commit the snapshot is at.
    var root: RepoRoot { get }
    /// Calls `body` with the repository's blocks — all, or those written
    /// after `since` — as framed CAR sections, a chunk of at most `batchSize`
    /// blocks at a time, which ends early once it holds `maxBytes`; never all of them.
    func forEachSectionChunk(since: TID?, batchSize: Int, maxBytes: Int, _ body: ([UInt8]) async throws -> Void) async throws
    /// Releases what the snapshot holds; reading it afterwards fails.
    func close()
}

/// Uploaded blobs.
public protocol BlobStore: Sendable {
    /// Stores an upload for `did` as it streams in, hashing it on the way;
    /// it is pending (unreferenced) until a record claims it. Its MIME type
    /// is what `mimeType` makes of its first ``MediaType/sniffLength`` bytes
    /// (all of them when it is shorter); a blob stored before keeps its type.
    ///
    /// - Throws: ``BlobUploadError/tooLarge(_:)`` past `maxBytes`, what
    ///   `chunks` throws (a body that ends early), or ``StorageError``. Nothing
    ///   of a failed upload is kept.
    func put<Chunks: AsyncSequence>(
        did: DID, maxBytes: Int, chunks: Chunks, mimeType: ([UInt8]) -> String
    ) async throws -> BlobUpload where Chunks.Element == [UInt8]
    /// Whether `did` has the blob, pending or claimed.
    func exists(did: DID, cid: CID) -> Bool
    /// Marks the blob as referenced by a record; `false` when there is no such blob.
    func claim(did: DID, cid: CID) throws -> Bool
    /// Bytes of `did`'s pending blobs.
    func unreferencedBytes(did: DID) -> Int
    /// Deletes the pending blobs of every account uploaded before `cutoff`; returns how many.
    func collectOrphans(olderThan cutoff: Date) -> Int
    /// Deletes every blob of `did`, pending or claimed.
    func deleteAll(did: DID) throws
    /// A blob's size and MIME type, without its bytes.
    func metadata(did: DID, cid: CID) throws -> (size: Int, mimeType: String)?
    /// Calls `body` with the blob's bytes, `chunkSize` at a time.
    func read(did: DID, cid: CID, chunkSize: Int, _ body: ([UInt8]) async throws -> Void) async throws
}

/// A stored upload.
public struct BlobUpload: Sendable, Hashable {
    /// Its CID (raw codec).
    public var cid: CID
    /// Its size in bytes.
    public var size: Int
    /// Its MIME type, as stored.
    public var mimeType: String
}

/// Why an upload was refused.
public enum BlobUploadError: Error, Sendable {
    /// The body is larger than the limit.
    case tooLarge(Int)
}

/// The operation log of the PLC directory role.
public protocol PLCStore: Sendable {
    /// The operations of `did`, oldest first, as JSON.
    func operations(of did: DID) async throws -> [Data]
    /// Appends an operation to the log of `did`, whose last operation must
    /// be `last` (`nil`: the log must be empty). Throws
    /// ``StorageError/conflict`` otherwise, so that two operations checked
    /// against the same log cannot both be appended.
    func append(did: DID, operation: Data, cid: CID, after last: CID?) async throws
}

/// A storage failure.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure.
    public enum Code: Sendable, Hashable {
        /// A unique value is taken.
        case conflict
        /// Stored data is not what it should be.
        case corrupt
        /// The database or the disk failed.
        case io
    }

    /// What kind of failure.
    public let code: Code
    /// What happened.
    public let message: String

    /// An error with this code and message.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

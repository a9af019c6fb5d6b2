import ATData
import ATRepo
import ATSyntax
import Foundation

/// The state of a host the relay crawls (`com.atproto.sync.defs#hostStatus`).
public enum HostStatus: String, Sendable, Hashable, CaseIterable {
    /// Subscribed, or to be subscribed.
    case active
    /// Not heard from in a while.
    case idle
    /// Its firehose cannot be reached; retried with backoff.
    case offline
    /// Over its rate limit.
    case throttled
    /// Banned by the operator: never crawled, `requestCrawl` gets `HostBanned`.
    case banned
}

/// A host the relay knows.
public struct HostRecord: Sendable, Hashable {
    /// The hostname as requested: `pds.example.com`, or `127.0.0.1:2583`.
    public var hostname: String
    /// The sequence number of the last event processed from it.
    public var cursor: Int64
    /// Its state.
    public var status: HostStatus
    /// When it was first requested.
    public var firstSeen: Date
}

/// Whether a mirrored repository follows its host.
public enum MirrorStatus: String, Sendable, Hashable {
    /// Up to date with the host's firehose.
    case active
    /// A gap was seen (a sequence jump, a reconnect that could not replay, a
    /// commit that failed verification, or a `#sync`); a resync is due.
    case desynchronized
    /// Its host said (`#account`) the account is deactivated: not served.
    case deactivated
    /// Its host said the account is taken down: not served.
    case takendown
    /// Its host said the account is suspended: not served.
    case suspended
    /// Its host said the account is deleted: not served.
    case deleted

    /// The status an `#account` event with `active` and `status` gives.
    static func account(active: Bool, status: String?) -> MirrorStatus {
        if active { return .active }
        return status.flatMap(MirrorStatus.init(rawValue:)).flatMap { $0 == .active || $0 == .desynchronized ? nil : $0 } ?? .deactivated
    }

    /// Whether its host says the account is not to be served.
    var isAccountInactive: Bool { self != .active && self != .desynchronized }

    /// The error a read of such a repository gets, as the sync lexicons name it.
    var readError: XRPCError? {
        switch self {
        case .active, .desynchronized: nil
        case .deactivated: XRPCError.named("RepoDeactivated", "Repo has been deactivated")
        case .takendown: XRPCError.named("RepoTakendown", "Repo has been takendown")
        case .suspended: XRPCError.named("RepoSuspended", "Repo has been suspended")
        case .deleted: XRPCError.named("RepoNotFound", "Repo has been deleted")
        }
    }
}

/// A repository the relay mirrors.
public struct MirroredRepo: Sendable, Hashable {
    /// The account.
    public var did: DID
    /// The host it was last seen on.
    public var host: String
    /// Whether it is in sync.
    public var status: MirrorStatus
    /// The mirrored commit, once it has one.
    public var commit: CID?
    /// Its revision.
    public var rev: TID?
    /// Its MST root.
    public var data: CID?

    /// A repository with no commit yet.
    public init(did: DID, host: String, status: MirrorStatus) {
        self.did = did
        self.host = host
        self.status = status
    }
}

/// A verified commit from a host's firehose, ready to store.
public struct MirroredCommit: Sendable {
    /// The commit, as the repository store takes it (its event is re-sequenced).
    public var stored: StoredCommit
    /// Its MST root.
    public var data: CID
}

/// What the relay keeps besides the repositories: the hosts with their
/// cursors, and the sync state of each mirrored repository.
public protocol RelayStore: Sendable {
    /// The host named `hostname`.
    func host(_ hostname: String) throws -> HostRecord?
    /// Adds a host (as `active`, cursor 0) unless it is known; returns it.
    func addHost(_ hostname: String) throws -> HostRecord
    /// Sets a host's status; a ban is final (a crawler finishing its last
    /// round cannot mark a banned host `offline` or `active` again).
    func setStatus(_ status: HostStatus, ofHost hostname: String) throws
    /// Hosts in the order they were first seen, after `cursor` (a hostname).
    func hosts(after cursor: String?, limit: Int) throws -> [HostRecord]
    /// Records that events up to `seq` from `hostname` are processed.
    func setCursor(_ seq: Int64, ofHost hostname: String) throws
    /// The number of mirrored repositories last seen on `hostname`.
    func accountCount(ofHost hostname: String) throws -> Int
    /// The sync state of `did`.
    func mirroredRepo(_ did: DID) throws -> MirroredRepo?
    /// Every mirrored repository of `hostname`.
    func mirroredRepos(ofHost hostname: String) throws -> [MirroredRepo]
    /// Sets the sync state of `did`, creating it when new.
    func setStatus(_ status: MirrorStatus, of did: DID, host: String) throws
    /// Stores commits from `hostname` in one transaction, with the host's
    /// cursor (when given); returns their re-sequenced events.
    func apply(_ commits: [MirroredCommit], host: String, cursor: Int64?) throws -> [SequencedEvent]
    /// Replaces a repository with a fresh copy — `repository.stored` holds
    /// every block, record and blob reference, and the `#sync` event — and
    /// marks it `active`, in one transaction; returns the event.
    func replace(with repository: MirroredCommit, host: String) throws -> SequencedEvent
}

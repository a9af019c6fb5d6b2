import ATData
import ATProtoAPI
import ATSyntax

/// A commit by CID and revision: `getLatestCommit`'s output, and the `commit`
/// of a write.
public struct CommitRef: Sendable, Hashable, Codable {
    /// The commit block's CID.
    public var cid: CID
    /// The commit's revision.
    public var rev: TID

    /// A reference with these fields.
    public init(cid: CID, rev: TID) {
        self.cid = cid
        self.rev = rev
    }
}

/// One page of `com.atproto.sync.listBlobs`.
public struct BlobPage: Sendable, Hashable, Codable {
    /// The blobs' CIDs.
    public var cids: [CID]
    /// Where the next page starts, if there is one.
    public var cursor: String?
}

/// `com.atproto.sync.getRepoStatus`'s output.
public struct RepoStatus: Sendable, Hashable, Codable {
    /// The account.
    public var did: DID
    /// Whether the repository is served.
    public var active: Bool
    /// Why not, when it is not: `takendown`, `suspended`, `deactivated`, …
    public var status: String?
    /// The current revision, for an active repository.
    public var rev: TID?
}

/// One entry of `com.atproto.sync.listRepos`.
public struct RepoListing: Sendable, Hashable, Codable {
    /// The account.
    public var did: DID
    /// The current commit's CID.
    public var head: CID
    /// The current revision.
    public var rev: TID
    /// Whether the repository is served.
    public var active: Bool?
    /// Why not, when it is not.
    public var status: String?
}

/// One page of `com.atproto.sync.listRepos`.
public struct RepoPage: Sendable, Hashable, Codable {
    /// The repositories.
    public var repos: [RepoListing]
    /// Where the next page starts, if there is one.
    public var cursor: String?
}

/// A blob's bytes and type, from `com.atproto.sync.getBlob`.
public struct BlobData: Sendable, Hashable {
    /// The bytes.
    public var bytes: [UInt8]
    /// The `Content-Type` the server gave.
    public var mimeType: String?

    /// A blob with these fields.
    public init(bytes: [UInt8], mimeType: String?) {
        self.bytes = bytes
        self.mimeType = mimeType
    }
}

/// One page of `com.atproto.sync.listHosts`.
public struct HostPage: Sendable, Hashable, Codable {
    /// The hosts.
    public var hosts: [HostInfo]
    /// Where the next page starts, if there is one.
    public var cursor: String?
}

/// A host a relay crawls (`com.atproto.sync.listHosts#host`, `getHostStatus`).
public struct HostInfo: Sendable, Hashable, Codable {
    /// The hostname, with a port when it has one.
    public var hostname: String
    /// The last sequence number the relay processed from it.
    public var seq: Int64?
    /// The accounts the relay mirrors from it.
    public var accountCount: Int?
    /// `active`, `idle`, `offline`, `throttled` or `banned`.
    public var status: String?
}

extension CommitRef {
    /// The reference a generated output holds.
    init(_ meta: Com.Atproto.Repo.Defs.CommitMeta) {
        self.init(cid: meta.cid, rev: meta.rev)
    }
}

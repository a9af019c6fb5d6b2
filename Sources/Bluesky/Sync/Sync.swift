import ATData
import ATProtoAPI
import ATSyntax
import HTTPTypes

extension Bluesky {
    /// The `com.atproto.sync.*` endpoints, on PDS and relay hosts alike. They
    /// need no authentication.
    public struct Sync: Sendable {
        let client: Bluesky

        /// `com.atproto.sync.getRepo`: the repository as CAR bytes, whole, or
        /// only the blocks new since revision `since`.
        ///
        /// See ``streamRepo(did:since:options:)`` to read the blocks as they
        /// arrive, and ``repository(did:key:resolver:options:)`` for verified records.
        public func getRepo(did: DID, since: TID? = nil, options: CallOptions = .init()) async throws(BlueskyError) -> [UInt8] {
            var call = XRPCCall.query("com.atproto.sync.getRepo", [("did", did.description), ("since", since?.description)])
            call.accept = "application/vnd.ipld.car"
            return try await client.data(call, options: options, limit: .max).1
        }

        /// `com.atproto.sync.getRepo` as a stream of CAR blocks, each checked
        /// against its CID as it arrives.
        ///
        /// ```swift
        /// var reader = try await bluesky.sync.streamRepo(did: did)
        /// let header = try await reader.header()
        /// while let block = try await reader.next() { … reader.byteCount … }
        /// ```
        ///
        /// Retries cover the request until the response starts. Reading then
        /// throws `DataError` for a malformed CAR and ``BlueskyError`` when the
        /// connection fails.
        public func streamRepo(did: DID, since: TID? = nil, options: CallOptions = .init()) async throws(BlueskyError) -> CARStreamReader<ResponseBody> {
            var call = XRPCCall.query("com.atproto.sync.getRepo", [("did", did.description), ("since", since?.description)])
            call.accept = "application/vnd.ipld.car"
            let response = try await client.open(call, options: options)
            return CARStreamReader(response.body)
        }

        /// `com.atproto.sync.listBlobs`, one page.
        public func listBlobs(
            did: DID, since: TID? = nil, limit: Int? = nil, cursor: String?, options: CallOptions = .init()
        ) async throws(BlueskyError) -> BlobPage {
            let page = try await api.listBlobs(did: did, since: since, limit: limit, cursor: cursor, options: options)
            return BlobPage(cids: page.cids, cursor: page.cursor)
        }

        /// `com.atproto.sync.listBlobs`, every page in turn.
        public func listBlobs(did: DID, since: TID? = nil, limit: Int? = nil, options: CallOptions = .init()) -> Pages<BlobPage> {
            Pages { cursor throws(BlueskyError) in
                let page = try await listBlobs(did: did, since: since, limit: limit, cursor: cursor, options: options)
                return (page, page.cursor)
            }
        }

        /// `com.atproto.sync.notifyOfUpdate`: tells a relay that `hostname` has
        /// new data, so that it crawls it again.
        public func notifyOfUpdate(hostname: String, options: CallOptions = .init()) async throws(BlueskyError) {
            try await api.notifyOfUpdate(hostname: hostname, options: options)
        }

        /// `com.atproto.sync.requestCrawl`: asks a relay to start crawling `hostname`.
        public func requestCrawl(hostname: String, options: CallOptions = .init()) async throws(BlueskyError) {
            try await api.requestCrawl(hostname: hostname, options: options)
        }

        /// `com.atproto.sync.getBlob`: a blob's bytes.
        public func getBlob(did: DID, cid: CID, options: CallOptions = .init()) async throws(BlueskyError) -> BlobData {
            var call = XRPCCall.query("com.atproto.sync.getBlob", [("did", did.description), ("cid", cid.description)])
            call.accept = "*/*"
            let (head, bytes) = try await client.data(call, options: options, limit: .max)
            return BlobData(bytes: bytes, mimeType: head.headerFields[.contentType])
        }

        /// `com.atproto.sync.getLatestCommit`: the current commit's CID and revision.
        public func getLatestCommit(did: DID, options: CallOptions = .init()) async throws(BlueskyError) -> CommitRef {
            let commit = try await api.getLatestCommit(did: did, options: options)
            return CommitRef(cid: commit.cid, rev: commit.rev)
        }

        /// `com.atproto.sync.getRepoStatus`: whether a repository is served, and its revision.
        public func getRepoStatus(did: DID, options: CallOptions = .init()) async throws(BlueskyError) -> RepoStatus {
            let s = try await api.getRepoStatus(did: did, options: options)
            return RepoStatus(did: s.did, active: s.active, status: s.status, rev: s.rev)
        }

        /// `com.atproto.sync.listRepos`, one page.
        public func listRepos(limit: Int? = nil, cursor: String?, options: CallOptions = .init()) async throws(BlueskyError) -> RepoPage {
            let page = try await api.listRepos(limit: limit, cursor: cursor, options: options)
            return RepoPage(
                repos: page.repos.map { RepoListing(did: $0.did, head: $0.head, rev: $0.rev, active: $0.active, status: $0.status) },
                cursor: page.cursor)
        }

        /// `com.atproto.sync.listRepos`, every page in turn.
        public func listRepos(limit: Int? = nil, options: CallOptions = .init()) -> Pages<RepoPage> {
            Pages { cursor throws(BlueskyError) in
                let page = try await listRepos(limit: limit, cursor: cursor, options: options)
                return (page, page.cursor)
            }
        }

        /// `com.atproto.sync.listHosts` (a relay), one page.
        public func listHosts(limit: Int? = nil, cursor: String?, options: CallOptions = .init()) async throws(BlueskyError) -> HostPage {
            let page = try await api.listHosts(limit: limit, cursor: cursor, options: options)
            return HostPage(
                hosts: page.hosts.map { HostInfo(hostname: $0.hostname, seq: $0.seq.map(Int64.init), accountCount: $0.accountCount, status: $0.status) },
                cursor: page.cursor)
        }

        /// `com.atproto.sync.listHosts` (a relay), every page in turn.
        public func listHosts(limit: Int? = nil, options: CallOptions = .init()) -> Pages<HostPage> {
            Pages { cursor throws(BlueskyError) in
                let page = try await listHosts(limit: limit, cursor: cursor, options: options)
                return (page, page.cursor)
            }
        }

        /// `com.atproto.sync.getHostStatus` (a relay): what it knows of one host.
        public func getHostStatus(hostname: String, options: CallOptions = .init()) async throws(BlueskyError) -> HostInfo {
            let h = try await api.getHostStatus(hostname: hostname, options: options)
            return HostInfo(hostname: h.hostname, seq: h.seq.map(Int64.init), accountCount: h.accountCount, status: h.status)
        }

        /// The generated `com.atproto.sync` methods these wrap.
        private var api: Bluesky.ComAtprotoSyncAPI { client.com.atproto.sync }

        /// `com.atproto.sync.getRecord`: a CAR with the commit, the MST nodes
        /// on the record's path, and the record: a proof of it (or of its absence).
        public func getRecord(did: DID, collection: NSID, rkey: RecordKey, options: CallOptions = .init()) async throws(BlueskyError) -> [UInt8] {
            var call = XRPCCall.query("com.atproto.sync.getRecord", [
                ("did", did.description), ("collection", collection.description), ("rkey", rkey.description),
            ])
            call.accept = "application/vnd.ipld.car"
            return try await client.data(call, options: options, limit: .max).1
        }

        /// `com.atproto.sync.getBlocks`: a CAR of the requested blocks.
        public func getBlocks(did: DID, cids: [CID], options: CallOptions = .init()) async throws(BlueskyError) -> [UInt8] {
            var call = XRPCCall.query("com.atproto.sync.getBlocks", [("did", did.description)])
            call.parameters += cids.map { ("cids", $0.description) }
            call.accept = "application/vnd.ipld.car"
            return try await client.data(call, options: options, limit: .max).1
        }
    }
}

import ATData
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
            try await client.json(
                .query("com.atproto.sync.listBlobs", [
                    ("did", did.description), ("since", since?.description), ("limit", limit.map(String.init)), ("cursor", cursor),
                ]), options: options)
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
            try await client.send(.procedure("com.atproto.sync.notifyOfUpdate", json: ["hostname": .string(hostname)]), options: options)
        }

        /// `com.atproto.sync.requestCrawl`: asks a relay to start crawling `hostname`.
        public func requestCrawl(hostname: String, options: CallOptions = .init()) async throws(BlueskyError) {
            try await client.send(.procedure("com.atproto.sync.requestCrawl", json: ["hostname": .string(hostname)]), options: options)
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
            try await client.json(.query("com.atproto.sync.getLatestCommit", [("did", did.description)]), options: options)
        }

        /// `com.atproto.sync.getRepoStatus`: whether a repository is served, and its revision.
        public func getRepoStatus(did: DID, options: CallOptions = .init()) async throws(BlueskyError) -> RepoStatus {
            try await client.json(.query("com.atproto.sync.getRepoStatus", [("did", did.description)]), options: options)
        }

        /// `com.atproto.sync.listRepos`, one page.
        public func listRepos(limit: Int? = nil, cursor: String?, options: CallOptions = .init()) async throws(BlueskyError) -> RepoPage {
            try await client.json(
                .query("com.atproto.sync.listRepos", [("limit", limit.map(String.init)), ("cursor", cursor)]), options: options)
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
            try await client.json(
                .query("com.atproto.sync.listHosts", [("limit", limit.map(String.init)), ("cursor", cursor)]), options: options)
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
            try await client.json(.query("com.atproto.sync.getHostStatus", [("hostname", hostname)]), options: options)
        }

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

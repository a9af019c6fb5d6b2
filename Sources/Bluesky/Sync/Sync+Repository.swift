import ATCrypto
import ATData
import ATRepo
import ATSyntax

extension Bluesky.Sync {
    /// One call from a DID to verified records: downloads the repository with
    /// `com.atproto.sync.getRepo`, streaming, and verifies it as it goes (the
    /// commit's signature, every MST node, every record's CID).
    ///
    /// ```swift
    /// let repo = try await bluesky.sync.repository(did: did)
    /// let post = try repo.record(path, as: Post.self)
    /// ```
    ///
    /// - Parameters:
    ///   - key: the signing key; without one, it comes from the DID document,
    ///     which `resolver` fetches.
    /// - Throws: ``BlueskyError``; a repository that does not verify, or whose
    ///   commit is for another DID, is ``BlueskyError/Kind/decoding`` with the
    ///   `RepoError`, `DataError` or `CryptoError` as ``BlueskyError/underlying``.
    public func repository(
        did: DID, key: (any PublicKey)? = nil, resolver: DIDResolver? = nil, options: CallOptions = .init()
    ) async throws(BlueskyError) -> Repository {
        let signingKey: any PublicKey
        if let key {
            signingKey = key
        } else {
            let document = try await (resolver ?? DIDResolver(transport: client.transport)).resolve(did)
            do {
                signingKey = try document.signingKey()
            } catch {
                throw BlueskyError(kind: .decoding, detail: "\(did): \(error.message)", underlying: error)
            }
        }
        var call = XRPCCall.query("com.atproto.sync.getRepo", [("did", did.description)])
        call.accept = "application/vnd.ipld.car"
        let response = try await client.open(call, options: options)
        let repository: Repository
        do {
            repository = try await Repository.open(stream: response.body, key: signingKey)
        } catch let error as BlueskyError {
            throw error
        } catch {
            throw BlueskyError(kind: .decoding, status: 200, detail: "the repository of \(did) does not verify: \(error)", underlying: error)
        }
        guard repository.did == did else {
            throw BlueskyError(kind: .decoding, status: 200, detail: "the repository's commit is for \(repository.did), not \(did)")
        }
        return repository
    }
}

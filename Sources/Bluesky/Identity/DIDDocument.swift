import ATCrypto
import Foundation

/// The parts of a DID document that atproto uses: the handle, the signing
/// key and the PDS.
public struct DIDDocument: Sendable, Hashable, Codable {
    /// The DID.
    public var id: String
    /// `at://handle` aliases.
    public var alsoKnownAs: [String]?
    /// The keys.
    public var verificationMethod: [VerificationMethod]?
    /// The services.
    public var service: [Service]?

    /// A key entry.
    public struct VerificationMethod: Sendable, Hashable, Codable {
        /// `#atproto` or `did:…#atproto`.
        public var id: String
        /// `Multikey` for atproto keys.
        public var type: String
        /// The controlling DID.
        public var controller: String?
        /// The key as multibase (`z…`).
        public var publicKeyMultibase: String?
    }

    /// A service entry.
    public struct Service: Sendable, Hashable, Codable {
        /// `#atproto_pds` for the PDS.
        public var id: String
        /// `AtprotoPersonalDataServer` for the PDS.
        public var type: String
        /// The service's URL.
        public var serviceEndpoint: String
    }

    /// The repository signing key: the `#atproto` verification method.
    ///
    /// - Throws: `CryptoError` when the key is missing or not a valid K-256 or P-256 key.
    public func signingKey() throws(CryptoError) -> any PublicKey {
        guard let method = verificationMethod?.first(where: { $0.id == "#atproto" || $0.id == id + "#atproto" }),
            let multibase = method.publicKeyMultibase
        else {
            throw CryptoError(.invalidKey, "the DID document of \(id) has no #atproto key")
        }
        return try Keys.publicKey(didKey: multibase)
    }

    /// The PDS: the `#atproto_pds` service's endpoint.
    public var pdsEndpoint: URL? {
        service?.first { $0.id == "#atproto_pds" || $0.id == id + "#atproto_pds" }.flatMap { URL(string: $0.serviceEndpoint) }
    }

    /// The handle: the first `at://` alias.
    public var handle: String? {
        alsoKnownAs?.first { $0.hasPrefix("at://") }.map { String($0.dropFirst(5)) }
    }
}

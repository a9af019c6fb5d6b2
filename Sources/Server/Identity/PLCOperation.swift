import ATCrypto
import ATData
import ATSyntax
import Crypto
import Foundation

/// A `did:plc` operation: the signed state of a DID (its keys, handle and
/// PDS), chained to the previous operation by CID.
public struct PLCOperation: Sendable, Hashable {
    /// The operation with its `sig`, in the data model.
    public let value: DataValue

    /// The unsigned fields of an operation.
    public struct Fields: Sendable {
        /// Keys that may sign the next operation, most trusted first.
        public var rotationKeys: [String]
        /// The repository signing key (`did:key:`).
        public var signingKey: String
        /// The handle, as `at://` URIs.
        public var alsoKnownAs: [String]
        /// The PDS URL.
        public var pdsEndpoint: String
        /// The previous operation's CID; `nil` for the genesis operation.
        public var prev: CID?

        /// Fields with these values.
        public init(rotationKeys: [String], signingKey: String, alsoKnownAs: [String], pdsEndpoint: String, prev: CID?) {
            self.rotationKeys = rotationKeys
            self.signingKey = signingKey
            self.alsoKnownAs = alsoKnownAs
            self.pdsEndpoint = pdsEndpoint
            self.prev = prev
        }

        var unsigned: DataValue {
            [
                "type": "plc_operation",
                "rotationKeys": .array(rotationKeys.map(DataValue.string)),
                "verificationMethods": ["atproto": .string(signingKey)],
                "alsoKnownAs": .array(alsoKnownAs.map(DataValue.string)),
                "services": ["atproto_pds": ["type": "AtprotoPersonalDataServer", "endpoint": .string(pdsEndpoint)]],
                "prev": prev.map { .string($0.description) } ?? .null,
            ]
        }
    }

    /// Signs `fields` with `rotationKey`.
    public static func sign(_ fields: Fields, with rotationKey: some PrivateKey) throws -> PLCOperation {
        try sign(unsigned: fields.unsigned, with: rotationKey)
    }

    /// Signs an unsigned operation given whole (`type`, `rotationKeys`,
    /// `verificationMethods`, `alsoKnownAs`, `services`, `prev`) with `rotationKey`.
    public static func sign(unsigned: DataValue, with rotationKey: some PrivateKey) throws -> PLCOperation {
        let signature = try rotationKey.sign(DAGCBOR.encode(unsigned))
        guard var map = unsigned.mapValue else { throw PLCError("the operation is not a map") }
        map["sig"] = .string(Base64URL.encode(signature))
        return try PLCOperation(value: .map(map))
    }

    /// An operation read from JSON; its shape is checked, not its signature.
    public init(json: Data) throws {
        let value: DataValue
        do {
            value = try DataValue(json: json)
        } catch {
            throw PLCError("not an operation: \(error.message)")
        }
        try self.init(value: value)
    }

    init(value: DataValue) throws {
        guard value["type"] == "plc_operation" else { throw PLCError("only plc_operation is supported") }
        guard value["sig"]?.stringValue != nil, value["rotationKeys"]?.arrayValue?.isEmpty == false,
            value["verificationMethods"]?.mapValue != nil, value["alsoKnownAs"]?.arrayValue != nil, value["services"]?.mapValue != nil,
            value["prev"] != nil
        else {
            throw PLCError("the operation lacks a required field")
        }
        self.value = value
    }

    /// The operation's CID (of its signed DAG-CBOR).
    public var cid: CID { DAGCBOR.encodeWithCID(value).cid }

    /// The DID a genesis operation creates: `did:plc:` and the first 24
    /// characters of the base32 SHA-256 of the signed operation.
    public var did: DID {
        let digest = SHA256.hash(data: DAGCBOR.encode(value))
        let text = String(Multibase.encode(Array(digest), as: .base32).dropFirst().prefix(24))
        return try! DID("did:plc:" + text)
    }

    /// The previous operation's CID, as written.
    public var prev: String? { value["prev"]?.stringValue }
    /// The rotation keys.
    public var rotationKeys: [String] { value["rotationKeys"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
    /// The `#atproto` signing key.
    public var signingKey: String? { value["verificationMethods"]?["atproto"]?.stringValue }
    /// The handle aliases.
    public var alsoKnownAs: [String] { value["alsoKnownAs"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
    /// The PDS endpoint.
    public var pdsEndpoint: String? { value["services"]?["atproto_pds"]?["endpoint"]?.stringValue }

    /// Checks the signature against `keys` (did:key strings): one must have signed.
    public func verifySignature(rotationKeys keys: [String]) throws {
        guard var map = value.mapValue, let sig = map["sig"]?.stringValue, let signature = Base64URL.decode(sig) else {
            throw PLCError("the operation's signature is not base64url")
        }
        map["sig"] = nil
        let message = DAGCBOR.encode(.map(map))
        for key in keys {
            guard let publicKey = try? Keys.publicKey(didKey: key) else { continue }
            if publicKey.isValidSignature(signature, for: message) { return }
        }
        throw PLCError("no rotation key signed the operation")
    }

    /// The DID document this operation describes, for `did`.
    public func document(for did: DID) -> DataValue {
        var methods: [DataValue] = []
        if let key = signingKey {
            let multibase = key.hasPrefix("did:key:") ? String(key.dropFirst(8)) : key
            methods.append([
                "id": .string(did.description + "#atproto"), "type": "Multikey", "controller": .string(did.description),
                "publicKeyMultibase": .string(multibase),
            ])
        }
        var services: [DataValue] = []
        if let endpoint = pdsEndpoint {
            services.append(["id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": .string(endpoint)])
        }
        return [
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1", "https://w3id.org/security/suites/secp256k1-2019/v1"],
            "id": .string(did.description),
            "alsoKnownAs": .array(alsoKnownAs.map(DataValue.string)),
            "verificationMethod": .array(methods),
            "service": .array(services),
        ]
    }
}

/// A PLC operation that is malformed or not allowed.
public struct PLCError: Error, Sendable, CustomStringConvertible {
    /// What is wrong.
    public let description: String
    init(_ description: String) { self.description = description }
}

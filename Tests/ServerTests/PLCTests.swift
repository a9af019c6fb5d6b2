import ATCrypto
import ATData
import ATSyntax
import Foundation
import Server
import Testing

@Suite("PLC operations and the directory role")
struct PLCTests {
    func genesis(_ rotation: any PrivateKey, handle: String = "alice.test") throws -> PLCOperation {
        try PLCOperation.sign(
            .init(
                rotationKeys: [rotation.publicKey.didKey], signingKey: try Keys.generate(.k256).publicKey.didKey,
                alsoKnownAs: ["at://\(handle)"], pdsEndpoint: "https://pds.example", prev: nil),
            with: rotation)
    }

    @Test func genesisOperationsDeriveTheirDID() throws {
        let op = try genesis(try Keys.generate(.k256))
        let did = op.did.description
        #expect(did.hasPrefix("did:plc:") && did.count == 32)
        #expect(did.dropFirst(8).allSatisfy { "abcdefghijklmnopqrstuvwxyz234567".contains($0) })
        // The DID is the hash of the signed operation: any change makes another DID.
        let other = try genesis(try Keys.generate(.k256), handle: "bob.test")
        #expect(other.did != op.did)
        try op.verifySignature(rotationKeys: op.rotationKeys)
        #expect(throws: PLCError.self) { try op.verifySignature(rotationKeys: [try Keys.generate(.k256).publicKey.didKey]) }
    }

    @Test(arguments: Backend.allCases)
    func theDirectoryChecksTheChain(_ backend: Backend) async throws {
        try await TestStores.with(backend) { store in try await checkTheChain(PLCDirectory(store: store)) }
    }

    func checkTheChain(_ directory: PLCDirectory) async throws {
        let rotation = try Keys.generate(.p256)
        let op = try genesis(rotation)
        // A genesis operation under a DID it does not derive is refused.
        await #expect(throws: PLCError.self) { try await directory.submit(op, for: try DID("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa")) }
        try await directory.submit(op, for: op.did)
        #expect(try await directory.current(op.did) == op)
        // A second genesis is refused; an update must name the last operation and be signed by its rotation key.
        await #expect(throws: PLCError.self) { try await directory.submit(op, for: op.did) }
        let fields = PLCOperation.Fields(
            rotationKeys: [rotation.publicKey.didKey], signingKey: op.signingKey!, alsoKnownAs: ["at://renamed.test"],
            pdsEndpoint: "https://pds.example", prev: op.cid)
        let intruder = try PLCOperation.sign(fields, with: try Keys.generate(.k256))
        await #expect(throws: PLCError.self) { try await directory.submit(intruder, for: op.did) }
        let update = try PLCOperation.sign(fields, with: rotation)
        try await directory.submit(update, for: op.did)
        #expect(try await directory.log(op.did).count == 2)
        let document = try await directory.current(op.did)!.document(for: op.did)
        #expect(document["alsoKnownAs"] == ["at://renamed.test"])
        #expect(document["verificationMethod"]?.arrayValue?.first?["id"] == .string("\(op.did)#atproto"))
        #expect(document["service"]?.arrayValue?.first?["serviceEndpoint"] == "https://pds.example")
    }

    @Test func operationsRoundTripThroughJSON() throws {
        let op = try genesis(try Keys.generate(.k256))
        let back = try PLCOperation(json: op.value.jsonData())
        #expect(back == op && back.cid == op.cid)
        #expect(throws: (any Error).self) { try PLCOperation(json: Data(#"{"type":"plc_tombstone","prev":"x","sig":"y"}"#.utf8)) }
        #expect(throws: (any Error).self) { try PLCOperation(json: Data("[]".utf8)) }
    }
}

import ATCrypto
import ATData
import ATRepo
import ATSyntax
import Bluesky
import Foundation
import HTTPTypes
import Testing

@Suite("getRepo: bytes, stream and verified repository")
struct RepositoryDownloadTests {
    let did = try! DID("did:plc:ewvi7nxzyoun6zhxrhs64oiz")
    let key = try! Keys.generate(.k256)

    func car() throws -> [UInt8] {
        let post = try NSID("app.bsky.feed.post")
        let records: [(path: RepoPath, value: DataValue)] = try (0..<50).map { i in
            (RepoPath(collection: post, recordKey: try RecordKey(TID(microseconds: 1_700_000_000_000_000 + UInt64(i), clockID: 0).description)),
             ["$type": "app.bsky.feed.post", "text": .string("post \(i)"), "createdAt": "2024-01-01T00:00:00.000Z"])
        }
        return try Repository.build(did: did, key: key, rev: TID(microseconds: 1_700_000_100_000_000, clockID: 0), records: records).exportCAR()
    }

    func document(for did: DID, key: any PublicKey) -> String {
        ##"{"id":"\##(did)","alsoKnownAs":["at://alice.test"],"verificationMethod":[{"id":"\##(did)#atproto","type":"Multikey","controller":"\##(did)","publicKeyMultibase":"\##(key.multibase)"}],"service":[{"id":"#atproto_pds","type":"AtprotoPersonalDataServer","serviceEndpoint":"https://pds.example"}]}"##
    }

    @Test func getRepoReturnsTheCARAndAsksForIt() async throws {
        let bytes = try car()
        let transport = ScriptedTransport([reply(200, bytes: bytes, headers: ["Content-Type": "application/vnd.ipld.car"], chunk: 1000)])
        let got = try await client(transport).sync.getRepo(did: did, since: try TID("3jzfcijpj2z2a"))
        #expect(got == bytes)
        let request = try #require(transport.requests.first?.request)
        #expect(request.path == "/xrpc/com.atproto.sync.getRepo?did=did:plc:ewvi7nxzyoun6zhxrhs64oiz&since=3jzfcijpj2z2a")
        #expect(request.headerFields[.accept] == "application/vnd.ipld.car")
    }

    @Test func streamingChecksEveryBlockAsItArrives() async throws {
        let bytes = try car()
        let transport = ScriptedTransport([reply(200, bytes: bytes, chunk: 333)])
        var reader = try await client(transport).sync.streamRepo(did: did)
        let header = try await reader.header()
        var count = 0
        while let block = try await reader.next() {
            #expect(CID.compute(Array(block.data), codec: block.cid.codec) == block.cid)
            count += 1
        }
        #expect(count == (try CARReader(bytes).blocks().count))
        #expect(reader.byteCount == bytes.count)
        #expect(header.roots.count == 1)

        var tampered = bytes
        tampered[bytes.count - 10] ^= 1
        var bad = try await client(ScriptedTransport([reply(200, bytes: tampered, chunk: 333)])).sync.streamRepo(did: did)
        _ = try await bad.header()
        await #expect(throws: DataError.self) { while try await bad.next() != nil {} }
    }

    @Test func oneCallFromADIDToVerifiedRecords() async throws {
        let bytes = try car()
        // The key comes from the DID document that the PLC directory serves.
        let transport = ScriptedTransport([reply(200, document(for: did, key: key.publicKey)), reply(200, bytes: bytes, chunk: 4096)])
        let resolver = DIDResolver(plcURL: URL(string: "https://plc.example")!, transport: transport)
        let repo = try await client(transport).sync.repository(did: did, resolver: resolver)
        #expect(repo.did == did)
        #expect(try repo.recordCIDs().count == 50)
        #expect(transport.requests.first?.request.url?.absoluteString == "https://plc.example/\(did)")
    }

    @Test func aRepositorySignedByAnotherKeyIsRejected() async throws {
        let bytes = try car()
        let other = try Keys.generate(.k256)
        let transport = ScriptedTransport([reply(200, bytes: bytes)])
        let error = await #expect(throws: BlueskyError.self) {
            try await client(transport).sync.repository(did: did, key: other.publicKey)
        }
        #expect(error?.kind == .decoding)
        #expect((error?.underlying as? CryptoError)?.code == .badSignature)
    }

    @Test func aTamperedRepositoryIsRejected() async throws {
        var bytes = try car()
        bytes[bytes.count - 10] ^= 1  // inside the last record
        let error = await #expect(throws: BlueskyError.self) {
            try await client(ScriptedTransport([reply(200, bytes: bytes)])).sync.repository(did: did, key: key.publicKey)
        }
        #expect(error?.kind == .decoding)
        #expect(error?.underlying != nil)
    }

    @Test func aRepositoryForAnotherDIDIsRejected() async throws {
        let bytes = try car()
        let other = try DID("did:plc:someoneelse")
        let error = await #expect(throws: BlueskyError.self) {
            try await client(ScriptedTransport([reply(200, bytes: bytes)])).sync.repository(did: other, key: key.publicKey)
        }
        #expect(error?.kind == .decoding)
        #expect(error?.message.contains("not did:plc:someoneelse") == true)
    }

    @Test func aDocumentForAnotherDIDIsRejected() async throws {
        let transport = ScriptedTransport([reply(200, document(for: try DID("did:plc:other"), key: key.publicKey))])
        let error = await #expect(throws: BlueskyError.self) {
            try await DIDResolver(transport: transport).resolve(did)
        }
        #expect(error?.kind == .decoding)
        let missing = await #expect(throws: BlueskyError.self) {
            try await DIDResolver(transport: ScriptedTransport([reply(404, "DID not registered")])).resolve(did)
        }
        #expect(missing?.kind == .notFound)
    }
}

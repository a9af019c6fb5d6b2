import ATCrypto
import ATData
import ATRepo
import ATSyntax
import Foundation
import Testing
import TestSupport

/// `bsky sync …`, `bsky repo put-record` and `bsky login` against arroba.
@Suite("CLI client commands against arroba", .serialized)
struct ClientCLITests {
    /// An arroba of this suite's own: `ArrobaClientTests` checks whole
    /// repositories between its writes, which this suite's writes, run
    /// meanwhile, would change.
    static let server = Result { try PeerServer(script: "arroba_server.py") }

    let peer: PeerServer
    let environment: [String: String]

    init() throws {
        peer = try Self.server.get()
        let config = try Tools.temporaryDirectory()
        environment = ["BLUESKY_SERVER": peer["url"], "BLUESKY_BEARER": peer["token"], "BSKY_CONFIG_DIR": config.path]
    }

    func bsky(_ arguments: [String], input: String? = nil, environment extra: [String: String] = [:]) async throws -> ProcessResult {
        try await Tools.runBsky(arguments, input: input, environment: environment.merging(extra) { $1 })
    }

    func json(_ result: ProcessResult) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)\n\(result.stderr)")
    }

    @Test func putRecordGetRepoAndListBlobs() async throws {
        let rkey = TIDClock().next().description
        let record = #"{"$type":"app.bsky.feed.post","text":"from the CLI","createdAt":"2024-01-01T00:00:00.000Z"}"#
        let put = try await bsky([
            "repo", "put-record", "--repo", peer["did"], "--collection", "app.bsky.feed.post", "--rkey", rkey, "--record", record,
            "--swap-record", "null", "--json",
        ])
        #expect(put.status == 0, "\(put.stderr)")
        let expectedCID = DAGCBOR.encodeWithCID(try DataValue(jsonString: record)).cid.description
        #expect(try json(put)["cid"] as? String == expectedCID)

        let again = try await bsky([
            "repo", "put-record", "--repo", peer["did"], "--collection", "app.bsky.feed.post", "--rkey", rkey, "--record", record,
            "--swap-record", "null",
        ])
        #expect(again.status == 1)
        #expect(again.stderr.hasPrefix("error: InvalidSwap: "))

        let file = try Tools.temporaryDirectory().appendingPathComponent("repo.car")
        let get = try await bsky(["sync", "get-repo", peer["did"], "-o", file.path, "--verify", "--key", peer["didKey"], "--json"])
        #expect(get.status == 0, "\(get.stderr)")
        let report = try json(get)
        #expect(report["verified"] as? Bool == true)
        #expect(report["did"] as? String == peer["did"])
        #expect(get.stderr.contains("downloaded"))
        let repo = try Repository.open(car: try readBytes(file), key: try Keys.publicKey(didKey: peer["didKey"]))
        #expect(report["records"] as? Int == (try repo.recordCIDs().count))
        #expect(report["blocks"] as? Int == (try CARReader(try readBytes(file)).blocks().count))

        let wrongKey = try Keys.generate(.k256).publicKey.didKey
        let bad = try await bsky(["sync", "get-repo", peer["did"], "-o", file.path, "--verify", "--key", wrongKey])
        #expect(bad.status == 1)

        let blobs = try await bsky(["sync", "list-blobs", peer["did"], "--limit", "1", "--json"])
        #expect(blobs.status == 0, "\(blobs.stderr)")
        #expect(try json(blobs)["cids"] is [String])
    }

    @Test func errorsPrintTheirNameAndExitNonZero() async throws {
        let file = try Tools.temporaryDirectory().appendingPathComponent("none.car")
        let missing = try await bsky(["sync", "get-repo", "did:plc:nobodyhere0000000000000", "-o", file.path])
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("error: RepoNotFound: "))
        #expect(!FileManager.default.fileExists(atPath: file.path))
        let unsupported = try await bsky(["sync", "notify-of-update", "--hostname", "pds.example"])
        #expect(unsupported.status == 1)
        #expect(unsupported.stderr.hasPrefix("error: MethodNotImplemented: "))
        let usage = try await bsky(["sync", "get-repo", "not-a-did", "-o", file.path])
        #expect(usage.status == 2)
        let noServer = try await Tools.runBsky(["sync", "list-blobs", "did:plc:abc"], environment: ["BLUESKY_SERVER": "", "BSKY_CONFIG_DIR": environment["BSKY_CONFIG_DIR"]!])
        #expect(noServer.status == 1)
        #expect(noServer.stderr.contains("no server"))
    }

    @Test func loginStoresTheSessionForLaterCommands() async throws {
        let login = try await bsky(["login", "--identifier", peer["handle"]], input: peer["password"] + "\n", environment: ["BLUESKY_BEARER": ""])
        #expect(login.status == 0, "\(login.stderr)")
        #expect(login.stdout.contains(peer["did"]))
        let stored = URL(fileURLWithPath: environment["BSKY_CONFIG_DIR"]!).appendingPathComponent("session.json")
        let attributes = try FileManager.default.attributesOfItem(atPath: stored.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        // Neither a server nor a bearer in the environment: both come from the stored session.
        let put = try await bsky(
            [
                "repo", "put-record", "--repo", peer["did"], "--collection", "app.bsky.feed.post", "--rkey", TIDClock().next().description,
                "--record", #"{"text":"stored session"}"#,
            ], environment: ["BLUESKY_BEARER": "", "BLUESKY_SERVER": ""])
        #expect(put.status == 0, "\(put.stderr)")
        let refused = try await bsky(["login", "--identifier", peer["handle"], "--password", "wrong"], environment: ["BLUESKY_BEARER": ""])
        #expect(refused.status == 1)
        #expect(refused.stderr.hasPrefix("error: AuthenticationRequired: "))
    }
}

func readBytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

import ArgumentParser
import ATData
import ATSyntax
import Bluesky
import Foundation

/// `bsky repo …`: the com.atproto.repo endpoints.
struct RepoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repo", abstract: "Records in a repository (com.atproto.repo).", subcommands: [PutRecord.self])

    struct PutRecord: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "put-record", abstract: "Write a record, creating or replacing it.")

        @Option(help: "The repository: a DID or a handle.") var repo: String
        @Option(help: "The collection NSID.") var collection: String
        @Option(help: "The record key.") var rkey: String
        @Option(help: "The record as atproto JSON, or @FILE.") var record: String
        @Option(help: "The record's expected current CID, or null for 'must not exist'.") var swapRecord: String?
        @Option(help: "The repository's expected current commit CID.") var swapCommit: String?
        @Flag(inversion: .prefixedNo, help: "Require (or skip) lexicon validation; by default the server decides.")
        var validate: Bool?
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let repo = try parseValue(ATIdentifier.self, repo, "--repo")
            let collection = try parseValue(NSID.self, collection, "--collection")
            let rkey = try parseValue(RecordKey.self, rkey, "--rkey")
            let json = record.hasPrefix("@") ? Data(try readFile(String(record.dropFirst()))) : Data(record.utf8)
            let value: DataValue
            do {
                value = try DataValue(json: json)
            } catch {
                throw ValidationError("--record: \(error.message)")
            }
            let swap: RecordSwap? = try swapRecord.map { text in
                if text == "null" { return .absent }
                guard let cid = try? CID(text) else { throw ValidationError("--swap-record \(text): not a CID or null") }
                return .cid(cid)
            }
            let commit: CID? = try swapCommit.map { text in
                guard let cid = try? CID(text) else { throw ValidationError("--swap-commit \(text): not a CID") }
                return cid
            }
            let out = try await client.client().repo.putRecord(
                repo: repo, collection: collection, rkey: rkey, record: value, validate: validate, swapRecord: swap, swapCommit: commit)
            if client.json {
                var object: [String: Any] = ["uri": out.uri.description, "cid": out.cid.description]
                if let c = out.commit { object["commit"] = ["cid": c.cid.description, "rev": c.rev.description] }
                if let v = out.validationStatus { object["validationStatus"] = v.rawValue }
                try printJSON(object)
            } else {
                writeLine("\(out.uri)\t\(out.cid)")
            }
        }
    }
}

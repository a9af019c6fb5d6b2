import ArgumentParser
import ATCrypto
import ATData
import ATRepo
import ATSyntax
import Foundation

extension CarCommand {
    /// `bsky car build`: a signed repository CAR from JSON lines of records.
    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "build",
            abstract: "Build a signed repository CAR from JSON lines {\"collection\":…,\"rkey\":…,\"record\":{…}}.")

        @Option(help: "The JSON lines file of records, in the atproto JSON data model.") var records: String
        @Option(help: "The repository's DID.") var did: String
        @Option(help: "The signing key as 64 hex characters.") var keyHex: String?
        @Option(help: "A file holding the signing key, as hex or a Multikey (z…).") var keyFile: String?
        @Option(help: "The key's curve: k256 or p256.") var curve: String = "k256"
        @Option(help: "The commit's rev (a TID); default: now.") var rev: String?
        @Option(help: "Where to write the CAR.") var out: String

        func validate() throws {
            guard (keyHex == nil) != (keyFile == nil) else { throw ValidationError("give exactly one of --key-hex and --key-file") }
            guard Curve(rawValue: curve) != nil else { throw ValidationError("--curve must be k256 or p256") }
        }

        func run() throws {
            let did: DID
            let rev: TID
            do {
                did = try DID(self.did)
                rev = try self.rev.map { try TID($0) } ?? TIDClock().next()
            } catch {
                throw ValidationError("\(error)")
            }
            let key = try loadKey()
            let entries: [EncodedRecord]
            do { entries = try RecordLines.parse(try mapFile(records)) } catch let error as RecordLinesError {
                throw CLIFailure("\(records):\(error.line): \(error.error)")
            }
            do {
                let built = try Repository.buildCAR(did: did, key: key, rev: rev, records: entries)
                try writeFile(out, built.car)
                writeLine("{\"did\":\"\(did)\",\"rev\":\"\(rev)\",\"data\":\"\(built.commit.data)\",\"commit\":\"\(built.commitCID)\",\"records\":\(entries.count),\"bytes\":\(built.car.count)}")
                exitAfterOutput()
            } catch let failure as CLIFailure {
                throw failure
            } catch {
                throw CLIFailure("\(error)")
            }
        }

        private func loadKey() throws -> any PrivateKey {
            let curve = Curve(rawValue: curve)!
            var text = keyHex ?? ""
            if let keyFile { text = String(decoding: try readFile(keyFile), as: UTF8.self) }
            text = text.trimmingCharacters(in: .whitespacesAndNewlines)
            do {
                if text.hasPrefix("z") { return try Keys.privateKey(multibase: text) }
                return try Keys.privateKey(curve, rawBytes: try Multibase.decode("f" + text))
            } catch {
                throw ValidationError("the signing key is not valid: \(error)")
            }
        }
    }
}

import ArgumentParser
import ATProtoAPI
import ATRepo
import Foundation

extension CarCommand {
    /// `bsky car check-records FILE`: every record against its generated type.
    struct CheckRecords: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-records",
            abstract: "Decode every record of a repository CAR with its generated type, validate it, and check that it encodes back to the same bytes.",
            discussion: "Exits 1 when any record of a known type does not round-trip. A CAR that is not a whole repository is read block by block.")

        @Argument(help: "The repository CAR file.") var file: String
        @Flag(help: "Print {\"records\":N,\"known\":N,\"valid\":N,\"invalid\":N,\"unknownType\":N,\"roundTrip\":N,\"invalidRecords\":[…]}.")
        var json = false

        func run() throws {
            let bytes = try readFile(file)
            let records: [(path: String, bytes: [UInt8])]
            do { records = try Repository.recordBlocks(car: bytes) } catch { throw CLIFailure("\(file): \(error)") }
            var summary = RecordCheckSummary()
            for record in records { summary.add(path: record.path, RecordCheck(cbor: record.bytes)) }
            if json {
                print(summary.json)
            } else {
                print(summary.text)
            }
            if summary.failedRoundTrips > 0 { throw ExitCode(1) }
        }
    }
}

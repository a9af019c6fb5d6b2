import ArgumentParser
import ATData
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
            do { records = try Self.records(bytes) } catch { throw CLIFailure("\(file): \(error)") }
            var summary = RecordCheckSummary()
            for record in records { summary.add(path: record.path, RecordCheck(cbor: record.bytes)) }
            if json {
                print(summary.json)
            } else {
                print(summary.text)
            }
            if summary.failedRoundTrips > 0 { throw ExitCode(1) }
        }

        /// The records by path: from the MST when the CAR is a whole repository,
        /// else every DAG-CBOR block with a `$type`, named by its CID.
        static func records(_ bytes: [UInt8]) throws -> [(path: String, bytes: [UInt8])] {
            if let repository = try? Repository.open(car: bytes) {
                return try repository.recordCIDs().map { entry in
                    (entry.path.description, try repository.store.require(entry.cid))
                }
            }
            var out = [(path: String, bytes: [UInt8])]()
            _ = try CARReader(bytes).forEachBlock { (cid, data) throws(DataError) in
                guard cid.codec == .dagCBOR, case .map(let map)? = try? DAGCBOR.decode(data), case .string? = map["$type"] else { return }
                out.append((cid.description, Array(data)))
            }
            return out
        }
    }
}

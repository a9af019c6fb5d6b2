import ATData

/// Counts of ``RecordCheck`` results over a repository, by collection.
public struct RecordCheckSummary: Sendable {
    /// One record that failed validation or the round trip.
    public struct Finding: Sendable, Hashable {
        public var path: String
        public var type: String
        /// The path inside the record, `$.embed.images[0].alt`.
        public var at: String
        public var reason: String
        public var roundTrips: Bool
    }

    public struct Counts: Sendable, Hashable {
        public var records = 0, known = 0, valid = 0, invalid = 0, unknownType = 0, roundTrip = 0
    }

    public private(set) var total = Counts()
    public private(set) var byCollection: [String: Counts] = [:]
    public private(set) var findings: [Finding] = []
    /// Records of known types that did not encode back to their bytes.
    public private(set) var failedRoundTrips = 0

    public init() {}

    /// Adds the result for the record at `path` (`collection/rkey`).
    public mutating func add(path: String, _ check: RecordCheck) {
        let collection = path.split(separator: "/").first.map(String.init) ?? path
        func bump(_ counts: inout Counts) {
            counts.records += 1
            if check.isKnownType { counts.known += 1 } else { counts.unknownType += 1 }
            if check.isValid == true { counts.valid += 1 }
            if check.isValid == false { counts.invalid += 1 }
            if check.roundTrips == true { counts.roundTrip += 1 }
        }
        bump(&total)
        bump(&byCollection[collection, default: Counts()])
        if check.roundTrips == false { failedRoundTrips += 1 }
        if let reason = check.invalidReason ?? check.decodeError {
            findings.append(Finding(
                path: path, type: check.type ?? "", at: reason.pathString, reason: reason.message, roundTrips: check.roundTrips ?? false))
        }
        if check.roundTrips == false {
            findings.append(Finding(path: path, type: check.type ?? "", at: "$", reason: "encodes to different bytes", roundTrips: false))
        }
    }

    /// The summary as one JSON object.
    public var json: String {
        func counts(_ c: Counts) -> DataMap {
            DataMap([
                "records": .int(Int64(c.records)), "known": .int(Int64(c.known)), "valid": .int(Int64(c.valid)),
                "invalid": .int(Int64(c.invalid)), "unknownType": .int(Int64(c.unknownType)), "roundTrip": .int(Int64(c.roundTrip)),
            ])
        }
        var map = counts(total)
        map["invalidRecords"] = .array(findings.map { f in
            .map(DataMap(["path": .string(f.path), "type": .string(f.type), "at": .string(f.at), "reason": .string(f.reason), "roundTrip": .bool(f.roundTrips)]))
        })
        map["collections"] = .map(DataMap(Dictionary(uniqueKeysWithValues: byCollection.map { ($0.key, DataValue.map(counts($0.value))) })))
        var writer = JSONWriter()
        writer.write(.map(map))
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// The summary as lines for people.
    public var text: String {
        var lines = ["collection  records  known  valid  invalid  unknown-type  round-trip"]
        for (name, c) in byCollection.sorted(by: { $0.key < $1.key }) + [("total", total)] {
            lines.append("\(name)  \(c.records)  \(c.known)  \(c.valid)  \(c.invalid)  \(c.unknownType)  \(c.roundTrip)")
        }
        for f in findings {
            lines.append("\(f.reason == "encodes to different bytes" ? "NO ROUND TRIP" : "invalid"): \(f.path) (\(f.type)) at \(f.at): \(f.reason)")
        }
        return lines.joined(separator: "\n")
    }
}

import ATData
import ATProtoAPI
import Foundation
import Testing
import TestSupport

/// The generated validators against the Python `atproto` SDK's models, on a
/// generated corpus of valid and invalid records of the main `app.bsky` types
/// (`scripts/lexicon-corpus.py`; the SDK's verdicts from `scripts/lexicon-verdicts.py`).
@Suite("Lexicon validation against the Python atproto SDK")
struct LexiconPeerTests {
    struct Case {
        let name: String
        let record: [UInt8]
        let intended: Bool
        let sdkValid: Bool?
        let sdkPath: String?
    }

    /// Constraints the SDK does not check (it has no grapheme counts, counts
    /// lengths in code points, ignores blob `accept`, `maxSize` and shape,
    /// checks a CID only by pattern, and takes a union member without `$type`
    /// as unknown): there it accepts what the lexicon refuses.
    static let sdkGaps = [
        "too-many-graphemes", "too-long-bytes", "bad-mime", "too-big", "blob-ref-not-cid", "blob-missing-type", "cid-not-a-cid",
        "missing-type",
    ]

    func corpus() throws -> [Case] {
        let python = try Tools.python.get()
        let corpus = try Processes.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", Tools.scriptURL("lexicon-corpus.py").path])
        #expect(corpus.status == 0, "\(corpus.stderr)")
        let verdicts = try Processes.run(python, [Tools.scriptURL("lexicon-verdicts.py").path], input: Data(corpus.stdout.utf8))
        #expect(verdicts.status == 0, "\(verdicts.stderr)")
        // Plain JSON: some invalid records hold what the data model does not (floats).
        func objects(_ text: String) throws -> [[String: Any]] {
            try text.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:] }
        }
        let inputs = try objects(corpus.stdout), outputs = try objects(verdicts.stdout)
        #expect(inputs.count == outputs.count)
        return try zip(inputs, outputs).map { input, output in
            let name = input["name"] as? String ?? ""
            let record = try JSONSerialization.data(withJSONObject: input["record"] ?? [:], options: [.fragmentsAllowed])
            return Case(
                name: name, record: Array(record), intended: name.split(separator: "/").dropFirst().first == "valid",
                sdkValid: output["valid"] as? Bool, sdkPath: output["path"] as? String)
        }
    }

    /// Our verdict and the error's path in the SDK's dotted form (`embed.images.0.alt`).
    func ours(_ record: [UInt8]) -> (valid: Bool, path: String?) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(record)) as? [String: Any], let type = object["$type"] as? String,
            let recordType = LexiconIndex.records[type]
        else { return (false, nil) }
        do throws(LexError) {
            try Self.decode(recordType, record)
            return (true, nil)
        } catch {
            return (false, error.path.joined(separator: "."))
        }
    }

    static func decode<R: LexRecord>(_ type: R.Type, _ record: [UInt8]) throws(LexError) {
        _ = try R(json: record, validating: true)
    }

    @Test func verdictsMatchTheLexiconAndTheSDK() throws {
        let cases = try corpus()
        #expect(cases.count >= 200)
        var agreed = 0, gaps = [String]()
        for c in cases {
            let (valid, path) = ours(c.record)
            // Ours is the lexicon's verdict, every time.
            #expect(valid == c.intended, "\(c.name): \(path ?? "")")
            let isGap = Self.sdkGaps.contains { c.name.contains($0) }
            if isGap && c.sdkValid == true && !c.intended {
                gaps.append(c.name)
                continue
            }
            // Elsewhere the SDK agrees, and when both refuse, on the path
            // (ours may name the field inside the one the SDK names).
            #expect(c.sdkValid == valid, "\(c.name): SDK \(String(describing: c.sdkValid)), ours \(valid) at \(path ?? "-")")
            if !valid, let sdkPath = c.sdkPath, let path, !sdkPath.isEmpty {
                #expect(path == sdkPath || path.hasPrefix(sdkPath + ".") || sdkPath.hasPrefix(path + "."), "\(c.name): \(path) vs SDK \(sdkPath)")
            }
            agreed += 1
        }
        #expect(agreed > gaps.count)
        // Each gap is a constraint the lexicon states and the SDK skips.
        #expect(gaps.count <= 40, "\(gaps)")
    }
}

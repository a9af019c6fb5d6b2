import ATData
import ATProtoAPI
import Foundation
import Testing
import TestSupport

@Suite("Generated types: real firehose frames")
struct FirehoseCaptureTests {
    typealias Repos = Com.Atproto.Sync.SubscribeRepos

    static let files = (try? FileManager.default.contentsOfDirectory(atPath: Fixtures.directory.appendingPathComponent("real-world/firehose").path))?
        .filter { $0.hasSuffix(".json") }.sorted() ?? []

    /// The JSON captures of indigo's frames decode into the generated message
    /// types, and their frames written as DAG-CBOR read back the same.
    @Test(arguments: files)
    func capturesDecode(file: String) throws {
        let data = try Fixtures.data("real-world/firehose/" + file)
        let root = try DataValue(json: data)
        var bodies = [(type: String, body: DataValue, drop: Bool)]()
        if let messages = root["messages"]?.arrayValue {
            for message in messages {
                guard let type = message["frame"]?["header"]?["t"]?.stringValue, let body = message["frame"]?["body"] else { continue }
                bodies.append((type, body, message["drop"]?.boolValue ?? false))
            }
        } else {
            bodies.append(("#commit", root, false))
        }
        #expect(!bodies.isEmpty)
        for (type, body, drop) in bodies {
            let json = body.jsonData()
            let decoded: Result<Repos.Message, LexError> = json.withUnsafeBytes { buffer in
                var d = LexJSONDecoder(buffer, validating: false)
                do throws(LexError) { return .success(try Repos.Message(frameType: type, from: &d)) } catch { return .failure(error) }
            }
            // Frames a relay must drop may be malformed (a hand-edited rev `…nva00`
            // is not a TID); every other frame decodes.
            guard case .success(let message) = decoded else {
                #expect(drop, "\(file) \(type): \(decoded)")
                continue
            }
            #expect(message.frameType == type, "\(file) \(type)")
            if case .commit(let commit) = message {
                #expect(!commit.blocks.isEmpty)
                #expect(commit.ops.allSatisfy { ["create", "update", "delete"].contains($0.action) })
            }
            // As a DAG-CBOR frame, the same message comes back.
            let frame = LexFrame<Repos.Message>.message(message).encode()
            guard case .message(let again) = try LexFrame<Repos.Message>(frame: frame) else {
                Issue.record("\(file): not a message frame")
                continue
            }
            #expect(again.dataValue == message.dataValue, "\(file) \(type)")
        }
    }

    @Test func errorFramesRoundTrip() throws {
        let frame = LexFrame<Repos.Message>.error(name: "FutureCursor", message: "Cursor in the future").encode()
        #expect(try LexFrame<Repos.Message>(frame: frame) == .error(name: "FutureCursor", message: "Cursor in the future"))
        #expect(throws: LexError.self) { try LexFrame<Repos.Message>(frame: Array(frame.dropLast())) }
        #expect(throws: LexError.self) { try LexFrame<Repos.Message>(frame: frame + [0]) }
    }
}

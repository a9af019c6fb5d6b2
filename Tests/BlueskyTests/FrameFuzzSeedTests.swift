import ATCrypto
import ATData
import ATRepo
import Bluesky
import Foundation
import Testing
import TestSupport

/// Replays the `FuzzFrame` seeds (and any crash inputs added to them) through
/// the firehose frame decoder: each named seed decodes to its event, and
/// every other file fails with a `BlueskyError` rather than trapping.
@Suite("Firehose frame fuzz seeds")
struct FrameFuzzSeedTests {
    static let folder = Fixtures.packageRoot.appendingPathComponent("Fuzz/seeds/frame")

    static func files() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }

    /// The key the `FuzzFrame` target verifies commits with; the commit seeds are signed with it.
    static let key = try! Keys.privateKey(.p256, rawBytes: Array(1...32)).publicKey

    @Test func seedsArePresent() {
        #expect(Self.files().count >= 8)
    }

    @Test(arguments: files())
    func seedDecodes(_ name: String) throws {
        let bytes = try [UInt8](Data(contentsOf: Self.folder.appendingPathComponent(name)))
        let event: RepoEvent
        do {
            event = try RepoEvent(frame: bytes)
        } catch {
            if name.hasPrefix("error") {
                #expect(error.kind == .xrpc("FutureCursor"))
            } else {
                #expect(!name.hasSuffix(".frame"), "\(name) should decode: \(error)")
            }
            return
        }
        switch event {
        case .commit(let commit):
            #expect(name.hasPrefix("commit"))
            if name.hasSuffix(".frame") { try commit.verify(with: Self.key) }
        case .identity: #expect(name.hasPrefix("identity"))
        case .account: #expect(name.hasPrefix("account"))
        case .sync: #expect(name.hasPrefix("sync"))
        case .info: #expect(name.hasPrefix("info"))
        case .unknown: #expect(name.hasPrefix("unknown"))
        }
    }
}

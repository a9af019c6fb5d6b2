import ATCrypto
import ATData
import ATRepo
import Bluesky

/// The key the commits are checked with: fixed, so that a seed signed with
/// it (`Fuzz/seeds/frame/commit-*`) verifies and mutations of it reach the
/// tree checks behind the signature.
let frameKey: any PublicKey = try! Keys.privateKey(.p256, rawBytes: Array(1...32)).publicKey

/// One fuzz input as a firehose frame: it decodes to an event or fails with a
/// `BlueskyError`. A `#commit` is then verified from its own blocks as a
/// relay does, and its CAR read and each block decoded. Errors must be
/// typed; nothing may trap.
func fuzzOne(_ input: UnsafeRawBufferPointer) {
    let event: RepoEvent
    do {
        event = try RepoEvent(frame: [UInt8](input))
    } catch {
        _ = error.kind
        return
    }
    _ = event.seq
    guard case .commit(let commit) = event else { return }
    do { try commit.verify(with: frameKey) } catch { requireTyped(error) }
    do { _ = try CommitProof.verifyRoot(car: commit.blocks, repo: commit.repo, key: frameKey) } catch { requireTyped(error) }
    if let reader = try? CARReader(commit.blocks, options: CAROptions(verifyBlocks: false)) {
        for block in (try? reader.blocks()) ?? [] where block.cid.codec == .dagCBOR {
            _ = try? DAGCBOR.decode(block.data)
        }
    }
}

/// Verification throws untyped; it must still be one of the library's errors.
func requireTyped(_ error: any Error) {
    switch error {
    case is RepoError, is CryptoError, is DataError: return
    default: fatalError("verification threw \(type(of: error)): \(error)")
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEntry(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    fuzzOne(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
#else
import FuzzSupport

@main enum Replay { static func main() throws { try replayMain(fuzzOne) } }
#endif

import ATSyntax
import Bluesky
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP listener that accepts connections (through the kernel's
/// backlog) and never answers.
final class SilentListener: @unchecked Sendable {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw CocoaError(.fileReadUnknown)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(fd) }
}

/// The default AsyncHTTPClient transport's failures, on loopback.
@Suite("AsyncHTTPClient transport")
struct TransportTests {
    let did = try! DID("did:plc:abc")

    @Test func aServerThatNeverAnswersTimesOut() async throws {
        let listener = try SilentListener()
        let bluesky = Bluesky(serverURL: URL(string: "http://127.0.0.1:\(listener.port)")!, retryConfig: .none, timeout: .milliseconds(300))
        let error = await #expect(throws: BlueskyError.self) { try await bluesky.sync.getRepoStatus(did: did) }
        #expect(error?.kind == .transport(.timeout))
        // A per-call timeout overrides the client's.
        let perCall = await #expect(throws: BlueskyError.self) {
            try await bluesky.sync.getRepoStatus(did: did, options: CallOptions(timeout: .milliseconds(100)))
        }
        #expect(perCall?.kind == .transport(.timeout))
    }

    @Test func aClosedPortIsAConnectionError() async throws {
        let port: UInt16
        do {
            let listener = try SilentListener()
            port = listener.port
        }  // closed again
        let bluesky = Bluesky(serverURL: URL(string: "http://127.0.0.1:\(port)")!, retryConfig: .none, timeout: .seconds(1))
        let error = await #expect(throws: BlueskyError.self) { try await bluesky.sync.getRepoStatus(did: did) }
        #expect(error?.kind == .transport(.connection))
    }

    @Test func cancellingAnOpenRequestEndsIt() async throws {
        let listener = try SilentListener()
        let bluesky = Bluesky(serverURL: URL(string: "http://127.0.0.1:\(listener.port)")!, retryConfig: .none, timeout: .seconds(60))
        let did = self.did
        let task = Task { try await bluesky.sync.getRepoStatus(did: did) }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        // Had the request run on to its 60 s timeout, it would have ended in `.timeout`.
        let result = await task.result
        guard case .failure(let error) = result else { Issue.record("the call finished"); return }
        #expect((error as? BlueskyError)?.kind == .transport(.cancelled))
    }
}

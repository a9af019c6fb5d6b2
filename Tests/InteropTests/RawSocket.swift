import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to a loopback port, for what an HTTP client will
/// not do: send half a request, never read, close mid-body.
final class RawSocket: @unchecked Sendable {
    private(set) var fd: Int32

    /// Connects to `127.0.0.1:port`; with `receiveBuffer`, the socket's
    /// receive buffer is that small (set before connecting).
    init(port: Int, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ToolError("socket: errno \(errno)") }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            Glibc.close(fd)
            throw ToolError("connect to \(port): errno \(errno)")
        }
    }

    /// Sends all of `bytes`; `false` when the peer has closed.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Ends the sending side (the peer reads end of file).
    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// What arrives within `seconds`, up to `limit` bytes; stops early at end
    /// of file, or once what came contains `marker`. The wait (`poll`) runs
    /// on a thread of its own, never on the concurrency pool, which the
    /// suites running alongside need.
    func receive(within seconds: Double, limit: Int = 1 << 16, until marker: String? = nil) async -> (bytes: [UInt8], closed: Bool) {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: self.receiveBlocking(within: seconds, limit: limit, until: marker)) }
        }
    }

    private func receiveBlocking(within seconds: Double, limit: Int, until marker: String?) -> (bytes: [UInt8], closed: Bool) {
        var out = [UInt8]()
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while out.count < limit {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { break }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(left * 1000)) > 0 else { break }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return (out, true) }
            out += buffer[0..<n]
            if let marker, String(decoding: out, as: UTF8.self).contains(marker) { break }
        }
        return (out, false)
    }


    /// For each of `sockets`, in one pass on one thread of its own: what
    /// arrives within `seconds` (each), up to `limit` bytes, and whether the peer closed.
    static func receive(_ sockets: [RawSocket], within seconds: Double, limit: Int = 1 << 16) async -> [(bytes: [UInt8], closed: Bool)] {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(returning: sockets.map { $0.receiveBlocking(within: seconds, limit: limit, until: nil) })
            }
        }
    }

    func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
    }

    deinit { close() }
}

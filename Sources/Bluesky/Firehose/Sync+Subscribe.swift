import ATData
import Foundation
import HummingbirdWSClient
import Logging

extension Bluesky.Sync {
    /// `com.atproto.sync.subscribeRepos`: the host's event stream over
    /// WebSocket, from `cursor` (or from now).
    ///
    /// ```swift
    /// for try await event in bluesky.sync.subscribeRepos(cursor: 0) {
    ///     if case .commit(let commit) = event { try commit.verify(with: key) }
    /// }
    /// ```
    ///
    /// The sequence ends when the server closes the stream; an error frame
    /// (`FutureCursor`, `ConsumerTooSlow`, …) ends it with a ``BlueskyError``.
    /// Cancelling the iterating task closes the connection.
    public func subscribeRepos(cursor: Int64? = nil, maxFrameSize: Int = 16 << 20) -> AsyncThrowingStream<RepoEvent, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    try await subscribeRepoFrames(cursor: cursor, maxFrameSize: maxFrameSize) { frame in
                        do {
                            continuation.yield(try RepoEvent(frame: frame))
                        } catch {
                            // An error frame ends the sequence now, not once the socket has closed.
                            continuation.finish(throwing: error)
                            throw error
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// `com.atproto.sync.subscribeRepos` frame by frame, with backpressure:
    /// the next frame is read once `body` returns. For consumers that keep or
    /// forward the frames as they came (a relay); decode one with
    /// ``RepoEvent/init(frame:)``.
    ///
    /// Returns when the server closes the stream.
    ///
    /// - Throws: ``BlueskyError``: `.transport` when the connection fails or
    ///   the task is cancelled, or what `body` throws.
    public func subscribeRepoFrames(
        cursor: Int64? = nil, maxFrameSize: Int = 16 << 20, _ body: @escaping @Sendable ([UInt8]) async throws -> Void
    ) async throws {
        var base = client.serverURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasPrefix("https://") { base = "wss://" + base.dropFirst(8) } else if base.hasPrefix("http://") { base = "ws://" + base.dropFirst(7) }
        let url = base + "/xrpc/com.atproto.sync.subscribeRepos" + (cursor.map { "?cursor=\($0)" } ?? "")
        do {
            var configuration = WebSocketClientConfiguration()
            configuration.maxFrameSize = maxFrameSize
            try await WebSocketClient.connect(url: url, configuration: configuration, logger: Logger(label: "bluesky.firehose")) { inbound, _, _ in
                for try await message in inbound.messages(maxSize: maxFrameSize) {
                    guard case .binary(let buffer) = message else { continue }
                    try await body(Array(buffer.readableBytesView))
                }
            }
        } catch let error as BlueskyError {
            throw error
        } catch is CancellationError {
            throw BlueskyError.transport(.cancelled, "the subscription was cancelled")
        } catch {
            if Task.isCancelled { throw BlueskyError.transport(.cancelled, "the subscription was cancelled") }
            throw BlueskyError.transport(.connection, "the firehose connection failed: \(error)")
        }
    }
}

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
        var base = client.serverURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasPrefix("https://") { base = "wss://" + base.dropFirst(8) } else if base.hasPrefix("http://") { base = "ws://" + base.dropFirst(7) }
        let url = base + "/xrpc/com.atproto.sync.subscribeRepos" + (cursor.map { "?cursor=\($0)" } ?? "")
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var configuration = WebSocketClientConfiguration()
                    configuration.maxFrameSize = maxFrameSize
                    try await WebSocketClient.connect(url: url, configuration: configuration, logger: Logger(label: "bluesky.firehose")) { inbound, _, _ in
                        for try await message in inbound.messages(maxSize: maxFrameSize) {
                            guard case .binary(let buffer) = message else { continue }
                            continuation.yield(try RepoEvent(frame: Array(buffer.readableBytesView)))
                        }
                    }
                    continuation.finish()
                } catch let error as BlueskyError {
                    continuation.finish(throwing: error)
                } catch is CancellationError {
                    continuation.finish(throwing: BlueskyError.transport(.cancelled, "the subscription was cancelled"))
                } catch {
                    continuation.finish(throwing: BlueskyError.transport(.connection, "the firehose connection failed: \(error)"))
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

import ATData
import ATProtoAPI
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
        try await client.subscribeFrames(
            "com.atproto.sync.subscribeRepos", parameters: cursor.map { [("cursor", String($0))] } ?? [], maxFrameSize: maxFrameSize, body)
    }
}

extension Bluesky {
    /// A subscription's frames over WebSocket, with backpressure: the next
    /// frame is read once `body` returns. Returns when the server closes the stream.
    ///
    /// - Throws: ``BlueskyError``: `.transport` when the connection fails or
    ///   the task is cancelled, or what `body` throws.
    package func subscribeFrames(
        _ nsid: String, parameters: [(String, String)], maxFrameSize: Int, _ body: @escaping @Sendable ([UInt8]) async throws -> Void
    ) async throws {
        var base = serverURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasPrefix("https://") { base = "wss://" + base.dropFirst(8) } else if base.hasPrefix("http://") { base = "ws://" + base.dropFirst(7) }
        var url = base + "/xrpc/" + nsid
        if !parameters.isEmpty {
            let allowed = CharacterSet.urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))
            url += "?" + parameters.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }.joined(separator: "&")
        }
        do {
            var configuration = WebSocketClientConfiguration()
            configuration.maxFrameSize = maxFrameSize
            try await WebSocketClient.connect(url: url, configuration: configuration, logger: Logger(label: "bluesky.subscription")) { inbound, _, _ in
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
            throw BlueskyError.transport(.connection, "the \(nsid) connection failed: \(error)")
        }
    }

    /// A subscription's messages, as the generated message type. An error
    /// frame ends the sequence with a ``BlueskyError`` (`.xrpc` with its
    /// name); a frame that does not decode ends it with `.decoding`.
    /// Cancelling the iterating task closes the connection.
    package func lexSubscribe<Message: LexMessage>(
        _ nsid: String, parameters: [(String, String)], maxFrameSize: Int, as type: Message.Type
    ) -> AsyncThrowingStream<Message, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    try await subscribeFrames(nsid, parameters: parameters, maxFrameSize: maxFrameSize) { frame in
                        do {
                            switch try LexFrame<Message>(frame: frame) {
                            case .message(let message):
                                continuation.yield(message)
                            case .error(let name, let message):
                                throw BlueskyError(
                                    kind: .xrpc(XRPCErrorName(rawValue: name)), body: XRPCErrorBody(error: name, message: message),
                                    detail: message ?? "")
                            }
                        } catch let error as LexError {
                            let failure = BlueskyError(kind: .decoding, detail: "a \(nsid) frame does not decode: \(error)", underlying: error)
                            continuation.finish(throwing: failure)
                            throw failure
                        } catch {
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
}

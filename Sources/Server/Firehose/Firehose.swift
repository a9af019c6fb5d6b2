import ATSyntax
import Foundation
import HTTPTypes
import HummingbirdWebSocket
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A `com.atproto.sync.subscribeRepos` stream: persisted events, replayed
/// from a cursor, then handed out live by a ``Sequencer``. The PDS and the
/// relay each have one.
final class Firehose: Sendable {
    /// The persisted events.
    let events: any EventStore
    /// The live events, in order.
    let sequencer: Sequencer
    /// The most subscriptions from one address.
    let subscribersPerIP: Int
    /// Open subscriptions per address.
    private let subscribers = Mutex<[String: Int]>([:])

    /// The firehose over `events`, continuing after the latest one.
    init(events: any EventStore, queueLimit: Int = 2000, limits: ConnectionLimits = ConnectionLimits()) async throws {
        self.events = events
        self.sequencer = Sequencer(
            latest: try await events.eventBounds()?.latest ?? 0, queueLimit: queueLimit, queueBytes: limits.subscriberQueueBytes)
        self.subscribersPerIP = limits.subscribersPerIP
    }

    /// Persists an event (built from its sequence number) and publishes it.
    @discardableResult
    func append(did: DID, _ make: @escaping @Sendable (Int64) -> [UInt8]) async throws -> SequencedEvent {
        let event = try await events.appendEvent(did: did, make)
        sequencer.publish(event)
        return event
    }

    /// Publishes an event that is already durable.
    func publish(_ event: SequencedEvent) { sequencer.publish(event) }

    /// Serves `com.atproto.sync.subscribeRepos` to one consumer: replays from
    /// `cursor` (within the backfill window), then streams live events.
    ///
    /// - A cursor past the latest event gets the error `FutureCursor`.
    /// - A cursor older than the window gets `#info OutdatedCursor`, then the
    ///   oldest events kept.
    /// - A consumer too slow for its queue gets `ConsumerTooSlow` and is dropped.
    func serve(cursor: Int64?, send: (_ frame: [UInt8]) async throws -> Void) async throws {
        let subscription = sequencer.subscribe()
        let (after, live) = (subscription.after, subscription.events)
        var last = after
        if let cursor {
            let bounds = try await events.eventBounds()
            guard cursor <= max(bounds?.latest ?? 0, after) else {
                try await send(FirehoseFrame.error("FutureCursor", "Cursor \(cursor) is in the future"))
                return
            }
            last = cursor
            if let oldest = bounds?.oldest, cursor < oldest - 1 {
                try await send(FirehoseFrame.info("OutdatedCursor", "Requested cursor exceeded limit. Possibly missing events"))
                last = oldest - 1
            }
            while last < after {
                let batch = try await events.events(after: last, limit: 500)
                for event in batch where event.seq <= after {
                    try await send(event.frame)
                    last = event.seq
                }
                if batch.count < 500 || (batch.last?.seq ?? after) >= after { break }
            }
        }
        do {
            for try await event in live {
                sequencer.taken(event, from: subscription.id)
                guard event.seq > last else { continue }
                try await send(event.frame)
                last = event.seq
            }
        } catch Sequencer.End.tooSlow {
            try await send(FirehoseFrame.error("ConsumerTooSlow", "Stream consumer too slow"))
        }
    }

    /// The WebSocket upgrade for `subscribeRepos` from `address`; other
    /// paths stay HTTP. An address past its subscriptions gets the error
    /// `RateLimitExceeded`.
    func upgrade(_ request: HTTPRequest, from address: String) -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        guard let path = request.path, path.hasPrefix("/xrpc/com.atproto.sync.subscribeRepos") else { return .dontUpgrade }
        let query = URLComponents(string: path)?.queryItems ?? []
        let cursorText = query.first { $0.name == "cursor" }?.value
        let cursor = cursorText.flatMap { Int64($0) }
        return .upgrade([:]) { [self] inbound, outbound, _ in
            func refuse(_ frame: [UInt8]) async throws {
                try await outbound.write(.binary(ByteBuffer(bytes: frame)))
                try await Self.awaitClientClose(inbound)
            }
            if cursorText != nil, cursor.map({ $0 < 0 }) ?? true {
                return try await refuse(FirehoseFrame.error("InvalidRequest", "cursor must be a non-negative integer"))
            }
            guard admit(address) else {
                return try await refuse(FirehoseFrame.error("RateLimitExceeded", "too many subscriptions from \(address); at most \(subscribersPerIP)"))
            }
            defer { release(address) }
            // A subscription never ends by itself: it ends when the server shuts down.
            try? await cancelWhenGracefulShutdown {
                try await self.serve(cursor: cursor) { frame in
                    try await outbound.write(.binary(ByteBuffer(bytes: frame)))
                }
                // Ended by an error frame: the client closes once it has read it.
                try await Self.awaitClientClose(inbound)
            }
        }
    }

    private func admit(_ address: String) -> Bool {
        subscribers.withLock { open in
            guard open[address, default: 0] < subscribersPerIP else { return false }
            open[address, default: 0] += 1
            return true
        }
    }

    private func release(_ address: String) {
        subscribers.withLock { open in
            let count = open[address, default: 1] - 1
            open[address] = count > 0 ? count : nil
        }
    }

    /// Waits (at most 5 s) for the client to close after an error frame.
    /// Closing first, right after the upgrade, could leave the client
    /// (hummingbird-websocket's) waiting forever: seen under load, 6 of 60
    /// `FutureCursor` subscriptions hung.
    static func awaitClientClose(_ inbound: WebSocketInboundStream) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { for try await _ in inbound {} }
            group.addTask { try await Task.sleep(for: .seconds(5)) }
            try await group.next()
            group.cancelAll()
        }
    }
}

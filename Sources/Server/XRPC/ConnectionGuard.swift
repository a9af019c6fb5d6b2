import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import Synchronization

/// The limits every connection of a server role lives under.
public struct ConnectionLimits: Sendable {
    /// A connection on which nothing is read or written for this long is
    /// closed: an idle keep-alive, a request that stops halfway through its
    /// head or body. Firehose sockets are pinged more often than this.
    public var idleTimeout: Duration = .seconds(60)
    /// A connection whose peer takes nothing of what is written to it for
    /// this long (its send buffer stays full) is closed.
    public var writeTimeout: Duration = .seconds(30)
    /// The most connections open at once from one IP address; more are
    /// closed as soon as they open.
    public var perIP: Int = 512
    /// The most firehose subscriptions at once from one IP address; more get
    /// the error `RateLimitExceeded` and are closed.
    public var subscribersPerIP: Int = 32
    /// The most bytes of events queued for one firehose subscriber; a
    /// subscriber past it is dropped with `ConsumerTooSlow`.
    public var subscriberQueueBytes: Int = 8 << 20

    /// The defaults: 60 s idle, 30 s write, 512 connections and 32
    /// subscriptions per address, 8 MiB queued per subscriber.
    public init() {}
}

/// Open connections per IP address.
final class ConnectionRegistry: Sendable {
    private let counts = Mutex<[String: Int]>([:])
    let limit: Int

    init(limit: Int) { self.limit = limit }

    /// Counts a connection from `address`; `false` (and not counted) when it is one too many.
    func open(_ address: String) -> Bool {
        counts.withLock { counts in
            let count = counts[address, default: 0]
            guard count < limit else { return false }
            counts[address] = count + 1
            return true
        }
    }

    /// Uncounts a connection from `address`.
    func close(_ address: String) {
        counts.withLock { counts in
            let count = counts[address, default: 1] - 1
            counts[address] = count > 0 ? count : nil
        }
    }
}

/// The first handler of every connection: counts it against its address's
/// limit, and closes it when it has been idle (nothing read or written) for
/// the idle timeout or unable to write (the peer reads nothing) for the
/// write timeout. Being first, it sees raw bytes, so a request head that
/// never ends is idle too.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny

    private let registry: ConnectionRegistry
    private let idleTimeout: TimeAmount
    private let writeTimeout: TimeAmount
    private var address: String?
    private var lastActivity = NIODeadline.now()
    private var idleCheck: Scheduled<Void>?
    private var stalled: Scheduled<Void>?

    init(registry: ConnectionRegistry, limits: ConnectionLimits) {
        self.registry = registry
        idleTimeout = .nanoseconds(limits.idleTimeout.nanoseconds)
        writeTimeout = .nanoseconds(limits.writeTimeout.nanoseconds)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { admit(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if address == nil { admit(context) }
        context.fireChannelActive()
    }

    private func admit(_ context: ChannelHandlerContext) {
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        guard registry.open(address) else {
            context.close(promise: nil)
            return
        }
        self.address = address
        lastActivity = .now()
        scheduleIdleCheck(context, at: lastActivity + idleTimeout)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let address { registry.close(address) }
        address = nil
        idleCheck?.cancel()
        stalled?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        lastActivity = .now()
        context.write(data, promise: promise)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            stalled?.cancel()
            stalled = nil
        } else if stalled == nil {
            let channel = context.channel
            stalled = context.eventLoop.scheduleTask(in: writeTimeout) { channel.close(promise: nil) }
        }
        context.fireChannelWritabilityChanged()
    }

    private func scheduleIdleCheck(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        idleCheck = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = bound.value
            guard handler.address != nil else { return }
            let due = handler.lastActivity + handler.idleTimeout
            if due <= .now() {
                context.close(promise: nil)
            } else {
                handler.scheduleIdleCheck(context, at: due)
            }
        }
    }
}

/// A server child channel with a ``ConnectionGuardHandler`` in front of
/// everything `base` sets up.
struct GuardedChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    let base: Base
    let registry: ConnectionRegistry
    let limits: ConnectionLimits

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Base.Value> {
        do {
            try channel.pipeline.syncOperations.addHandler(ConnectionGuardHandler(registry: registry, limits: limits), position: .first)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return base.setup(channel: channel, logger: logger)
    }

    func handle(value: Base.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 with the firehose's WebSocket upgrade, every connection under `limits`.
    static func guarded(
        limits: ConnectionLimits, maxFrameSize: Int,
        shouldUpgrade: @escaping @Sendable (HTTPRequest, any Channel, Logger) throws -> ShouldUpgradeResult<
            WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>
        >
    ) -> HTTPServerBuilder {
        let registry = ConnectionRegistry(limit: limits.perIP)
        let idle = TimeAmount.nanoseconds(limits.idleTimeout.nanoseconds)
        let configuration = HTTP1WebSocketUpgradeChannel.Configuration(
            http1: .init(idleTimeout: idle),
            ws: .init(maxFrameSize: maxFrameSize, autoPing: .enabled(timePeriod: min(.seconds(30), limits.idleTimeout / 2)), closeTimeout: .seconds(3)))
        return HTTPServerBuilder { responder in
            GuardedChildChannel(
                base: HTTP1WebSocketUpgradeChannel(responder: responder, configuration: configuration, shouldUpgrade: shouldUpgrade),
                registry: registry, limits: limits)
        }
    }
}

extension Duration {
    /// Whole nanoseconds, saturating.
    var nanoseconds: Int64 {
        let (seconds, atto) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled.addingReportingOverflow(atto / 1_000_000_000).partialValue
    }
}

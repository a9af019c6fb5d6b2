import Foundation

/// The time source of retries: how long to sleep, how much time has passed,
/// and the wall-clock date that HTTP-date headers are compared with.
///
/// Tests pass a virtual clock; the default is ``SystemRetryClock``.
public protocol RetryClock: Sendable {
    /// A monotonic instant, for measuring elapsed time.
    var now: ContinuousClock.Instant { get }
    /// The current date, for `Retry-After` dates and `RateLimit-Reset` times.
    var date: Date { get }
    /// Sleeps for `duration`; throws `CancellationError` when the task is cancelled.
    func sleep(for duration: Duration) async throws
}

/// Real time: `ContinuousClock` and `Date()`.
public struct SystemRetryClock: RetryClock {
    /// The system clock.
    public init() {}
    public var now: ContinuousClock.Instant { ContinuousClock.now }
    public var date: Date { Date() }
    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}

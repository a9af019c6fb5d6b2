/// Runs `operation` until it succeeds, fails for good, runs out of time or is
/// cancelled.
///
/// A server's `Retry-After` (or, on a 429, `RateLimit-Reset` when no requests
/// remain) replaces the computed wait. No wait starts that would end past
/// `maxElapsedTime`: the last error is thrown instead. Cancellation during a
/// wait ends the loop at once with a ``BlueskyError/TransportFailure/cancelled`` error.
func withRetries<T>(
    _ config: RetryConfig, clock: any RetryClock, random: () -> Double = { Double.random(in: 0..<1) },
    _ operation: () async throws(BlueskyError) -> T
) async throws(BlueskyError) -> T {
    guard let backoff = config.backoff else { return try await operation() }
    let start = clock.now
    var attempt = 0
    while true {
        if Task.isCancelled { throw .transport(.cancelled, "the call was cancelled") }
        let failure: BlueskyError
        do {
            return try await operation()
        } catch {
            failure = error
        }
        guard config.shouldRetry(failure) else { throw failure }
        let wait = serverRequestedWait(failure, now: clock) ?? backoff.interval(attempt: attempt, random: random())
        let elapsed = start.duration(to: clock.now)
        guard elapsed + wait <= backoff.maxElapsedTime else { throw failure }
        do {
            try await clock.sleep(for: wait)
        } catch {
            throw .transport(.cancelled, "the call was cancelled while waiting to retry")
        }
        attempt += 1
    }
}

/// The wait a response asks for: `Retry-After`, or a 429's `RateLimit-Reset`
/// when the window has no requests left.
func serverRequestedWait(_ error: BlueskyError, now clock: any RetryClock) -> Duration? {
    if let retryAfter = error.retryAfter { return retryAfter.delay(from: clock.date) }
    if error.status == 429, let limit = error.rateLimit, let reset = limit.reset, (limit.remaining ?? 0) == 0 {
        return reset.delay(from: clock.date)
    }
    return nil
}

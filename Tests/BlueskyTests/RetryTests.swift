import ATSyntax
import Bluesky
import Foundation
import Testing

@Suite("Retries")
struct RetryTests {
    let did = try! DID("did:plc:abc")
    let ok = reply(200, #"{"did":"did:plc:abc","active":true}"#)
    /// Backoff without jitter, so that the waits are exact.
    static func exact(
        initial: Duration = .milliseconds(500), max: Duration = .seconds(60), exponent: Double = 1.5, elapsed: Duration = .seconds(300),
        statusCodes: Set<Int> = RetryConfig.defaultStatusCodes, connection: Bool = true
    ) -> RetryConfig {
        .backoff(
            initialInterval: initial, maxInterval: max, exponent: exponent, maxElapsedTime: elapsed, jitter: 0,
            statusCodes: statusCodes, retryConnectionErrors: connection)
    }

    @Test func backsOffExponentiallyUntilSuccess() async throws {
        let transport = ScriptedTransport([reply(503), reply(500), reply(502), reply(504), ok])
        let clock = VirtualClock()
        let status = try await client(transport, clock: clock, retry: Self.exact()).sync.getRepoStatus(did: did)
        #expect(status.active)
        #expect(transport.requests.count == 5)
        #expect(clock.sleeps == [.milliseconds(500), .milliseconds(750), .milliseconds(1125), .microseconds(1_687_500)])
    }

    @Test func waitsAreCappedByMaxInterval() async throws {
        let transport = ScriptedTransport([reply(503), reply(503), reply(503), ok])
        let clock = VirtualClock()
        _ = try await client(transport, clock: clock, retry: Self.exact(initial: .seconds(1), max: .seconds(3), exponent: 10)).sync.getRepoStatus(did: did)
        #expect(clock.sleeps == [.seconds(1), .seconds(3), .seconds(3)])
    }

    @Test func neverGoesPastMaxElapsedTime() async throws {
        let transport = ScriptedTransport(fallback: reply(503))
        let clock = VirtualClock()
        let error = await #expect(throws: BlueskyError.self) {
            try await client(transport, clock: clock, retry: Self.exact(initial: .seconds(1), exponent: 2, elapsed: .seconds(5))).sync.getRepoStatus(did: did)
        }
        #expect(error?.kind == .internalServerError)
        // 1 + 2 = 3 s of waits; the next (4 s) would end at 7 s > 5 s.
        #expect(clock.sleeps == [.seconds(1), .seconds(2)])
        #expect(transport.requests.count == 3)
    }

    @Test func timeSpentInRequestsCountsTowardsTheBudget() async throws {
        let clock = VirtualClock()
        let slow: ScriptedTransport.Handler = { request, body throws(BlueskyError) in
            clock.advance(.seconds(2))
            return try reply(503)(request, body)
        }
        let transport = ScriptedTransport(fallback: slow)
        _ = await #expect(throws: BlueskyError.self) {
            try await client(transport, clock: clock, retry: Self.exact(initial: .seconds(1), exponent: 1, elapsed: .seconds(7))).sync.getRepoStatus(did: did)
        }
        // Attempts end at 2, 5 and 8 s: after the second (5 s) a 1 s wait still fits; after the third it would not.
        #expect(transport.requests.count == 3)
        #expect(clock.sleeps == [.seconds(1), .seconds(1)])
    }

    @Test func honoursRetryAfterSeconds() async throws {
        let transport = ScriptedTransport([reply(429, headers: ["Retry-After": "7"]), ok])
        let clock = VirtualClock()
        _ = try await client(transport, clock: clock, retry: Self.exact()).sync.getRepoStatus(did: did)
        #expect(clock.sleeps == [.seconds(7)])
    }

    @Test func honoursRetryAfterDates() async throws {
        let clock = VirtualClock()
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let header = formatter.string(from: clock.startDate.addingTimeInterval(90))
        let transport = ScriptedTransport([reply(503, headers: ["Retry-After": header]), ok])
        _ = try await client(transport, clock: clock, retry: Self.exact()).sync.getRepoStatus(did: did)
        #expect(clock.sleeps == [.seconds(90)])
    }

    @Test func honoursRateLimitResetWhenNothingRemains() async throws {
        let clock = VirtualClock()
        let reset = String(Int(clock.startDate.timeIntervalSince1970) + 12)
        let transport = ScriptedTransport([
            reply(429, headers: ["RateLimit-Limit": "10", "RateLimit-Remaining": "0", "RateLimit-Reset": reset]), ok,
        ])
        _ = try await client(transport, clock: clock, retry: Self.exact()).sync.getRepoStatus(did: did)
        #expect(clock.sleeps == [.seconds(12)])
    }

    @Test func aRequestedWaitPastTheBudgetIsNotTaken() async throws {
        let transport = ScriptedTransport([reply(429, headers: ["Retry-After": "3600"]), ok])
        let clock = VirtualClock()
        let error = await #expect(throws: BlueskyError.self) {
            try await client(transport, clock: clock, retry: Self.exact(elapsed: .seconds(60))).sync.getRepoStatus(did: did)
        }
        #expect(error?.kind == .rateLimited)
        #expect(error?.retryAfter == .seconds(3600))
        #expect(clock.sleeps.isEmpty)
        #expect(transport.requests.count == 1)
    }

    @Test(arguments: [400, 401, 403, 404, 413])
    func otherStatusesAreNotRetried(status: Int) async throws {
        let transport = ScriptedTransport([reply(status), ok])
        let clock = VirtualClock()
        _ = await #expect(throws: BlueskyError.self) {
            try await client(transport, clock: clock, retry: Self.exact()).sync.getRepoStatus(did: did)
        }
        #expect(transport.requests.count == 1)
        #expect(clock.sleeps.isEmpty)
    }

    @Test func statusCodesAreConfigurable() async throws {
        let transport = ScriptedTransport([reply(418), ok])
        _ = try await client(transport, retry: Self.exact(statusCodes: [418])).sync.getRepoStatus(did: did)
        #expect(transport.requests.count == 2)
        let other = ScriptedTransport([reply(503), ok])
        _ = await #expect(throws: BlueskyError.self) {
            try await client(other, retry: Self.exact(statusCodes: [418])).sync.getRepoStatus(did: did)
        }
        #expect(other.requests.count == 1)
    }

    @Test func connectionErrorsAreRetriedWhenAsked() async throws {
        let retried = ScriptedTransport([fail(.connection), fail(.timeout), ok])
        _ = try await client(retried, retry: Self.exact()).sync.getRepoStatus(did: did)
        #expect(retried.requests.count == 3)
        let notRetried = ScriptedTransport([fail(.connection), ok])
        let error = await #expect(throws: BlueskyError.self) {
            try await client(notRetried, retry: Self.exact(connection: false)).sync.getRepoStatus(did: did)
        }
        #expect(error?.kind == .transport(.connection))
        #expect(notRetried.requests.count == 1)
    }

    @Test func eachCallCanOverrideTheRetries() async throws {
        let transport = ScriptedTransport([reply(503), ok])
        let bluesky = client(transport, retry: Self.exact())
        _ = await #expect(throws: BlueskyError.self) {
            try await bluesky.sync.getRepoStatus(did: did, options: CallOptions(retries: RetryConfig.none))
        }
        #expect(transport.requests.count == 1)
        let clock = VirtualClock()
        let noDefault = ScriptedTransport([reply(503), ok])
        _ = try await client(noDefault, clock: clock, retry: .none).sync.getRepoStatus(did: did, options: CallOptions(retries: Self.exact(initial: .seconds(2))))
        #expect(clock.sleeps == [.seconds(2)])
    }

    @Test func jitterStaysWithinItsSpread() {
        let backoff = RetryConfig.Backoff(initialInterval: .seconds(10), maxInterval: .seconds(100), exponent: 2, maxElapsedTime: .seconds(1000), jitter: 0.5)
        #expect(backoff.interval(attempt: 0, random: 0) == .seconds(5))
        #expect(backoff.interval(attempt: 0, random: 0.5) == .seconds(10))
        #expect(backoff.interval(attempt: 1, random: 0.999_999).secondsValue > 29.99)
        // The cap holds after jitter too.
        #expect(backoff.interval(attempt: 5, random: 0.999_999) == .seconds(100))
    }

    @Test func cancellationStopsAWaitAtOnce() async throws {
        let transport = ScriptedTransport(fallback: reply(503))
        let bluesky = Bluesky(
            serverURL: URL(string: "https://pds.example")!, retryConfig: Self.exact(initial: .seconds(600), elapsed: .seconds(3600)),
            transport: transport)
        let did = self.did
        let task = Task { () async throws(BlueskyError) -> RepoStatus in try await bluesky.sync.getRepoStatus(did: did) }
        while transport.requests.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        task.cancel()
        // Had the 600 s wait gone on, the retry would have ended in a 503, not a cancellation.
        let result = await task.result
        guard case .failure(let error) = result else { Issue.record("the call finished"); return }
        #expect((error as? BlueskyError)?.kind == .transport(.cancelled))
        #expect(transport.requests.count == 1)
    }

    @Test func aCancelledTaskSendsNothing() async throws {
        let transport = ScriptedTransport(fallback: ok)
        let bluesky = client(transport, retry: Self.exact())
        let did = self.did
        let task = Task { () async throws(BlueskyError) -> RepoStatus in
            withUnsafeCurrentTask { $0?.cancel() }
            return try await bluesky.sync.getRepoStatus(did: did)
        }
        let result = await task.result
        guard case .failure(let error) = result else { Issue.record("the call finished"); return }
        #expect((error as? BlueskyError)?.kind == .transport(.cancelled))
        #expect(transport.requests.isEmpty)
    }
}

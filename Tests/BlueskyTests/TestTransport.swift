import Bluesky
import Foundation
import HTTPTypes
import Synchronization

/// A transport that answers from a script and records what it was sent.
final class ScriptedTransport: HTTPTransport {
    typealias Handler = @Sendable (HTTPRequest, [UInt8]?) throws(BlueskyError) -> TransportResponse

    private let state: Mutex<(handlers: [Handler], requests: [(HTTPRequest, [UInt8]?)])>
    private let fallback: Handler?

    /// Answers the requests in turn with `handlers`, then with `fallback`.
    init(_ handlers: [Handler] = [], fallback: Handler? = nil) {
        state = Mutex((handlers, []))
        self.fallback = fallback
    }

    var requests: [(request: HTTPRequest, body: [UInt8]?)] { state.withLock { $0.requests.map { ($0.0, $0.1) } } }

    func send(_ request: HTTPRequest, body: [UInt8]?, timeout: Duration) async throws(BlueskyError) -> TransportResponse {
        let handler = state.withLock { state -> Handler? in
            state.requests.append((request, body))
            return state.handlers.isEmpty ? nil : state.handlers.removeFirst()
        }
        guard let handler = handler ?? fallback else {
            throw BlueskyError.transport(.connection, "the script has no more responses")
        }
        return try handler(request, body)
    }
}

/// A response with `status`, `headers` and a body.
func reply(_ status: Int, _ body: String = "", headers: [String: String] = [:]) -> ScriptedTransport.Handler {
    reply(status, bytes: Array(body.utf8), headers: headers)
}

/// A response with `status`, `headers` and raw bytes.
func reply(_ status: Int, bytes: [UInt8], headers: [String: String] = [:], chunk: Int = .max) -> ScriptedTransport.Handler {
    { _, _ in
        var fields = HTTPFields()
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        let chunks = stride(from: 0, to: bytes.count, by: max(1, min(chunk, bytes.count))).map { Array(bytes[$0..<min($0 + chunk, bytes.count)]) }
        return TransportResponse(
            head: HTTPResponse(status: .init(code: status), headerFields: fields),
            body: ResponseBody {
                var rest = chunks[...]
                return { () throws(BlueskyError) -> [UInt8]? in rest.popFirst() }
            })
    }
}

/// A connection failure.
func fail(_ failure: BlueskyError.TransportFailure) -> ScriptedTransport.Handler {
    { _, _ throws(BlueskyError) in throw BlueskyError.transport(failure, "scripted") }
}

/// Virtual time: sleeping advances it at once, and every sleep is recorded.
final class VirtualClock: RetryClock {
    private let state: Mutex<(offset: Duration, sleeps: [Duration])> = Mutex((.zero, []))
    private let origin = ContinuousClock.now
    let startDate: Date

    init(date: Date = Date(timeIntervalSince1970: 1_800_000_000)) { startDate = date }

    var sleeps: [Duration] { state.withLock { $0.sleeps } }
    var now: ContinuousClock.Instant { origin.advanced(by: state.withLock { $0.offset }) }
    var date: Date { startDate.addingTimeInterval(state.withLock { $0.offset }.secondsValue) }

    /// Moves time on, as a slow request would.
    func advance(_ duration: Duration) { state.withLock { $0.offset += duration } }

    func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        state.withLock {
            $0.offset += duration
            $0.sleeps.append(duration)
        }
    }
}

extension Duration {
    var secondsValue: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// A client on the scripted transport and a virtual clock.
func client(_ transport: ScriptedTransport, clock: VirtualClock = VirtualClock(), retry: RetryConfig = .none, bearer: Bearer? = nil) -> Bluesky {
    Bluesky(serverURL: URL(string: "https://pds.example")!, bearer: bearer, retryConfig: retry, transport: transport, clock: clock)
}

import HTTPTypes

/// What sends a ``Bluesky`` client's HTTP requests.
///
/// The default, ``AsyncHTTPClientTransport``, uses AsyncHTTPClient. Conform
/// your own type to use URLSession, or to answer calls in tests.
///
/// A transport reports every failure as a ``BlueskyError`` of kind
/// ``BlueskyError/Kind/transport(_:)``; it never interprets status codes.
public protocol HTTPTransport: Sendable {
    /// Sends `request` with `body` and returns the response head as soon as it
    /// arrives; the body streams from ``TransportResponse/body``.
    ///
    /// - Parameter timeout: the deadline for the whole exchange, the body included.
    func send(_ request: HTTPRequest, body: [UInt8]?, timeout: Duration) async throws(BlueskyError) -> TransportResponse
}

/// A response head and its streaming body.
public struct TransportResponse: Sendable {
    /// The status and headers.
    public var head: HTTPResponse
    /// The body, as it arrives.
    public var body: ResponseBody

    /// A response with this head and body.
    public init(head: HTTPResponse, body: ResponseBody) {
        self.head = head
        self.body = body
    }
}

/// A response body as a sequence of byte chunks; iterate it once.
public struct ResponseBody: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    public typealias Failure = BlueskyError

    private let makeIterator: @Sendable () -> Iterator

    /// Pulls the next chunk.
    public struct Iterator: AsyncIteratorProtocol {
        public typealias Element = [UInt8]
        public typealias Failure = BlueskyError
        let pull: () async throws(BlueskyError) -> [UInt8]?

        public mutating func next() async throws(BlueskyError) -> [UInt8]? { try await pull() }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(BlueskyError) -> [UInt8]? {
            try await pull()
        }
    }

    /// A body read by `pull`, which returns `nil` at the end.
    public init(_ makePull: @escaping @Sendable () -> () async throws(BlueskyError) -> [UInt8]?) {
        makeIterator = { Iterator(pull: makePull()) }
    }

    /// A body that is already in memory.
    public init(bytes: [UInt8]) {
        self.init {
            var done = bytes.isEmpty
            return { () throws(BlueskyError) -> [UInt8]? in
                if done { return nil }
                done = true
                return bytes
            }
        }
    }

    public func makeAsyncIterator() -> Iterator { makeIterator() }

    /// The same body, failing with ``BlueskyError/Kind/decoding`` once more
    /// than `limit` bytes have come.
    public func limited(to limit: Int) -> ResponseBody {
        let source = self
        return ResponseBody {
            var iterator = source.makeAsyncIterator()
            var count = 0
            return { () throws(BlueskyError) -> [UInt8]? in
                guard let chunk = try await iterator.next() else { return nil }
                count += chunk.count
                guard count <= limit else { throw BlueskyError(kind: .decoding, detail: "the response body is larger than \(limit) bytes") }
                return chunk
            }
        }
    }

    /// The whole body, or an error once it passes `limit` bytes.
    public func collect(upTo limit: Int) async throws(BlueskyError) -> [UInt8] {
        var out = [UInt8]()
        var iterator = makeAsyncIterator()
        while let chunk = try await iterator.next() {
            guard out.count + chunk.count <= limit else {
                throw BlueskyError(kind: .decoding, detail: "the response body is larger than \(limit) bytes")
            }
            out += chunk
        }
        return out
    }
}

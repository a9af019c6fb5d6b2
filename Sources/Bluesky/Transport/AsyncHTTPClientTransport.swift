import AsyncHTTPClient
import HTTPTypes
import NIOCore
import NIOHTTP1

/// The default transport: AsyncHTTPClient, on its shared client unless you
/// give one.
public struct AsyncHTTPClientTransport: HTTPTransport {
    /// The client that sends the requests.
    public let client: HTTPClient

    /// A transport on `client` (by default `HTTPClient.shared`, which needs no shutdown).
    public init(client: HTTPClient = .shared) {
        self.client = client
    }

    /// The request's absolute URL, from its scheme, authority and path (the
    /// same as HTTPTypesFoundation's `url`, without linking FoundationNetworking).
    static func url(of request: HTTPRequest) -> String {
        guard let scheme = request.scheme, let authority = request.authority else { return request.path ?? "" }
        return "\(scheme)://\(authority)\(request.path ?? "/")"
    }

    public func send(_ request: HTTPRequest, body: [UInt8]?, timeout: Duration) async throws(BlueskyError) -> TransportResponse {
        var outgoing = HTTPClientRequest(url: Self.url(of: request))
        outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headerFields { outgoing.headers.add(name: field.name.rawName, value: field.value) }
        if let body { outgoing.body = .bytes(body) }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(outgoing, timeout: .nanoseconds(Int64(timeout.nanoseconds)))
        } catch {
            throw Self.classify(error)
        }
        var fields = HTTPFields()
        for header in response.headers {
            if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
        }
        let head = HTTPResponse(status: .init(code: Int(response.status.code), reasonPhrase: response.status.reasonPhrase), headerFields: fields)
        let stream = response.body
        return TransportResponse(head: head, body: ResponseBody {
            var iterator = stream.makeAsyncIterator()
            return { () throws(BlueskyError) -> [UInt8]? in
                do {
                    guard let buffer = try await iterator.next() else { return nil }
                    return Array(buffer.readableBytesView)
                } catch {
                    throw Self.classify(error)
                }
            }
        })
    }

    /// Sorts AsyncHTTPClient's and NIO's errors into the three transport failures.
    static func classify(_ error: any Error) -> BlueskyError {
        if let error = error as? BlueskyError { return error }
        if error is CancellationError { return .transport(.cancelled, "the request was cancelled") }
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout, .getConnectionFromPoolTimeout:
                return .transport(.timeout, "the request timed out (\(error))")
            case .cancelled:
                return .transport(.cancelled, "the request was cancelled")
            default:
                return .transport(.connection, String(describing: error))
            }
        }
        return .transport(.connection, String(describing: error))
    }
}

extension Duration {
    /// The duration in whole nanoseconds, saturating.
    var nanoseconds: Int64 {
        let (seconds, atto) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled.addingReportingOverflow(atto / 1_000_000_000).partialValue
    }
}

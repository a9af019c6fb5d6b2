import ATData
import ATRepo
import Foundation
import Hummingbird
import Logging

/// The XRPC methods a server answers, by NSID, and their dispatch: the HTTP
/// method check, rate limits, `MethodNotImplemented` for unknown NSIDs, and
/// every failure turned into a `{error, message}` response.
struct XRPCMethods: Sendable {
    typealias Handler = @Sendable (inout XRPCRequest) async throws -> Response

    struct Method: Sendable {
        var isProcedure: Bool
        var bucket: (name: String, rule: RateLimitRule)?
        var handler: Handler
    }

    private(set) var methods: [String: Method] = [:]
    /// What answers an NSID that is not here (the PDS's proxy); without
    /// one, such calls get 501 `MethodNotImplemented`.
    var fallback: Handler?

    /// Adds a query (GET).
    mutating func query(_ nsid: String, limit bucket: (String, RateLimitRule)? = nil, _ handler: @escaping Handler) {
        methods[nsid] = Method(isProcedure: false, bucket: bucket.map { (name: $0.0, rule: $0.1) }, handler: handler)
    }

    /// Adds a procedure (POST).
    mutating func procedure(_ nsid: String, limit bucket: (String, RateLimitRule)? = nil, _ handler: @escaping Handler) {
        methods[nsid] = Method(isProcedure: true, bucket: bucket.map { (name: $0.0, rule: $0.1) }, handler: handler)
    }

    /// Routes `/xrpc/{nsid}` on `router` to these methods.
    func register(on router: Router<PDSRequestContext>, limiter: RateLimiter, logger: Logger) {
        let methods = self.methods
        let fallback = self.fallback
        let dispatch: @Sendable (Request, PDSRequestContext) async throws -> Response = { request, context in
            let nsid = context.parameters.get("nsid") ?? ""
            guard let method = methods[nsid] else {
                guard let fallback else { throw XRPCError.methodNotImplemented(nsid) }
                var call = XRPCRequest(request: request, context: context, nsid: nsid)
                do {
                    return try await fallback(&call)
                } catch let error as XRPCError {
                    throw error
                } catch {
                    logger.error("\(nsid) failed: \(error)")
                    throw XRPCError.internalError()
                }
            }
            let expected: HTTPRequest.Method = method.isProcedure ? .post : .get
            guard request.method == expected || (request.method == .head && !method.isProcedure) else {
                throw XRPCError.invalidRequest("Incorrect HTTP method (\(request.method)) expected \(expected)")
            }
            var limitHeaders = HTTPFields()
            if let bucket = method.bucket {
                let client = context.remoteAddress?.ipAddress ?? "unknown"
                limitHeaders = try limiter.take(bucket.name, rule: bucket.rule, key: client)
            }
            var call = XRPCRequest(request: request, context: context, nsid: nsid)
            do {
                var response = try await method.handler(&call)
                response.headers.append(contentsOf: limitHeaders)
                return response
            } catch var error as XRPCError {
                error.headers.append(contentsOf: limitHeaders)
                throw error
            } catch {
                logger.error("\(nsid) failed: \(error)")
                throw XRPCError.internalError()
            }
        }
        router.get("/xrpc/:nsid", use: dispatch)
        router.head("/xrpc/:nsid", use: dispatch)
        router.post("/xrpc/:nsid", use: dispatch)
    }
}

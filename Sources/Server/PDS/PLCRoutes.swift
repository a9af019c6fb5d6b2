import ATData
import ATSyntax
import Foundation
import Hummingbird

extension PDS {
    /// The PLC directory role: `GET /{did}` (the document), `GET /{did}/log`
    /// (the operations), `GET /{did}/log/last` (the current one), and
    /// `POST /{did}` (a new operation).
    func registerPLCRoutes(on router: Router<PDSRequestContext>) {
        router.get("/:did") { [self] _, context -> Response in
            let did = try plcDID(context)
            guard let operation = try await plc.current(did) else { throw XRPCError.notFound("DID not registered: \(did)") }
            var response = Response.json(operation.document(for: did))
            response.headers[.contentType] = "application/did+ld+json"
            return response
        }
        router.get("/:did/log") { [self] _, context -> Response in
            let did = try plcDID(context)
            let log = try await plc.log(did)
            guard !log.isEmpty else { throw XRPCError.notFound("DID not registered: \(did)") }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: "[" + log.map { String(decoding: $0.value.jsonData(), as: UTF8.self) }.joined(separator: ",") + "]")))
        }
        router.get("/:did/log/last") { [self] _, context -> Response in
            let did = try plcDID(context)
            guard let last = try await plc.current(did) else { throw XRPCError.notFound("DID not registered: \(did)") }
            return Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: last.value.jsonData())))
        }
        router.post("/:did") { [self] request, context -> Response in
            let did = try plcDID(context)
            if let rule = config.plcWriteLimit {
                _ = try limiter.take("plc", rule: rule, key: context.remoteAddress?.ipAddress ?? "unknown")
            }
            var call = XRPCRequest(request: request, context: context, nsid: "plc")
            let body = try await call.body(limit: 64 << 10)
            do {
                try await plc.submit(try PLCOperation(json: Data(body)), for: did)
            } catch let error as PLCError {
                throw XRPCError.invalidRequest(error.description)
            }
            return .empty
        }
    }

    private func plcDID(_ context: PDSRequestContext) throws -> DID {
        guard let text = context.parameters.get("did"), text.hasPrefix("did:plc:"), let did = try? DID(text) else {
            throw XRPCError.notFound("not a did:plc")
        }
        return did
    }
}

import ATData
import ATProtoAPI

extension Bluesky {
    /// The call that a generated method makes.
    private func lexRequest(
        _ nsid: String, _ kind: XRPCMethodKind, parameters: [(String, String)], body: [UInt8]?, contentType: String?, accept: String
    ) -> XRPCCall {
        XRPCCall(
            nsid: nsid, kind: kind == .query ? .query : .procedure, parameters: parameters,
            body: kind == .query ? nil : (body ?? (contentType == nil ? nil : [])), contentType: contentType, accept: accept)
    }

    /// Calls a method and decodes its JSON output as the generated type.
    ///
    /// Outputs are read for their shape and formats; the lexicon's limits are
    /// the server's to keep, so a longer string than declared does not fail a read.
    package func lexCall<Output: LexValue>(
        _ nsid: String, _ kind: XRPCMethodKind, parameters: [(String, String)], body: [UInt8]?, contentType: String?,
        options: CallOptions, as type: Output.Type
    ) async throws(BlueskyError) -> Output {
        let call = lexRequest(nsid, kind, parameters: parameters, body: body, contentType: contentType, accept: "application/json")
        let (_, bytes) = try await data(call, options: options)
        do {
            return try Output(json: bytes, validating: false)
        } catch {
            throw BlueskyError(kind: .decoding, status: 200, rawBody: bytes, detail: "\(nsid): \(error)", underlying: error)
        }
    }

    /// Calls a method whose output is not JSON and returns its bytes.
    package func lexBytes(
        _ nsid: String, _ kind: XRPCMethodKind, parameters: [(String, String)], body: [UInt8]?, contentType: String?,
        accept: String, options: CallOptions
    ) async throws(BlueskyError) -> [UInt8] {
        let call = lexRequest(nsid, kind, parameters: parameters, body: body, contentType: contentType, accept: accept)
        return try await data(call, options: options).1
    }

    /// Calls a method without output.
    package func lexSend(
        _ nsid: String, _ kind: XRPCMethodKind, parameters: [(String, String)], body: [UInt8]?, contentType: String?,
        options: CallOptions
    ) async throws(BlueskyError) {
        let call = lexRequest(nsid, kind, parameters: parameters, body: body, contentType: contentType, accept: "application/json")
        try await send(call, options: options)
    }
}

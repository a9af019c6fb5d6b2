import ATData

extension Bluesky {
    /// Calls any XRPC query by NSID, for methods without a typed wrapper.
    ///
    /// - Returns: the output in the atproto data model (`.null` for an empty body).
    public func call(
        query nsid: String, parameters: [(String, String)] = [], options: CallOptions = .init()
    ) async throws(BlueskyError) -> DataValue {
        try await untyped(XRPCCall.query(nsid, parameters.map { ($0.0, Optional($0.1)) }), options: options)
    }

    /// Calls any XRPC procedure by NSID, with a JSON input.
    ///
    /// - Returns: the output in the atproto data model (`.null` for an empty body).
    public func call(
        procedure nsid: String, input: DataValue? = nil, options: CallOptions = .init()
    ) async throws(BlueskyError) -> DataValue {
        try await untyped(.procedure(nsid, json: input), options: options)
    }

    private func untyped(_ call: XRPCCall, options: CallOptions) async throws(BlueskyError) -> DataValue {
        let (_, body) = try await data(call, options: options)
        if body.isEmpty { return .null }
        return try Repo.parse(body, call.nsid)
    }
}

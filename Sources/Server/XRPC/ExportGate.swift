import Synchronization

/// How many repository exports (`getRepo`) run at once: each holds a
/// database snapshot, its connection and a batch in flight until its peer has
/// read everything, so a few clients that never read could otherwise hold
/// the server's memory. Past either limit a call gets 429.
final class ExportGate: Sendable {
    private let open = Mutex((total: 0, byAddress: [String: Int]()))
    /// Exports at once from one address.
    let perAddress: Int
    /// Exports at once in all.
    let total: Int

    init(perAddress: Int = 8, total: Int = 64) {
        self.perAddress = perAddress
        self.total = total
    }

    /// A permit for one export from `address`, released with ``release(_:)``.
    ///
    /// - Throws: 429 `RateLimitExceeded` when either limit is reached.
    func enter(_ address: String) throws(XRPCError) {
        let admitted = open.withLock { state in
            guard state.total < total, state.byAddress[address, default: 0] < perAddress else { return false }
            state.total += 1
            state.byAddress[address, default: 0] += 1
            return true
        }
        guard admitted else {
            var error = XRPCError(.tooManyRequests, "RateLimitExceeded", "Too many repository exports at once; try again when one has finished")
            error.headers[.retryAfter] = "5"
            throw error
        }
    }

    /// Returns the permit of `address`.
    func release(_ address: String) {
        open.withLock { state in
            state.total -= 1
            let left = state.byAddress[address, default: 1] - 1
            state.byAddress[address] = left > 0 ? left : nil
        }
    }
}

import ATSyntax
import Synchronization

/// The repositories' writers, each holding its tree in memory, kept for the
/// accounts used most recently: at most ``capacity`` of them, so that memory
/// does not grow with every account that ever wrote.
///
/// A writer past the capacity goes once it is idle (no write in progress):
/// it is retired first, so that a request that fetched it just before finds
/// out (``RepoWriter/Retired``) and asks again, rather than writing beside
/// the writer that replaces it.
final class WriterCache: Sendable {
    private struct Entry {
        let writer: RepoWriter
        var used: UInt64
    }

    private struct State {
        var entries: [DID: Entry] = [:]
        var clock: UInt64 = 0
    }

    /// The most writers kept.
    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The writers held now.
    var count: Int { state.withLock { $0.entries.count } }

    /// The writer of `did`, if held; it counts as used.
    func writer(for did: DID) -> RepoWriter? {
        state.withLock { state in
            guard var entry = state.entries[did] else { return nil }
            state.clock += 1
            entry.used = state.clock
            state.entries[did] = entry
            return entry.writer
        }
    }

    /// Keeps `writer` (or returns the one already held for its DID), then
    /// retires and drops the least recently used idle writers past the capacity.
    @discardableResult
    func insert(_ writer: RepoWriter) -> RepoWriter {
        state.withLock { state in
            state.clock += 1
            if var existing = state.entries[writer.did], existing.writer !== writer, !existing.writer.isRetired {
                existing.used = state.clock
                state.entries[writer.did] = existing
                return existing.writer
            }
            state.entries[writer.did] = Entry(writer: writer, used: state.clock)
            if state.entries.count > capacity {
                let oldest = state.entries.sorted { $0.value.used < $1.value.used }
                var excess = state.entries.count - capacity
                for (did, entry) in oldest where excess > 0 && did != writer.did && entry.writer.retireIfIdle() {
                    state.entries[did] = nil
                    excess -= 1
                }
            }
            return writer
        }
    }

    /// Drops the writer of `did` (its repository was deleted or replaced).
    func remove(_ did: DID) {
        _ = state.withLock { $0.entries.removeValue(forKey: did) }
    }
}

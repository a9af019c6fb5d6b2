import Foundation
import Synchronization

/// Makes TIDs that strictly increase, even when called from many tasks at once.
///
/// Each clock picks a random clock identifier. When the system clock stands
/// still or steps back, the clock moves one microsecond past the last TID.
public final class TIDClock: Sendable {
    /// The clock identifier stamped into every TID, 0–1023.
    public let clockID: UInt16
    private let last = Mutex<UInt64>(0)
    private let now: @Sendable () -> UInt64

    /// A clock with a random identifier, reading the system time.
    public convenience init() {
        self.init(clockID: UInt16.random(in: 0..<1024))
    }

    /// A clock with the given identifier; `now` returns microseconds since the epoch.
    public init(
        clockID: UInt16,
        now: @escaping @Sendable () -> UInt64 = { UInt64(Date().timeIntervalSince1970 * 1_000_000) }
    ) {
        self.clockID = clockID & 0x3FF
        self.now = now
    }

    /// The next TID, later than every TID this clock returned before.
    public func next() -> TID {
        let micros = last.withLock { last in
            let next = max(now(), last + 1)
            last = next
            return next
        }
        return TID(microseconds: micros, clockID: clockID)
    }
}

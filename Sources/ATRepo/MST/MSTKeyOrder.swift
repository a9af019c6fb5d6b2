#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Bytewise key order, with `memcmp` rather than the generic sequence
/// comparison, which walks iterators one element at a time.
enum KeyOrder {
    /// Whether `a` sorts before `b`.
    @inline(__always)
    static func precedes(_ a: some ContiguousKey, _ b: some ContiguousKey) -> Bool {
        compare(a, b) < 0
    }

    /// `-1`, `0` or `1` as `a` sorts before, equal to, or after `b`.
    @inline(__always)
    static func compare(_ a: some ContiguousKey, _ b: some ContiguousKey) -> Int {
        a.withKeyBytes { x in
            b.withKeyBytes { y in
                let n = min(x.count, y.count)
                let c = n == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, n)
                if c != 0 { return c < 0 ? -1 : 1 }
                return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
            }
        }
    }
}

/// Byte containers that keys come in.
protocol ContiguousKey {
    func withKeyBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R
}

extension Array: ContiguousKey where Element == UInt8 {
    @inline(__always) func withKeyBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R { withUnsafeBufferPointer(body) }
}

extension ArraySlice: ContiguousKey where Element == UInt8 {
    @inline(__always) func withKeyBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R { withUnsafeBufferPointer(body) }
}

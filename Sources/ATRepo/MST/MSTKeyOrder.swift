#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

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

extension UnsafeBufferPointer: ContiguousKey where Element == UInt8 {
    @inline(__always) func withKeyBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R { body(self) }
}

extension KeyOrder {
    /// The positions of `keys` in key order, equal keys in their given order.
    /// The keys are copied once into one buffer, so that comparing two of
    /// them touches no reference count: sorting 100k keys in place of arrays
    /// was mostly retains and releases.
    static func sortedIndices(of keys: some RandomAccessCollection<[UInt8]>) -> [Int] {
        var buffer = [UInt8]()
        buffer.reserveCapacity(keys.reduce(0) { $0 + $1.count })
        var spans = [(start: Int, count: Int)]()
        spans.reserveCapacity(keys.count)
        var sorted = true
        var previous: [UInt8]?
        for key in keys {
            spans.append((buffer.count, key.count))
            buffer += key
            if sorted, let previous, compare(previous, key) > 0 { sorted = false }
            previous = key
        }
        var order = Array(0..<keys.count)
        guard !sorted else { return order }
        buffer.withUnsafeBufferPointer { all in
            spans.withUnsafeBufferPointer { spans in
                nonisolated(unsafe) let all = all, spans = spans
                // Key order, then index order: the sort is stable.
                let precedes: @Sendable (Int, Int) -> Bool = { i, j in
                    let a = UnsafeBufferPointer(rebasing: all[spans[i].start..<(spans[i].start + spans[i].count)])
                    let b = UnsafeBufferPointer(rebasing: all[spans[j].start..<(spans[j].start + spans[j].count)])
                    let c = compare(a, b)
                    return c < 0 || (c == 0 && i < j)
                }
                order = sortOnTwoCores(order, by: precedes)
            }
        }
        return order
    }

    /// Inputs at least this long are sorted in two halves at once, then merged.
    static let parallelSortThreshold = 16_384

    /// `order` sorted by `precedes`: below ``parallelSortThreshold``, or on
    /// one core, in place; otherwise each half on a core of its own, then
    /// merged, taking from the first half on ties (so a stable order stays so).
    static func sortOnTwoCores(_ order: [Int], by precedes: @escaping @Sendable (Int, Int) -> Bool) -> [Int] {
        var order = order
        guard order.count >= parallelSortThreshold, ProcessInfo.processInfo.activeProcessorCount > 1 else {
            order.sort(by: precedes)
            return order
        }
        let n = order.count, mid = n / 2
        order.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let buffer = buffer
            DispatchQueue.concurrentPerform(iterations: 2) { half in
                var part = UnsafeMutableBufferPointer(rebasing: half == 0 ? buffer[..<mid] : buffer[mid...])
                part.sort(by: precedes)
            }
        }
        var merged = [Int]()
        merged.reserveCapacity(n)
        var a = 0, b = mid
        while a < mid, b < n {
            if precedes(order[b], order[a]) {
                merged.append(order[b])
                b += 1
            } else {
                merged.append(order[a])
                a += 1
            }
        }
        merged += order[a..<mid]
        merged += order[b..<n]
        return merged
    }
}

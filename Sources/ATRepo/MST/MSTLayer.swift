import ATData
import Dispatch
import Foundation

extension MST {
    /// The longest key a node read from a store or a file may hold: longer
    /// than any repository path (an NSID of at most 317 bytes, a slash, a
    /// record key of at most 512). Each key of a node can repeat the whole
    /// of the one before it, so without a bound the keys of one block of
    /// tens of thousands of entries would take memory quadratic in its size.
    static let maxKeyLength = 1_024

    /// The layer of `key`: the leading zero bits of its SHA-256, halved and
    /// rounded down (a fanout of 4).
    public static func layer(of key: [UInt8]) -> Int { layer(of: key[...]) }

    static func layer(of key: ArraySlice<UInt8>) -> Int {
        key.withUnsafeBytes { SHA256Digest(hashing: $0).leadingZeroBitCount / 2 }
    }

    /// The layers of the keys of many elements, hashed on all cores.
    static func layers<Element: Sendable>(of keys: [Element], _ key: @Sendable (Element) -> [UInt8]) -> [Int] {
        let workers = keys.count < 8192 ? 1 : max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
        guard workers > 1 else { return keys.map { layer(of: key($0)) } }
        return [Int](unsafeUninitializedCapacity: keys.count) { buffer, initialized in
            nonisolated(unsafe) let out = buffer
            let chunk = (keys.count + workers - 1) / workers
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                for i in (worker * chunk)..<min(keys.count, (worker + 1) * chunk) {
                    out.initializeElement(at: i, to: layer(of: key(keys[i])))
                }
            }
            initialized = keys.count
        }
    }

    /// The layer of a string key.
    public static func layer(of key: String) -> Int { layer(of: Array(key.utf8)) }
}

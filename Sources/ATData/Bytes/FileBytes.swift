#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Read-only bytes that readers borrow: an array, or a file mapped into memory.
///
/// Mapping a large file costs a few page-table entries where reading it costs
/// a zeroed buffer and a copy: for a 24 MB CAR, about 2 ms against 7–100 ms
/// on a virtual machine. The mapping is private and read-only. As with any
/// mapped file, truncating the file while it is mapped makes the reading
/// process fail with `SIGBUS`; map only files that nobody else is writing.
public final class FileBytes: ContiguousBytesLike, @unchecked Sendable {
    // Immutable after `init`: the mapping is never written, and is released
    // only in `deinit`.
    private let base: UnsafeRawPointer?
    private let mapped: Bool
    private let array: [UInt8]

    /// The number of bytes.
    public let count: Int

    /// Holds `bytes`.
    public init(_ bytes: [UInt8]) {
        array = bytes
        base = nil
        mapped = false
        count = bytes.count
    }

    /// Maps the first `count` bytes of the open file `descriptor` (a regular
    /// file), which the caller may close afterwards. Fails with the `errno`
    /// of `mmap`.
    public init(mapping descriptor: Int32, count: Int) throws(FileBytesError) {
        array = []
        self.count = count
        guard count > 0 else {
            base = nil
            mapped = false
            return
        }
        let address = mmap(nil, count, PROT_READ, MAP_PRIVATE, descriptor, 0)
        guard let address, address != MAP_FAILED else { throw FileBytesError(errno: errno) }
        base = UnsafeRawPointer(address)
        mapped = true
    }

    deinit {
        if mapped, let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// Lends the bytes for the duration of `body`.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if mapped { return try body(UnsafeRawBufferPointer(start: base, count: count)) }
        return try array.withUnsafeBytes(body)
    }

    /// The bytes in `range`: a slice that shares the array, or a copy of
    /// the mapped file's bytes.
    public subscript(range: Range<Int>) -> ArraySlice<UInt8> {
        if mapped { return ArraySlice(UnsafeRawBufferPointer(start: base, count: count)[range]) }
        return array[range]
    }
}

/// Why a file could not be mapped.
public struct FileBytesError: Error, Sendable, CustomStringConvertible {
    /// The `errno` of the failed call.
    public let errno: Int32

    public var description: String { String(cString: strerror(errno)) }
}

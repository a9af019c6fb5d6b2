/// Byte classes used by the hand-written parsers in this module.
enum ASCII {
    @inline(__always) static func isLower(_ c: UInt8) -> Bool { c >= 0x61 && c <= 0x7A }
    @inline(__always) static func isUpper(_ c: UInt8) -> Bool { c >= 0x41 && c <= 0x5A }
    @inline(__always) static func isAlpha(_ c: UInt8) -> Bool { isLower(c) || isUpper(c) }
    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    @inline(__always) static func isAlnum(_ c: UInt8) -> Bool { isAlpha(c) || isDigit(c) }

    static let hyphen: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let colon: UInt8 = 0x3A
    static let slash: UInt8 = 0x2F

    /// Splits `bytes` on `separator`, keeping empty pieces.
    static func split(_ bytes: some Collection<UInt8>, on separator: UInt8) -> [ArraySlice<UInt8>] {
        Array(bytes).split(separator: separator, omittingEmptySubsequences: false)
    }

    /// Runs `body` over the UTF-8 bytes of `string` without copying them when
    /// the string is stored contiguously (native strings are).
    @inline(__always)
    static func withBytes<R>(_ string: String, _ body: (UnsafeBufferPointer<UInt8>) throws(SyntaxError) -> R) throws(SyntaxError) -> R {
        let result: Result<R, SyntaxError>? = string.utf8.withContiguousStorageIfAvailable { buffer in
            do throws(SyntaxError) { return .success(try body(buffer)) } catch { return .failure(error) }
        }
        if let result { return try result.get() }
        let copy = Array(string.utf8)
        let fallback: Result<R, SyntaxError> = copy.withUnsafeBufferPointer { buffer in
            do throws(SyntaxError) { return .success(try body(buffer)) } catch { return .failure(error) }
        }
        return try fallback.get()
    }

    /// The ranges of the pieces of `bytes` between `separator`s, empty ones
    /// kept, passed to `body` in order with whether each is the last.
    @inline(__always)
    static func forEachPiece(
        _ bytes: UnsafeBufferPointer<UInt8>, on separator: UInt8, _ body: (Range<Int>, Bool) throws(SyntaxError) -> Void
    ) throws(SyntaxError) {
        var start = 0
        for i in 0..<bytes.count where bytes[i] == separator {
            try body(start..<i, false)
            start = i + 1
        }
        try body(start..<bytes.count, true)
    }

    /// Whether `bytes` begins with the ASCII `prefix`.
    @inline(__always)
    static func hasPrefix(_ bytes: UnsafeBufferPointer<UInt8>, _ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard bytes.count >= count else { return false }
        let start = prefix.utf8Start
        for i in 0..<count where bytes[i] != start[i] { return false }
        return true
    }

    /// Parses the fixed-width run of decimal digits at `start..<end` of `bytes`.
    @inline(__always)
    static func number(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int? {
        guard start < end else { return nil }
        var value = 0
        for i in start..<end {
            guard isDigit(bytes[i]) else { return nil }
            value = value * 10 + Int(bytes[i] &- 0x30)
        }
        return value
    }

}

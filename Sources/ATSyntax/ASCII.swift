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

    /// Parses a fixed-width run of decimal digits.
    static func number(_ bytes: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for c in bytes {
            guard isDigit(c) else { return nil }
            value = value * 10 + Int(c - 0x30)
        }
        return bytes.isEmpty ? nil : value
    }
}

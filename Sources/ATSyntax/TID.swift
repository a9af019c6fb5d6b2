import Foundation

/// A timestamp identifier: 64 bits, written as 13 characters of base32-sortable.
///
/// The top bit is zero, the next 53 bits count microseconds since the Unix epoch,
/// and the low 10 bits are a clock identifier. String order equals time order.
public struct TID: SyntaxValue, Comparable {
    /// The 64-bit value.
    public let rawValue: UInt64

    static let alphabet = Array("234567abcdefghijklmnopqrstuvwxyz".utf8)
    private static let decodeTable: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = Int8(i) }
        return table
    }()

    /// Parses and validates `string`.
    public init(_ string: String) throws(SyntaxError) {
        func fail(_ code: SyntaxError.Code, _ message: String) -> SyntaxError {
            SyntaxError("TID", code, message)
        }
        let utf8 = string.utf8
        guard utf8.count == 13 else { throw fail(.invalidStructure, "must be exactly 13 characters") }
        var value: UInt64 = 0
        for (i, c) in utf8.enumerated() {
            let digit = Self.decodeTable[Int(c)]
            guard digit >= 0 else { throw fail(.invalidCharacter, "character '\(Unicode.Scalar(c))' is not base32-sortable") }
            if i == 0, digit >= 16 { throw fail(.outOfRange, "the high bit must be zero") }
            value = value << 5 | UInt64(digit)
        }
        self.rawValue = value
    }

    /// A TID from its 64-bit value; the top bit is cleared.
    public init(rawValue: UInt64) {
        self.rawValue = rawValue & ~(1 << 63)
    }

    /// A TID from a timestamp in microseconds since the epoch and a clock identifier.
    public init(microseconds: UInt64, clockID: UInt16) {
        self.init(rawValue: (microseconds & ((1 << 53) - 1)) << 10 | UInt64(clockID & 0x3FF))
    }

    /// Microseconds since the Unix epoch.
    public var microseconds: UInt64 { rawValue >> 10 }
    /// The clock identifier, 0–1023.
    public var clockID: UInt16 { UInt16(rawValue & 0x3FF) }
    /// The timestamp as a `Date`.
    public var date: Date { Date(timeIntervalSince1970: Double(microseconds) / 1_000_000) }

    public var description: String {
        var chars = [UInt8](repeating: 0, count: 13)
        var v = rawValue
        for i in stride(from: 12, through: 0, by: -1) {
            chars[i] = Self.alphabet[Int(v & 31)]
            v >>= 5
        }
        return String(decoding: chars, as: UTF8.self)
    }

    public static func < (lhs: TID, rhs: TID) -> Bool { lhs.rawValue < rhs.rawValue }
}

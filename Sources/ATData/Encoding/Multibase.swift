import Foundation

/// Multibase text encodings: a one-character prefix names the base.
///
/// Supported: `b` base32 (lowercase, unpadded), `B` base32 upper, `z` base58btc,
/// `f`/`F` base16, `m` base64, `u` base64url.
public enum Multibase {
    /// The bases this library writes.
    public enum Base: Sendable {
        case base32
        case base58btc
        case base16
    }

    /// Encodes `bytes` with `base`, including the prefix character.
    public static func encode(_ bytes: some Collection<UInt8>, as base: Base) -> String {
        switch base {
        case .base32: "b" + Base32.encode(bytes)
        case .base58btc: "z" + Base58.encode(Array(bytes))
        case .base16: "f" + bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        }
    }

    /// Decodes multibase text, whose first character names the base.
    public static func decode(_ text: String) throws(DataError) -> [UInt8] {
        guard let prefix = text.first else { throw DataError(.invalidMultibase, "empty multibase string") }
        let body = String(text.dropFirst())
        let decoded: [UInt8]?
        switch prefix {
        case "b": decoded = Base32.decode(body, upper: false)
        case "B": decoded = Base32.decode(body, upper: true)
        case "z": decoded = Base58.decode(body)
        case "f", "F": decoded = Base16.decode(body)
        case "m": decoded = Data(base64Encoded: body.paddedForBase64()).map(Array.init)
        case "u": decoded = Base64URL.decode(body)
        default:
            throw DataError(.invalidMultibase, "unsupported multibase prefix '\(prefix)'")
        }
        guard let decoded else { throw DataError(.invalidMultibase, "invalid characters for multibase '\(prefix)'") }
        return decoded
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }

    package func paddedForBase64() -> String {
        let remainder = utf8.count % 4
        return remainder == 0 ? self : self + String(repeating: "=", count: 4 - remainder)
    }
}

/// RFC 4648 base64url without padding, as JWTs and PLC signatures use it.
package enum Base64URL {
    /// The unpadded base64url text of `bytes`.
    package static func encode(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return String(text.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    }

    /// The bytes of unpadded base64url `text`; `nil` for any character outside its alphabet.
    package static func decode(_ text: some StringProtocol) -> [UInt8]? {
        guard text.utf8.allSatisfy({ $0 == 0x2D || $0 == 0x5F || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) })
        else { return nil }
        let standard = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        return Data(base64Encoded: standard.paddedForBase64()).map(Array.init)
    }
}

/// RFC 4648 base32 without padding.
enum Base32 {
    static func encode(_ bytes: some Collection<UInt8>) -> String {
        Array(bytes).withUnsafeBytes { encode($0, prefix: nil) }
    }

    /// Encodes `bytes` after `prefix` (if any), straight into the string's storage.
    static func encode(_ bytes: UnsafeRawBufferPointer, prefix: UInt8?) -> String {
        String(unsafeUninitializedCapacity: 1 + (bytes.count * 8 + 4) / 5) { out in
            var n = 0
            if let prefix {
                out[0] = prefix
                n = 1
            }
            var buffer: UInt32 = 0
            var bits = 0
            for byte in bytes {
                buffer = buffer << 8 | UInt32(byte)
                bits += 8
                while bits >= 5 {
                    bits -= 5
                    out[n] = alphabet((buffer >> UInt32(bits)) & 31)
                    n += 1
                }
            }
            if bits > 0 {
                out[n] = alphabet((buffer << UInt32(5 - bits)) & 31)
                n += 1
            }
            return n
        }
    }

    @inline(__always) private static func alphabet(_ value: UInt32) -> UInt8 {
        value < 26 ? UInt8(truncatingIfNeeded: value) &+ 0x61 : UInt8(truncatingIfNeeded: value) &+ (0x32 &- 26)
    }

    /// Decodes lowercase `text` into `out`, returning the byte count, or `nil`
    /// for a character outside the alphabet, non-zero padding bits or an `out`
    /// too small.
    static func decode(_ text: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) -> Int? {
        guard text.count * 5 / 8 <= out.count else { return nil }
        var n = 0
        var buffer: UInt32 = 0
        var bits = 0
        for c in text {
            let value: UInt8
            if c &- 0x61 < 26 {
                value = c &- 0x61
            } else if c &- 0x32 < 6 {
                value = c &- 0x32 &+ 26
            } else {
                return nil
            }
            buffer = buffer << 5 | UInt32(value)
            bits += 5
            if bits >= 8 {
                bits -= 8
                out[n] = UInt8(truncatingIfNeeded: buffer >> UInt32(bits))
                n += 1
            }
        }
        guard bits < 5, buffer & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return n
    }

    static func decode(_ text: String, upper: Bool) -> [UInt8]? {
        var out = [UInt8]()
        out.reserveCapacity(text.utf8.count * 5 / 8)
        var buffer: UInt32 = 0
        var bits = 0
        for c in text.utf8 {
            let value: UInt8
            switch c {
            case 0x61...0x7A where !upper: value = c - 0x61
            case 0x41...0x5A where upper: value = c - 0x41
            case 0x32...0x37: value = c - 0x32 + 26
            default: return nil
            }
            buffer = buffer << 5 | UInt32(value)
            bits += 5
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            }
        }
        // Leftover bits must be zero padding, fewer than 5 of them.
        guard bits < 5, buffer & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return out
    }
}

/// Bitcoin base58.
enum Base58 {
    static let alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)
    static let table: [Int8] = {
        var t = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = Int8(i) }
        return t
    }()

    static func encode(_ bytes: [UInt8]) -> String {
        let zeros = bytes.prefix { $0 == 0 }.count
        var digits = [UInt8]()  // base58 digits, least significant first
        for byte in bytes.dropFirst(zeros) {
            var carry = Int(byte)
            for i in digits.indices {
                carry += Int(digits[i]) << 8
                digits[i] = UInt8(carry % 58)
                carry /= 58
            }
            while carry > 0 {
                digits.append(UInt8(carry % 58))
                carry /= 58
            }
        }
        let out = [UInt8](repeating: alphabet[0], count: zeros) + digits.reversed().map { alphabet[Int($0)] }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        let zeros = chars.prefix { $0 == alphabet[0] }.count
        var bytes = [UInt8]()  // least significant first
        for c in chars.dropFirst(zeros) {
            let value = table[Int(c)]
            guard value >= 0 else { return nil }
            var carry = Int(value)
            for i in bytes.indices {
                carry += Int(bytes[i]) * 58
                bytes[i] = UInt8(carry & 0xFF)
                carry >>= 8
            }
            while carry > 0 {
                bytes.append(UInt8(carry & 0xFF))
                carry >>= 8
            }
        }
        return [UInt8](repeating: 0, count: zeros) + bytes.reversed()
    }
}

/// Hexadecimal, either case.
enum Base16 {
    static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x61...0x66: c - 0x61 + 10
            case 0x41...0x46: c - 0x41 + 10
            default: nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}

import Foundation

/// A pull reader over one JSON document in UTF-8, for decoders that know the
/// shape they expect and read it without building a value tree.
///
/// It applies the same strict rules as ``DataValue/init(json:)`` (RFC 8259,
/// integers only, no lone surrogates, bounded depth) item by item. The buffer
/// must stay valid while the cursor is used.
package struct JSONCursor {
    package let buffer: UnsafeRawBufferPointer
    package private(set) var offset: Int
    package let maxDepth: Int
    package private(set) var depth = 0

    package init(_ buffer: UnsafeRawBufferPointer, maxDepth: Int = DataValue.maxJSONDepth) {
        self.buffer = buffer
        self.offset = 0
        self.maxDepth = maxDepth
    }

    /// The next significant byte, or `nil` at the end.
    @inline(__always)
    package mutating func peek() -> UInt8? {
        skipSpace()
        return offset < buffer.count ? buffer[offset] : nil
    }

    @inline(__always)
    private mutating func skipSpace() {
        while offset < buffer.count {
            switch buffer[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    package func fail(_ what: String) -> DataError {
        DataError(.invalidJSON, "not valid JSON: \(what) at byte \(offset)", offset: offset)
    }

    @inline(__always)
    private mutating func expect(_ byte: UInt8, _ what: String) throws(DataError) {
        guard peek() == byte else { throw fail("expected \(what)") }
        offset += 1
    }

    /// Checks that only white space follows the value.
    package mutating func expectEnd() throws(DataError) {
        guard peek() == nil else { throw fail("text after the JSON value") }
    }

    // MARK: Containers

    /// Opens an object. Follow with ``nextKey(first:)`` until it returns `nil`.
    package mutating func beginObject() throws(DataError) {
        try expect(UInt8(ascii: "{"), "an object")
        try enter()
    }

    /// The next key of the open object, or `nil` after its closing brace.
    /// `first` is true before the first key and set to false by the call.
    package mutating func nextKey(first: inout Bool) throws(DataError) -> String? {
        try nextKey(first: &first) { String(decoding: $0, as: UTF8.self) }
    }

    /// Like ``nextKey(first:)``, but lends the key's UTF-8 bytes to `body`
    /// instead of making a `String`; `nil` after the closing brace.
    package mutating func nextKey<R>(first: inout Bool, _ body: (UnsafeRawBufferPointer) throws(DataError) -> R) throws(DataError) -> R? {
        if peek() == UInt8(ascii: "}") {
            offset += 1
            depth -= 1
            return nil
        }
        if !first { try expect(UInt8(ascii: ","), "',' or '}'") }
        first = false
        guard peek() == UInt8(ascii: "\"") else { throw fail("expected a key") }
        let result = try readStringBytes(body)
        try expect(UInt8(ascii: ":"), "':'")
        return result
    }

    /// Like ``nextKey(first:_:)`` with a key that `index` turns into a
    /// number: not generic, so that a caller in another module does not run
    /// the unspecialized generic, which looks up type metadata at each call.
    package mutating func nextKey(first: inout Bool, index: (UnsafeRawBufferPointer) -> Int) throws(DataError) -> Int? {
        try nextKey(first: &first) { key throws(DataError) in index(key) }
    }

    /// Opens an array. Follow with ``nextElement(first:)`` until it returns false.
    package mutating func beginArray() throws(DataError) {
        try expect(UInt8(ascii: "["), "an array")
        try enter()
    }

    /// Whether another element follows in the open array.
    package mutating func nextElement(first: inout Bool) throws(DataError) -> Bool {
        if peek() == UInt8(ascii: "]") {
            offset += 1
            depth -= 1
            return false
        }
        if !first { try expect(UInt8(ascii: ","), "',' or ']'") }
        first = false
        return true
    }

    private mutating func enter() throws(DataError) {
        depth += 1
        guard depth <= maxDepth else {
            throw DataError(.depthExceeded, "JSON nested deeper than \(maxDepth) levels", offset: offset)
        }
    }

    // MARK: Scalars

    /// If the next value is `null`, consumes it and returns true.
    package mutating func readNullIfPresent() throws(DataError) -> Bool {
        guard peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    /// Reads `true` or `false`.
    package mutating func readBool() throws(DataError) -> Bool {
        switch peek() {
        case UInt8(ascii: "t"): try literal("true"); return true
        case UInt8(ascii: "f"): try literal("false"); return false
        default: throw DataError(.typeMismatch, "expected a boolean at byte \(offset)", offset: offset)
        }
    }

    private mutating func literal(_ word: StaticString) throws(DataError) {
        let count = word.utf8CodeUnitCount
        guard offset + count <= buffer.count else { throw fail("a truncated literal") }
        for i in 0..<count where buffer[offset + i] != word.utf8Start[i] { throw fail("an unknown literal") }
        offset += count
    }

    /// Reads an integer; a number with a zero fraction (`12.0`) counts as one.
    package mutating func readInt() throws(DataError) -> Int64 {
        guard let first = peek(), first == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
            throw DataError(.typeMismatch, "expected an integer at byte \(offset)", offset: offset)
        }
        let start = offset
        let negative = buffer[offset] == UInt8(ascii: "-")
        if negative { offset += 1 }
        let digitsStart = offset
        // The magnitude, which may be one past Int64.max for Int64.min.
        var magnitude: UInt64 = 0
        var overflow = false
        while offset < buffer.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(buffer[offset]) {
            let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(buffer[offset] - UInt8(ascii: "0")))
            overflow = overflow || o1 || o2
            magnitude = a
            offset += 1
        }
        let digits = offset - digitsStart
        guard digits > 0 else { throw fail("a number without digits") }
        guard digits == 1 || buffer[digitsStart] != UInt8(ascii: "0") else { throw fail("a number with a leading zero") }
        if offset < buffer.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(buffer[offset]) {
            return try readFraction(from: start)
        }
        let limit = negative ? UInt64(Int64.max) + 1 : UInt64(Int64.max)
        guard !overflow, magnitude <= limit else {
            throw DataError(.integerOutOfRange, "integer out of range at byte \(start)", offset: start)
        }
        return negative ? Int64(truncatingIfNeeded: 0 &- magnitude) : Int64(magnitude)
    }

    /// A number with a fraction or exponent (RFC 8259: digits after the
    /// point, and after the exponent's optional sign): accepted only when it
    /// is a whole number.
    private mutating func readFraction(from start: Int) throws(DataError) -> Int64 {
        func digits() -> Int {
            let first = offset
            while offset < buffer.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(buffer[offset]) { offset += 1 }
            return offset - first
        }
        if offset < buffer.count, buffer[offset] == UInt8(ascii: ".") {
            offset += 1
            guard digits() > 0 else { throw fail("a number without digits after its point") }
        }
        if offset < buffer.count, buffer[offset] == UInt8(ascii: "e") || buffer[offset] == UInt8(ascii: "E") {
            offset += 1
            if offset < buffer.count, buffer[offset] == UInt8(ascii: "+") || buffer[offset] == UInt8(ascii: "-") { offset += 1 }
            guard digits() > 0 else { throw fail("a number without digits in its exponent") }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: buffer[start..<offset]), as: UTF8.self)
        guard let double = Double(text), double.isFinite else { throw fail("a malformed number") }
        guard double.rounded() == double, abs(double) <= 9_007_199_254_740_992 else {
            throw DataError(.floatNotAllowed, "number \(text) at byte \(start) is not an integer", offset: start)
        }
        return Int64(double)
    }

    /// Reads a string.
    package mutating func readString() throws(DataError) -> String {
        try readStringBytes { String(decoding: $0, as: UTF8.self) }
    }

    /// Reads a string and appends its UTF-8 bytes, unescaped and validated,
    /// to `out`. Not generic, for callers in other modules, as
    /// ``nextKey(first:index:)``.
    package mutating func readStringBytes(appendingTo out: inout [UInt8]) throws(DataError) {
        try readStringBytes { bytes throws(DataError) in out.append(contentsOf: bytes) }
    }

    /// Reads a string and lends `body` its UTF-8 bytes, unescaped and
    /// validated: in place when the string has no escapes.
    package mutating func readStringBytes<R>(_ body: (UnsafeRawBufferPointer) throws(DataError) -> R) throws(DataError) -> R {
        guard peek() == UInt8(ascii: "\"") else {
            throw DataError(.typeMismatch, "expected a string at byte \(offset)", offset: offset)
        }
        offset += 1
        let start = offset
        // Fast path: no escapes.
        while offset < buffer.count {
            let byte = buffer[offset]
            if byte == UInt8(ascii: "\"") {
                let text = UnsafeRawBufferPointer(rebasing: buffer[start..<offset])
                offset += 1
                guard UTF8Validation.isValid(text) else { throw fail("a string that is not UTF-8") }
                return try body(text)
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            offset += 1
        }
        var out = [UInt8](UnsafeRawBufferPointer(rebasing: buffer[start..<offset]))
        while true {
            guard offset < buffer.count else { throw fail("an unterminated string") }
            let byte = buffer[offset]
            switch byte {
            case UInt8(ascii: "\""):
                offset += 1
                let invalid = fail("a string that is not UTF-8")
                let result: Result<R, DataError> = out.withUnsafeBytes { text in
                    guard UTF8Validation.isValid(text) else { return .failure(invalid) }
                    return Result { () throws(DataError) in try body(text) }
                }
                return try result.get()
            case UInt8(ascii: "\\"):
                offset += 1
                guard offset < buffer.count else { throw fail("an unterminated escape") }
                let escape = buffer[offset]
                offset += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"): try appendUnicodeEscape(&out)
                default: throw fail("an unknown escape")
                }
            case 0..<0x20:
                throw fail("a control character in a string")
            default:
                out.append(byte)
                offset += 1
            }
        }
    }

    private mutating func appendUnicodeEscape(_ out: inout [UInt8]) throws(DataError) {
        var scalar = try hex4()
        if (0xD800..<0xDC00).contains(scalar) {
            guard offset + 1 < buffer.count, buffer[offset] == UInt8(ascii: "\\"), buffer[offset + 1] == UInt8(ascii: "u") else {
                throw fail("a lone surrogate")
            }
            offset += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw fail("a lone surrogate") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..<0xE000).contains(scalar) {
            throw fail("a lone surrogate")
        }
        guard let unicode = Unicode.Scalar(scalar) else { throw fail("an invalid code point") }
        out.append(contentsOf: String(Character(unicode)).utf8)
    }

    private mutating func hex4() throws(DataError) -> UInt32 {
        guard offset + 4 <= buffer.count else { throw fail("a short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = buffer[offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw fail("a bad hex digit in a \\u escape")
            }
            value = value << 4 | UInt32(digit)
            offset += 1
        }
        return value
    }

    // MARK: Whole values

    /// Skips one complete value, checking it as strictly as reading it would.
    package mutating func skipValue() throws(DataError) {
        switch peek() {
        case UInt8(ascii: "{"):
            try beginObject()
            var first = true
            while try nextKey(first: &first) != nil { try skipValue() }
        case UInt8(ascii: "["):
            try beginArray()
            var first = true
            while try nextElement(first: &first) { try skipValue() }
        case UInt8(ascii: "\""): _ = try readString()
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try readBool()
        case UInt8(ascii: "n"): try literal("null")
        case nil: throw fail("expected a value")
        default: _ = try readInt()
        }
    }

    /// Reads one complete value into the data model (`$link`, `$bytes` and
    /// blob rules apply, as in ``DataValue/init(json:)``).
    package mutating func readValue() throws(DataError) -> DataValue {
        _ = peek()
        let start = offset
        try skipValue()
        let slice = UnsafeRawBufferPointer(rebasing: buffer[start..<offset])
        if buffer[start] == UInt8(ascii: "{") { return try DataValue(json: Data(slice)) }
        // Wrap non-objects so that the top-level rule of DataValue(json:) holds.
        var wrapped = Data("{\"v\":".utf8)
        wrapped.append(contentsOf: slice)
        wrapped.append(UInt8(ascii: "}"))
        guard case .map(let map) = try DataValue(json: wrapped), let value = map["v"] else { throw fail("expected a value") }
        return value
    }

    /// Saves the position, for a look-ahead that ``restore(_:)`` undoes.
    package var mark: (offset: Int, depth: Int) { (offset, depth) }

    /// Returns to a position taken with ``mark``.
    package mutating func restore(_ mark: (offset: Int, depth: Int)) {
        offset = mark.offset
        depth = mark.depth
    }
}

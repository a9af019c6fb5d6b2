/// A strict DAG-CBOR cursor over one contiguous buffer.
///
/// It reads the generic ``DataValue`` model, and also single items (headers,
/// strings, links), so that fixed shapes such as MST nodes and commits can be
/// decoded without building a value tree.
package struct DAGCBORReader {
    package let buffer: UnsafeRawBufferPointer
    package private(set) var offset: Int
    package let limits: DAGCBOR.Limits

    package init(_ buffer: UnsafeRawBufferPointer, at offset: Int = 0, limits: DAGCBOR.Limits = .default) {
        self.buffer = buffer
        self.offset = offset
        self.limits = limits
    }

    package var isAtEnd: Bool { offset >= buffer.count }

    package func expectEnd() throws(DataError) {
        guard offset == buffer.count else {
            throw DataError(.trailingBytes, "\(buffer.count - offset) bytes after the value", offset: offset)
        }
    }

    // MARK: Headers

    /// Reads an item header: the major type and its argument, in shortest form.
    @inline(__always)
    package mutating func readHeader() throws(DataError) -> (major: UInt8, argument: UInt64) {
        let start = offset
        guard offset < buffer.count else { throw DataError(.truncated, "expected a value", offset: start) }
        let initial = buffer[offset]
        offset += 1
        let major = initial >> 5
        let info = initial & 0x1F
        if major == Major.simple { return (major, UInt64(info)) }  // handled by the caller
        switch info {
        case 0..<24:
            return (major, UInt64(info))
        case 24:
            let v = try readBigEndian(1, start: start)
            guard v >= 24 else { throw nonCanonical(start) }
            return (major, v)
        case 25:
            let v = try readBigEndian(2, start: start)
            guard v > 0xFF else { throw nonCanonical(start) }
            return (major, v)
        case 26:
            let v = try readBigEndian(4, start: start)
            guard v > 0xFFFF else { throw nonCanonical(start) }
            return (major, v)
        case 27:
            let v = try readBigEndian(8, start: start)
            guard v > 0xFFFF_FFFF else { throw nonCanonical(start) }
            return (major, v)
        case 31:
            throw DataError(.indefiniteLength, "indefinite-length items are not allowed", offset: start)
        default:
            throw DataError(.unsupportedValue, "reserved additional information \(info)", offset: start)
        }
    }

    @inline(__always)
    private mutating func readBigEndian(_ count: Int, start: Int) throws(DataError) -> UInt64 {
        guard offset + count <= buffer.count else { throw DataError(.truncated, "integer argument is cut off", offset: start) }
        var v: UInt64 = 0
        for i in 0..<count { v = v << 8 | UInt64(buffer[offset + i]) }
        offset += count
        return v
    }

    private func nonCanonical(_ at: Int) -> DataError {
        DataError(.nonCanonicalInteger, "integer or length not in its shortest form", offset: at)
    }

    /// Checks a declared length against the limit and the bytes left.
    @inline(__always)
    private func checkLength(_ length: UInt64, limit: Int, start: Int, what: String) throws(DataError) -> Int {
        guard length <= UInt64(limit) else {
            throw DataError(.lengthTooLarge, "\(what) declares \(length) items or bytes, over the limit of \(limit)", offset: start)
        }
        guard length <= UInt64(buffer.count - offset) else {
            throw DataError(.truncated, "\(what) declares \(length) but only \(buffer.count - offset) bytes remain", offset: start)
        }
        return Int(length)
    }

    // MARK: Items

    /// Reads a text string.
    /// Reads a text string of one ASCII character, as the keys of MST nodes
    /// are, and returns it; `nil`, having read nothing, for anything else.
    /// No `String` is built.
    @inline(__always)
    package mutating func readOneCharacterText() -> UInt8? {
        guard offset + 1 < buffer.count, buffer[offset] == 0x61, buffer[offset + 1] < 0x80 else { return nil }
        defer { offset += 2 }
        return buffer[offset + 1]
    }

    package mutating func readString() throws(DataError) -> String {
        let start = offset
        let (major, arg) = try readHeader()
        guard major == Major.text else { throw typeMismatch("text string", major, start) }
        return try readStringBody(arg, start: start)
    }

    @inline(__always)
    private mutating func readStringBody(_ arg: UInt64, start: Int) throws(DataError) -> String {
        let length = try checkLength(arg, limit: limits.maxStringLength, start: start, what: "text string")
        let body = UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + length)])
        offset += length
        guard UTF8Validation.isValid(body) else {
            throw DataError(.invalidUTF8, "text string is not valid UTF-8", offset: start)
        }
        return String(decoding: body.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
    }

    /// Reads a byte string, returning its range in the buffer.
    package mutating func readBytesRange() throws(DataError) -> Range<Int> {
        let start = offset
        let (major, arg) = try readHeader()
        guard major == Major.bytes else { throw typeMismatch("byte string", major, start) }
        let length = try checkLength(arg, limit: limits.maxStringLength, start: start, what: "byte string")
        defer { offset += length }
        return offset..<(offset + length)
    }

    /// Reads an integer.
    package mutating func readInt() throws(DataError) -> Int64 {
        let start = offset
        let (major, arg) = try readHeader()
        switch major {
        case Major.unsigned, Major.negative: return try integer(major, arg, start: start)
        default: throw typeMismatch("integer", major, start)
        }
    }

    @inline(__always)
    private func integer(_ major: UInt8, _ arg: UInt64, start: Int) throws(DataError) -> Int64 {
        guard arg <= UInt64(Int64.max) else {
            throw DataError(.integerOutOfRange, "integer does not fit in 64 signed bits", offset: start)
        }
        return major == Major.unsigned ? Int64(arg) : -1 - Int64(arg)
    }

    /// Reads a map header and returns the number of entries.
    package mutating func readMapHeader() throws(DataError) -> Int {
        let start = offset
        let (major, arg) = try readHeader()
        guard major == Major.map else { throw typeMismatch("map", major, start) }
        return try checkLength(arg, limit: limits.maxContainerCount, start: start, what: "map")
    }

    /// Reads an array header and returns the number of elements.
    package mutating func readArrayHeader() throws(DataError) -> Int {
        let start = offset
        let (major, arg) = try readHeader()
        guard major == Major.array else { throw typeMismatch("array", major, start) }
        return try checkLength(arg, limit: limits.maxContainerCount, start: start, what: "array")
    }

    /// If the next item is `null`, consumes it and returns true.
    package mutating func readNullIfPresent() -> Bool {
        guard offset < buffer.count, buffer[offset] == 0xF6 else { return false }
        offset += 1
        return true
    }

    /// Reads a CID link (tag 42).
    package mutating func readLink() throws(DataError) -> CID {
        let start = offset
        let (major, arg) = try readHeader()
        guard major == Major.tag else { throw typeMismatch("CID link", major, start) }
        return try readLinkBody(tag: arg, start: start)
    }

    private mutating func readLinkBody(tag: UInt64, start: Int) throws(DataError) -> CID {
        guard tag == 42 else { throw DataError(.invalidTag, "tag \(tag) is not allowed; only 42", offset: start) }
        let contentStart = offset
        let (major, arg) = try readHeader()
        guard major == Major.bytes else { throw DataError(.invalidTag, "tag 42 must wrap a byte string", offset: contentStart) }
        let length = try checkLength(arg, limit: limits.maxStringLength, start: contentStart, what: "CID link")
        guard length > 0, buffer[offset] == 0 else {
            throw DataError(.invalidTag, "a CID link must start with a 0x00 byte", offset: contentStart)
        }
        let body = UnsafeRawBufferPointer(rebasing: buffer[(offset + 1)..<(offset + length)])
        var cursor = 0
        let cid: CID
        do {
            cid = try CID.read(from: body, at: &cursor)
        } catch {
            throw error.shifted(by: offset + 1)
        }
        guard cursor == body.count else {
            throw DataError(.invalidCID, "bytes after the CID inside a link", offset: offset + 1 + cursor)
        }
        offset += length
        return cid
    }

    private func typeMismatch(_ expected: String, _ major: UInt8, _ at: Int) -> DataError {
        DataError(.typeMismatch, "expected \(expected), found CBOR major type \(major)", offset: at)
    }

    /// Reads and checks a map key, which must sort after `previous` (a range in the buffer).
    @inline(__always)
    package mutating func readKey(after previous: Range<Int>?) throws(DataError) -> (String, Range<Int>) {
        let start = offset
        let (major, arg) = try readHeader()
        guard major == Major.text else {
            throw DataError(.nonStringMapKey, "map keys must be text strings", offset: start)
        }
        let keyStart = offset
        let key = try readStringBody(arg, start: start)
        let range = keyStart..<offset
        if let previous {
            let order = compareKeys(previous, range)
            if order == 0 { throw DataError(.duplicateMapKey, "duplicate map key '\(key)'", offset: start) }
            if order > 0 { throw DataError(.unsortedMapKeys, "map key '\(key)' is out of DAG-CBOR order", offset: start) }
        }
        return (key, range)
    }

    /// Compares two keys in the buffer: by length, then bytewise.
    @inline(__always)
    private func compareKeys(_ a: Range<Int>, _ b: Range<Int>) -> Int {
        let base = buffer.baseAddress!
        return DAGCBOR.compareKeys(base + a.lowerBound, count: a.count, base + b.lowerBound, count: b.count)
    }

    // MARK: Validation without values

    /// Checks one complete value with every rule ``readValue(depth:)`` applies,
    /// without building it: no allocation, for records that only need checking.
    package mutating func skipValue(depth: Int = 0) throws(DataError) {
        let start = offset
        let (major, arg) = try readHeader()
        switch major {
        case Major.unsigned, Major.negative:
            _ = try integer(major, arg, start: start)
        case Major.text:
            let length = try checkLength(arg, limit: limits.maxStringLength, start: start, what: "text string")
            guard UTF8Validation.isValid(UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + length)])) else {
                throw DataError(.invalidUTF8, "text string is not valid UTF-8", offset: start)
            }
            offset += length
        case Major.bytes:
            offset += try checkLength(arg, limit: limits.maxStringLength, start: start, what: "byte string")
        case Major.array, Major.map:
            guard depth < limits.maxDepth else {
                throw DataError(.depthExceeded, "nested deeper than \(limits.maxDepth) levels", offset: start)
            }
            let count = try checkLength(arg, limit: limits.maxContainerCount, start: start, what: major == Major.map ? "map" : "array")
            var previous: Range<Int>? = nil
            for _ in 0..<count {
                if major == Major.map {
                    let keyStart = offset
                    let (keyMajor, keyArg) = try readHeader()
                    guard keyMajor == Major.text else {
                        throw DataError(.nonStringMapKey, "map keys must be text strings", offset: keyStart)
                    }
                    let length = try checkLength(keyArg, limit: limits.maxStringLength, start: keyStart, what: "text string")
                    let range = offset..<(offset + length)
                    guard UTF8Validation.isValid(UnsafeRawBufferPointer(rebasing: buffer[range])) else {
                        throw DataError(.invalidUTF8, "text string is not valid UTF-8", offset: keyStart)
                    }
                    if let previous {
                        let order = compareKeys(previous, range)
                        if order == 0 { throw DataError(.duplicateMapKey, "duplicate map key", offset: keyStart) }
                        if order > 0 { throw DataError(.unsortedMapKeys, "map key out of DAG-CBOR order", offset: keyStart) }
                    }
                    previous = range
                    offset += length
                }
                try skipValue(depth: depth + 1)
            }
        case Major.tag:
            _ = try readLinkBody(tag: arg, start: start)
        default:
            switch arg {
            case 20, 21, 22: break
            case 23: throw DataError(.unsupportedValue, "'undefined' is not allowed", offset: start)
            case 25, 26, 27: throw DataError(.floatNotAllowed, "floating-point numbers are not allowed", offset: start)
            case 31: throw DataError(.unsupportedValue, "unexpected 'break'", offset: start)
            default: throw DataError(.unsupportedValue, "simple value \(arg) is not allowed", offset: start)
            }
        }
    }

    // MARK: Generic values

    /// Reads one complete value of the data model.
    package mutating func readValue(depth: Int = 0) throws(DataError) -> DataValue {
        let start = offset
        let (major, arg) = try readHeader()
        switch major {
        case Major.unsigned, Major.negative:
            return .int(try integer(major, arg, start: start))
        case Major.text:
            return .string(try readStringBody(arg, start: start))
        case Major.bytes:
            let length = try checkLength(arg, limit: limits.maxStringLength, start: start, what: "byte string")
            defer { offset += length }
            return .bytes(Array(UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + length)])))
        case Major.array:
            guard depth < limits.maxDepth else {
                throw DataError(.depthExceeded, "nested deeper than \(limits.maxDepth) levels", offset: start)
            }
            let count = try checkLength(arg, limit: limits.maxContainerCount, start: start, what: "array")
            var elements = [DataValue]()
            elements.reserveCapacity(count)
            for _ in 0..<count { elements.append(try readValue(depth: depth + 1)) }
            return .array(elements)
        case Major.map:
            guard depth < limits.maxDepth else {
                throw DataError(.depthExceeded, "nested deeper than \(limits.maxDepth) levels", offset: start)
            }
            let count = try checkLength(arg, limit: limits.maxContainerCount, start: start, what: "map")
            var entries = [DataMap.Entry]()
            entries.reserveCapacity(count)
            var previous: Range<Int>? = nil
            for _ in 0..<count {
                let (key, range) = try readKey(after: previous)
                previous = range
                entries.append(DataMap.Entry(key: key, value: try readValue(depth: depth + 1)))
            }
            return .map(DataMap(uncheckedSortedEntries: entries))
        case Major.tag:
            return .link(try readLinkBody(tag: arg, start: start))
        default:  // simple values and floats
            switch arg {
            case 20: return .bool(false)
            case 21: return .bool(true)
            case 22: return .null
            case 23: throw DataError(.unsupportedValue, "'undefined' is not allowed", offset: start)
            case 25, 26, 27: throw DataError(.floatNotAllowed, "floating-point numbers are not allowed", offset: start)
            case 31: throw DataError(.unsupportedValue, "unexpected 'break'", offset: start)
            default: throw DataError(.unsupportedValue, "simple value \(arg) is not allowed", offset: start)
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

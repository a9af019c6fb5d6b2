/// Writes canonical DAG-CBOR into one growing buffer.
///
/// Whole values are measured first and then written through a pointer into
/// exactly-sized storage; single items (for hot shapes such as MST nodes and
/// commits) are appended one by one.
package struct DAGCBORWriter {
    package var bytes: [UInt8]

    package init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inline(__always)
    package mutating func writeHeader(_ major: UInt8, _ argument: UInt64) {
        var scratch: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &scratch) { raw in
            let base = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var writer = CBORPointerWriter(base, capacity: 16)
            writer.writeHeader(major, argument)
            bytes.append(contentsOf: UnsafeBufferPointer(start: base, count: writer.pointer - base))
        }
    }

    package mutating func writeInt(_ value: Int64) {
        if value >= 0 {
            writeHeader(Major.unsigned, UInt64(value))
        } else {
            writeHeader(Major.negative, UInt64(-1 - value))
        }
    }

    package mutating func writeString(_ value: String) {
        let utf8 = value.utf8
        writeHeader(Major.text, UInt64(utf8.count))
        if utf8.withContiguousStorageIfAvailable({ bytes.append(contentsOf: $0) }) == nil {
            bytes.append(contentsOf: utf8)
        }
    }

    package mutating func writeBytes(_ value: some Collection<UInt8>) {
        writeHeader(Major.bytes, UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// The same for an array: callers in other modules reach this one
    /// directly, where the generic one would look up its metadata per call.
    package mutating func writeBytes(_ value: [UInt8]) {
        writeHeader(Major.bytes, UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    package mutating func writeLink(_ cid: CID) {
        appendMeasured(CBORPointerWriter.linkSize(cid)) { $0.writeLink(cid) }
    }
    package mutating func writeBool(_ value: Bool) { bytes.append(value ? 0xF5 : 0xF4) }
    package mutating func writeNull() { bytes.append(0xF6) }
    package mutating func writeArrayHeader(_ count: Int) { writeHeader(Major.array, UInt64(count)) }
    package mutating func writeMapHeader(_ count: Int) { writeHeader(Major.map, UInt64(count)) }

    /// Writes any data model value.
    package mutating func write(_ value: DataValue) {
        appendMeasured(CBORPointerWriter.size(of: value)) { $0.write(value) }
    }

    /// Grows the buffer by `size` bytes and lets `body` fill them through a pointer.
    private mutating func appendMeasured(_ size: Int, _ body: (inout CBORPointerWriter) -> Void) {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: size))
        bytes.withUnsafeMutableBufferPointer { buffer in
            var writer = CBORPointerWriter(buffer.baseAddress! + start, capacity: size)
            body(&writer)
        }
    }

    /// The canonical encoding of `value`.
    package static func encode(_ value: DataValue) -> [UInt8] {
        // Most values are small: one pass into stack scratch, then one exact copy.
        let small = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1024) { scratch -> [UInt8]? in
            let base = scratch.baseAddress!
            var writer = CBORPointerWriter(base, capacity: scratch.count)
            writer.write(value)
            return writer.overflowed ? nil : Array(UnsafeBufferPointer(start: base, count: writer.pointer - base))
        }
        if let small { return small }
        // Larger ones are measured first and written into storage of exactly their size.
        let size = CBORPointerWriter.size(of: value)
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var writer = CBORPointerWriter(buffer.baseAddress!, capacity: size)
            writer.write(value)
            initialized = size
        }
    }
}

/// Writes DAG-CBOR through a raw pointer. When the value does not fit in
/// `capacity` bytes, writing stops and ``overflowed`` is set; storage sized by
/// ``size(of:)`` never overflows.
package struct CBORPointerWriter {
    package var pointer: UnsafeMutablePointer<UInt8>
    let limit: UnsafeMutablePointer<UInt8>
    package private(set) var overflowed = false

    package init(_ pointer: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.pointer = pointer
        self.limit = pointer + capacity
    }

    /// Whether `count` more bytes fit; records an overflow when not.
    @inline(__always)
    package mutating func fits(_ count: Int) -> Bool {
        if overflowed || limit - pointer < count {
            overflowed = true
            return false
        }
        return true
    }

    @inline(__always)
    package static func headerSize(_ argument: UInt64) -> Int {
        argument < 24 ? 1 : argument <= 0xFF ? 2 : argument <= 0xFFFF ? 3 : argument <= 0xFFFF_FFFF ? 5 : 9
    }

    /// The length of a link's byte string: a 0x00 prefix and the binary CID.
    @inline(__always)
    package static func linkBodySize(_ cid: CID) -> Int {
        switch cid.storage {
        case .sha256(let version, let codec, _): version == 0 ? 35 : 3 + Varint.size(of: codec) + 33
        case .other(_, let codec, let code, let digest):
            2 + Varint.size(of: codec) + Varint.size(of: code) + Varint.size(of: UInt64(digest.count)) + digest.count
        }
    }

    /// The encoded size of a link (tag 42 and its byte string).
    package static func linkSize(_ cid: CID) -> Int {
        let n = linkBodySize(cid)
        return 2 + headerSize(UInt64(n)) + n
    }

    /// Writes raw bytes as a CBOR byte string.
    package mutating func writeBytes(_ bytes: UnsafeRawBufferPointer) {
        writeHeader(Major.bytes, UInt64(bytes.count))
        guard fits(bytes.count) else { return }
        if let base = bytes.baseAddress { UnsafeMutableRawPointer(pointer).copyMemory(from: base, byteCount: bytes.count) }
        pointer += bytes.count
    }

    /// The encoded size of `value`.
    static func size(of value: DataValue) -> Int {
        switch value {
        case .null, .bool: return 1
        case .int(let i): return headerSize(i >= 0 ? UInt64(i) : UInt64(-1 - i))
        case .string(let s):
            let n = s.utf8.count
            return headerSize(UInt64(n)) + n
        case .bytes(let b): return headerSize(UInt64(b.count)) + b.count
        case .link(let cid):
            let n = linkBodySize(cid)
            return 2 + headerSize(UInt64(n)) + n
        case .array(let elements):
            var total = headerSize(UInt64(elements.count))
            for element in elements { total += size(of: element) }
            return total
        case .map(let map):
            var total = headerSize(UInt64(map.count))
            for entry in map.entries {
                let n = entry.key.utf8.count
                total += headerSize(UInt64(n)) + n + size(of: entry.value)
            }
            return total
        }
    }

    @inline(__always)
    package mutating func byte(_ b: UInt8) {
        pointer.pointee = b
        pointer += 1
    }

    @inline(__always)
    package mutating func writeHeader(_ major: UInt8, _ argument: UInt64) {
        guard fits(Self.headerSize(argument)) else { return }
        let m = major << 5
        if argument < 24 {
            byte(m | UInt8(argument))
        } else if argument <= 0xFF {
            byte(m | 24)
            byte(UInt8(argument))
        } else if argument <= 0xFFFF {
            byte(m | 25)
            UnsafeMutableRawPointer(pointer).storeBytes(of: UInt16(argument).bigEndian, as: UInt16.self)
            pointer += 2
        } else if argument <= 0xFFFF_FFFF {
            byte(m | 26)
            UnsafeMutableRawPointer(pointer).storeBytes(of: UInt32(argument).bigEndian, as: UInt32.self)
            pointer += 4
        } else {
            byte(m | 27)
            UnsafeMutableRawPointer(pointer).storeBytes(of: argument.bigEndian, as: UInt64.self)
            pointer += 8
        }
    }

    @inline(__always)
    package mutating func writeString(_ s: borrowing String) {
        #if canImport(Darwin)
        // Strings may be bridged here, and `utf8.span` needs native storage.
        let utf8 = s.utf8
        let n = utf8.count
        writeHeader(Major.text, UInt64(n))
        guard fits(n) else { return }
        if utf8.withContiguousStorageIfAvailable({ pointer.update(from: $0.baseAddress!, count: n) }) == nil {
            for (i, c) in utf8.enumerated() { pointer[i] = c }
        }
        #else
        // A span borrows the bytes: unlike a UTF8View, it costs no retain.
        let span = s.utf8.span
        let n = span.count
        writeHeader(Major.text, UInt64(n))
        guard fits(n) else { return }
        span.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { pointer.update(from: base, count: n) }
        }
        #endif
        pointer += n
    }

    mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            byte(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        byte(UInt8(v))
    }

    package mutating func writeLink(_ cid: CID) {
        let bodySize = Self.linkBodySize(cid)
        guard fits(2 + Self.headerSize(UInt64(bodySize)) + bodySize) else { return }
        byte(0xD8)
        byte(42)
        writeHeader(Major.bytes, UInt64(bodySize))
        byte(0)
        switch cid.storage {
        case .sha256(let version, let codec, var digest):
            if version != 0 {
                byte(1)
                writeVarint(codec)
            }
            byte(0x12)
            byte(0x20)
            withUnsafeBytes(of: &digest) { UnsafeMutableRawPointer(pointer).copyMemory(from: $0.baseAddress!, byteCount: 32) }
            pointer += 32
        case .other(_, let codec, let code, let digest):
            byte(1)
            writeVarint(codec)
            writeVarint(code)
            writeVarint(UInt64(digest.count))
            for b in digest { byte(b) }
        }
    }

    package mutating func write(_ value: borrowing DataValue) {
        switch value {
        case .null: if fits(1) { byte(0xF6) }
        case .bool(let b): if fits(1) { byte(b ? 0xF5 : 0xF4) }
        case .int(let i):
            if i >= 0 { writeHeader(Major.unsigned, UInt64(i)) } else { writeHeader(Major.negative, UInt64(-1 - i)) }
        case .string(let s): writeString(s)
        case .bytes(let b):
            writeHeader(Major.bytes, UInt64(b.count))
            guard fits(b.count) else { return }
            b.withUnsafeBufferPointer { if let base = $0.baseAddress { pointer.update(from: base, count: b.count) } }
            pointer += b.count
        case .link(let cid): writeLink(cid)
        case .array(let elements):
            writeHeader(Major.array, UInt64(elements.count))
            elements.withUnsafeBufferPointer { buffer in
                for i in buffer.indices {
                    if case .string(let s) = buffer[i] { writeString(s) } else { write(buffer[i]) }
                }
            }
        case .map(let map):
            writeHeader(Major.map, UInt64(map.count))
            map.entries.withUnsafeBufferPointer { buffer in
                for i in buffer.indices {
                    writeString(buffer[i].key)
                    // Strings, the commonest values, are written here without a call.
                    if case .string(let s) = buffer[i].value { writeString(s) } else { write(buffer[i].value) }
                }
            }
        }
    }
}

import ATData

/// Reads lexicon values from canonical DAG-CBOR.
public struct LexCBORDecoder: LexDecoder {
    var reader: DAGCBORReader
    public let validating: Bool
    /// Maps and arrays open now: recursive types (a thread's `parent`) must
    /// not nest deeper than the reader's limit, whatever the input says.
    private var depth = 0

    /// A decoder over `buffer`, which must outlive it.
    public init(_ buffer: UnsafeRawBufferPointer, validating: Bool = true) {
        reader = DAGCBORReader(buffer)
        self.validating = validating
    }

    public struct MapState { var remaining: Int; var previous: Range<Int>? }
    public struct ArrayState { var remaining: Int }

    @inline(__always) private func wrap(_ error: DataError) -> LexError { LexError(error) }

    private mutating func enter() throws(LexError) {
        depth += 1
        guard depth <= reader.limits.maxDepth else { throw LexError(.malformed, "nested deeper than \(reader.limits.maxDepth) levels") }
    }

    public mutating func beginMap() throws(LexError) -> MapState {
        try enter()
        do { return MapState(remaining: try reader.readMapHeader(), previous: nil) } catch { throw wrap(error) }
    }

    public mutating func nextKey(_ state: inout MapState) throws(LexError) -> String? {
        guard state.remaining > 0 else {
            depth -= 1
            return nil
        }
        state.remaining -= 1
        do {
            let (key, range) = try reader.readKey(after: state.previous)
            state.previous = range
            return key
        } catch { throw wrap(error) }
    }

    public mutating func beginArray() throws(LexError) -> ArrayState {
        try enter()
        do { return ArrayState(remaining: try reader.readArrayHeader()) } catch { throw wrap(error) }
    }

    public mutating func nextElement(_ state: inout ArrayState) throws(LexError) -> Bool {
        guard state.remaining > 0 else {
            depth -= 1
            return false
        }
        state.remaining -= 1
        return true
    }

    public mutating func decodeNull() throws(LexError) -> Bool { reader.readNullIfPresent() }

    public mutating func decodeString() throws(LexError) -> String {
        do { return try reader.readString() } catch { throw wrap(error) }
    }

    public mutating func decodeInt() throws(LexError) -> Int64 {
        do { return try reader.readInt() } catch { throw wrap(error) }
    }

    public mutating func decodeBool() throws(LexError) -> Bool {
        guard reader.offset < reader.buffer.count else { throw LexError(.malformed, "expected a boolean") }
        switch reader.buffer[reader.offset] {
        case 0xF4: _ = try? reader.readHeader(); return false
        case 0xF5: _ = try? reader.readHeader(); return true
        default: throw LexError(.wrongType, "expected a boolean")
        }
    }

    public mutating func decodeBytes() throws(LexError) -> [UInt8] {
        do {
            let range = try reader.readBytesRange()
            return Array(UnsafeRawBufferPointer(rebasing: reader.buffer[range]))
        } catch { throw wrap(error) }
    }

    public mutating func decodeLink() throws(LexError) -> CID {
        do { return try reader.readLink() } catch { throw wrap(error) }
    }

    public mutating func decodeValue() throws(LexError) -> DataValue {
        do { return try reader.readValue() } catch { throw wrap(error) }
    }

    public mutating func peekType() throws(LexError) -> String? {
        var look = reader
        do {
            var remaining = try look.readMapHeader()
            var previous: Range<Int>? = nil
            while remaining > 0 {
                remaining -= 1
                let (key, range) = try look.readKey(after: previous)
                previous = range
                if key == "$type" { return try look.readString() }
                // Keys sort by length first: past five bytes, no `$type` follows.
                if range.count > 5 { return nil }
                try look.skipValue()
            }
            return nil
        } catch { throw wrap(error) }
    }

    /// Checks that nothing follows the value.
    public func expectEnd() throws(LexError) {
        do { try reader.expectEnd() } catch { throw wrap(error) }
    }
}

/// Writes lexicon values as canonical DAG-CBOR.
public struct LexCBOREncoder: LexEncoder {
    var writer = DAGCBORWriter()

    public init() {}

    /// The bytes written.
    public var bytes: [UInt8] { writer.bytes }

    public struct MapState {
        var extra: DataMap
        var next = 0
        let known: Int
        var skipped = 0
        let headerStart: Int
    }

    public mutating func beginMap(known: Int, extra: DataMap) -> MapState {
        let start = writer.bytes.count
        writer.writeMapHeader(known + extra.count)
        return MapState(extra: extra, known: known, headerStart: start)
    }

    @inline(__always)
    public mutating func key(_ key: String, _ state: inout MapState) {
        if state.next < state.extra.count { flushExtra(before: key, &state) }
        writer.writeString(key)
    }

    private mutating func flushExtra(before key: String, _ state: inout MapState) {
        let entries = state.extra.entries
        while state.next < entries.count, DataMap.precedes(entries[state.next].key, key) {
            writer.writeString(entries[state.next].key)
            writer.write(entries[state.next].value)
            state.next += 1
        }
        // A known field wins over an unknown one of the same name.
        if state.next < entries.count, entries[state.next].key == key {
            state.next += 1
            state.skipped += 1
        }
    }

    public mutating func endMap(_ state: inout MapState) {
        let entries = state.extra.entries
        while state.next < entries.count {
            writer.writeString(entries[state.next].key)
            writer.write(entries[state.next].value)
            state.next += 1
        }
        guard state.skipped > 0 else { return }
        // Fewer entries than declared: write the header again.
        let declared = state.known + entries.count
        var header = DAGCBORWriter(capacity: 9)
        header.writeMapHeader(declared - state.skipped)
        var old = DAGCBORWriter(capacity: 9)
        old.writeMapHeader(declared)
        writer.bytes.replaceSubrange(state.headerStart..<(state.headerStart + old.bytes.count), with: header.bytes)
    }

    public mutating func beginArray(count: Int) { writer.writeArrayHeader(count) }
    @inline(__always) public mutating func element(_ index: Int) {}
    public mutating func endArray() {}
    public mutating func encodeNull() { writer.writeNull() }
    public mutating func encodeString(_ value: String) { writer.writeString(value) }
    public mutating func encodeInt(_ value: Int64) { writer.writeInt(value) }
    public mutating func encodeBool(_ value: Bool) { writer.writeBool(value) }
    public mutating func encodeBytes(_ value: [UInt8]) { writer.writeBytes(value) }
    public mutating func encodeLink(_ value: CID) { writer.writeLink(value) }
    public mutating func encodeValue(_ value: DataValue) { writer.write(value) }
}

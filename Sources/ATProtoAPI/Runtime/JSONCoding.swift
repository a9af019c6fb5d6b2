import ATData
import Foundation

/// Reads lexicon values from atproto JSON.
public struct LexJSONDecoder: LexDecoder {
    var cursor: JSONCursor
    public let validating: Bool

    /// A decoder over `buffer`, which must outlive it.
    public init(_ buffer: UnsafeRawBufferPointer, validating: Bool = true) {
        cursor = JSONCursor(buffer)
        self.validating = validating
    }

    public struct MapState { var first = true }
    public struct ArrayState { var first = true }

    @inline(__always) private func wrap(_ error: DataError) -> LexError { LexError(error) }

    public mutating func beginMap() throws(LexError) -> MapState {
        guard cursor.peek() == UInt8(ascii: "{") else { throw LexError(.wrongType, "expected an object") }
        do { try cursor.beginObject() } catch { throw wrap(error) }
        return MapState()
    }

    public mutating func nextKey(_ state: inout MapState) throws(LexError) -> String? {
        do { return try cursor.nextKey(first: &state.first) } catch { throw wrap(error) }
    }

    public mutating func beginArray() throws(LexError) -> ArrayState {
        guard cursor.peek() == UInt8(ascii: "[") else { throw LexError(.wrongType, "expected an array") }
        do { try cursor.beginArray() } catch { throw wrap(error) }
        return ArrayState()
    }

    public mutating func nextElement(_ state: inout ArrayState) throws(LexError) -> Bool {
        do { return try cursor.nextElement(first: &state.first) } catch { throw wrap(error) }
    }

    public mutating func decodeNull() throws(LexError) -> Bool {
        do { return try cursor.readNullIfPresent() } catch { throw wrap(error) }
    }

    public mutating func decodeString() throws(LexError) -> String {
        do { return try cursor.readString() } catch { throw wrap(error) }
    }

    public mutating func decodeInt() throws(LexError) -> Int64 {
        do { return try cursor.readInt() } catch { throw wrap(error) }
    }

    public mutating func decodeBool() throws(LexError) -> Bool {
        do { return try cursor.readBool() } catch { throw wrap(error) }
    }

    /// Reads `{"<key>": "<string>"}` and returns the string.
    private mutating func wrapped(_ name: String) throws(LexError) -> String {
        var state = try beginMap()
        guard try nextKey(&state) == name else { throw LexError(.wrongType, "expected {\"\(name)\": …}") }
        let text = try decodeString()
        guard try nextKey(&state) == nil else { throw LexError(.wrongType, "\(name) must be the only key") }
        return text
    }

    public mutating func decodeBytes() throws(LexError) -> [UInt8] {
        let text = try wrapped("$bytes")
        guard let bytes = Data(base64Encoded: text.paddedForBase64()).map(Array.init) else { throw LexError(.malformed, "$bytes is not base64") }
        return bytes
    }

    public mutating func decodeLink() throws(LexError) -> CID {
        let text = try wrapped("$link")
        do { return try CID(text) } catch { throw LexError(.invalidFormat, "$link: \(error.message)") }
    }

    public mutating func decodeValue() throws(LexError) -> DataValue {
        do { return try cursor.readValue() } catch { throw wrap(error) }
    }

    public mutating func peekType() throws(LexError) -> String? {
        let mark = cursor.mark
        defer { cursor.restore(mark) }
        var state = try beginMap()
        while let key = try nextKey(&state) {
            if key == "$type" { return try decodeString() }
            do { try cursor.skipValue() } catch { throw wrap(error) }
        }
        return nil
    }

    /// Checks that nothing but white space follows the value.
    public mutating func expectEnd() throws(LexError) {
        do { try cursor.expectEnd() } catch { throw wrap(error) }
    }
}

/// Writes lexicon values as compact atproto JSON.
public struct LexJSONEncoder: LexEncoder {
    var writer = JSONWriter()

    public init() {}

    /// The bytes written.
    public var bytes: [UInt8] { writer.bytes }

    public struct MapState {
        var first = true
        let extra: DataMap
        var written: [String] = []
    }

    public mutating func beginMap(known: Int, extra: DataMap) -> MapState {
        writer.byte(UInt8(ascii: "{"))
        return MapState(extra: extra)
    }

    public mutating func key(_ key: String, _ state: inout MapState) {
        if !state.extra.isEmpty { state.written.append(key) }
        writer.writeKey(key, first: &state.first)
    }

    public mutating func endMap(_ state: inout MapState) {
        // A known field wins over an unknown one of the same name.
        for entry in state.extra where !state.written.contains(entry.key) {
            writer.writeKey(entry.key, first: &state.first)
            writer.write(entry.value)
        }
        writer.byte(UInt8(ascii: "}"))
    }

    public mutating func beginArray(count: Int) { writer.byte(UInt8(ascii: "[")) }
    public mutating func element(_ index: Int) { if index > 0 { writer.byte(UInt8(ascii: ",")) } }
    public mutating func endArray() { writer.byte(UInt8(ascii: "]")) }
    public mutating func encodeNull() { writer.writeNull() }
    public mutating func encodeString(_ value: String) { writer.writeString(value) }
    public mutating func encodeInt(_ value: Int64) { writer.writeInt(value) }
    public mutating func encodeBool(_ value: Bool) { writer.writeBool(value) }
    public mutating func encodeBytes(_ value: [UInt8]) { writer.writeBytes(value) }
    public mutating func encodeLink(_ value: CID) { writer.writeLink(value) }
    public mutating func encodeValue(_ value: DataValue) { writer.write(value) }
}

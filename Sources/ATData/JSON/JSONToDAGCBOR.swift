import Foundation

extension DAGCBOR {
    /// Encodes a document in the atproto JSON form straight to canonical
    /// DAG-CBOR, without building a ``DataValue``: the bytes that
    /// `DAGCBOR.encode(try DataValue(json:))` gives, under the same rules
    /// (the top level is an object; `$link`, `$bytes` and blob objects;
    /// integers only; a non-empty string `$type`; bounded depth).
    ///
    /// A key given twice keeps its last value, as in ``DataValue/init(json:)``.
    public static func encode(json: UnsafeRawBufferPointer) throws(DataError) -> [UInt8] {
        var cursor = JSONCursor(json)
        guard cursor.peek() == UInt8(ascii: "{") else { throw DataError(.invalidJSON, "the top level must be an object") }
        var writer = DAGCBORWriter(capacity: json.count)
        try JSONToDAGCBOR.value(&cursor, &writer)
        try cursor.expectEnd()
        return writer.bytes
    }

    /// Encodes the atproto JSON in `json`; see ``encode(json:)-(UnsafeRawBufferPointer)``.
    public static func encode(json: some ContiguousBytesLike) throws(DataError) -> [UInt8] {
        try json.withBytes { (buffer) throws(DataError) in try encode(json: buffer) }
    }
}

/// The transcoder behind ``DAGCBOR/encode(json:)-(UnsafeRawBufferPointer)``.
///
/// Each container is written as it is read, behind a one-byte header that is
/// fixed (and widened, past 23 items) when it closes. A map's entries are
/// written in the order they come, each as its encoded key and value, and
/// put in canonical order at the close: DAG-CBOR orders keys by their
/// encoded bytes, which is length first, then bytewise.
package enum JSONToDAGCBOR {
    /// Reads one value from `cursor` and appends its DAG-CBOR to `writer`.
    package static func value(_ cursor: inout JSONCursor, _ writer: inout DAGCBORWriter) throws(DataError) {
        switch cursor.peek() {
        case UInt8(ascii: "{"): try object(&cursor, &writer)
        case UInt8(ascii: "["): try array(&cursor, &writer)
        case UInt8(ascii: "\""): try text(&cursor, &writer)
        case UInt8(ascii: "t"), UInt8(ascii: "f"): writer.writeBool(try cursor.readBool())
        case UInt8(ascii: "n"):
            _ = try cursor.readNullIfPresent()
            writer.writeNull()
        case nil: throw cursor.fail("expected a value")
        default: writer.writeInt(try cursor.readInt())
        }
    }

    private static func text(_ cursor: inout JSONCursor, _ writer: inout DAGCBORWriter) throws(DataError) {
        try cursor.readStringBytes { (bytes) throws(DataError) in
            writer.writeHeader(Major.text, UInt64(bytes.count))
            writer.bytes.append(contentsOf: bytes)
        }
    }

    private static func array(_ cursor: inout JSONCursor, _ writer: inout DAGCBORWriter) throws(DataError) {
        try cursor.beginArray()
        let header = writer.bytes.count
        writer.bytes.append(0)
        var count = 0
        var first = true
        while try cursor.nextElement(first: &first) {
            try value(&cursor, &writer)
            count += 1
        }
        setHeader(Major.array, count, at: header, &writer)
    }

    /// Writes the header of a container whose items follow the one byte
    /// held for it at `index`.
    private static func setHeader(_ major: UInt8, _ count: Int, at index: Int, _ writer: inout DAGCBORWriter) {
        if count < 24 {
            writer.bytes[index] = major << 5 | UInt8(count)
            return
        }
        var head = DAGCBORWriter(capacity: 9)
        head.writeHeader(major, UInt64(count))
        writer.bytes.replaceSubrange(index..<(index + 1), with: head.bytes)
    }

    /// Where one map entry was written: its encoded key, then its value.
    private struct Entry {
        var start: Int
        var keyEnd: Int
        var end: Int
    }

    private static let linkKey = Array("$link".utf8)
    private static let bytesKey = Array("$bytes".utf8)
    /// `"blob"` as DAG-CBOR text.
    private static let blobType: [UInt8] = [0x64] + Array("blob".utf8)

    private static func object(_ cursor: inout JSONCursor, _ writer: inout DAGCBORWriter) throws(DataError) {
        let opening = cursor.offset
        try cursor.beginObject()
        let header = writer.bytes.count
        writer.bytes.append(0)
        var entries = [Entry]()
        var first = true
        while true {
            let start = writer.bytes.count
            let isFirst = first
            // The key, encoded; `$link` and `$bytes` make the object a link or bytes.
            let special = try cursor.nextKey(first: &first) { (key) throws(DataError) -> UInt8 in
                if key.count == 5, key.first == UInt8(ascii: "$"), key.elementsEqual(linkKey) { return 1 }
                if key.count == 6, key.first == UInt8(ascii: "$"), key.elementsEqual(bytesKey) { return 2 }
                writer.writeHeader(Major.text, UInt64(key.count))
                writer.bytes.append(contentsOf: key)
                return 0
            }
            guard let special else { break }
            if special != 0 {
                let name = special == 1 ? "$link" : "$bytes"
                guard isFirst else { throw DataError(.invalidJSON, "\(name) at byte \(opening) must be the only key and hold a string") }
                writer.bytes.removeSubrange(header...)
                try linkOrBytes(special == 1, name: name, opening: opening, &cursor, &writer)
                return
            }
            let keyEnd = writer.bytes.count
            try value(&cursor, &writer)
            entries.append(Entry(start: start, keyEnd: keyEnd, end: writer.bytes.count))
        }
        try canonicalize(&entries, from: header + 1, &writer)
        try checkType(entries, opening: opening, writer.bytes)
        setHeader(Major.map, entries.count, at: header, &writer)
    }

    /// The rest of `{"$link": "…"}` or `{"$bytes": "…"}`, after its key.
    private static func linkOrBytes(
        _ isLink: Bool, name: String, opening: Int, _ cursor: inout JSONCursor, _ writer: inout DAGCBORWriter
    ) throws(DataError) {
        guard cursor.peek() == UInt8(ascii: "\"") else {
            throw DataError(.invalidJSON, "\(name) at byte \(opening) must be the only key and hold a string")
        }
        let text = try cursor.readString()
        var first = false
        guard try cursor.nextKey(first: &first, { _ in () }) == nil else {
            throw DataError(.invalidJSON, "\(name) at byte \(opening) must be the only key and hold a string")
        }
        if isLink {
            do { writer.writeLink(try CID(text)) } catch {
                throw DataError(.invalidJSON, "$link at byte \(opening): \(error.message)")
            }
        } else {
            guard let data = Data(base64Encoded: text.paddedForBase64()) else {
                throw DataError(.invalidJSON, "$bytes at byte \(opening) is not base64")
            }
            writer.writeBytes(data)
        }
    }

    /// Puts a map's entries (written from `base` on) in canonical key order;
    /// of a repeated key, the last value stays.
    private static func canonicalize(_ entries: inout [Entry], from base: Int, _ writer: inout DAGCBORWriter) throws(DataError) {
        guard entries.count > 1 else { return }
        let ordered = writer.bytes.withUnsafeBytes { bytes in
            (1..<entries.count).allSatisfy { i in precedes(entries[i - 1], entries[i], in: bytes) }
        }
        if ordered { return }
        var order = Array(entries.indices)
        writer.bytes.withUnsafeBytes { bytes in
            // Stable: equal keys keep their order, so the last one is last.
            order.sort { a, b in
                precedes(entries[a], entries[b], in: bytes) || (!precedes(entries[b], entries[a], in: bytes) && a < b)
            }
        }
        var kept = [Int]()
        kept.reserveCapacity(order.count)
        for i in order {
            if let last = kept.last, sameKey(entries[last], entries[i], in: writer.bytes) {
                kept[kept.count - 1] = i
            } else {
                kept.append(i)
            }
        }
        let original = Array(writer.bytes[base...])
        writer.bytes.removeSubrange(base...)
        var rewritten = [Entry]()
        rewritten.reserveCapacity(kept.count)
        for i in kept {
            let entry = entries[i]
            let start = writer.bytes.count
            writer.bytes.append(contentsOf: original[(entry.start - base)..<(entry.end - base)])
            rewritten.append(Entry(start: start, keyEnd: start + entry.keyEnd - entry.start, end: writer.bytes.count))
        }
        entries = rewritten
    }

    private static func precedes(_ a: Entry, _ b: Entry, in bytes: UnsafeRawBufferPointer) -> Bool {
        let x = UnsafeRawBufferPointer(rebasing: bytes[a.start..<a.keyEnd])
        let y = UnsafeRawBufferPointer(rebasing: bytes[b.start..<b.keyEnd])
        return x.lexicographicallyPrecedes(y)
    }

    private static func sameKey(_ a: Entry, _ b: Entry, in bytes: [UInt8]) -> Bool {
        bytes[a.start..<a.keyEnd].elementsEqual(bytes[b.start..<b.keyEnd])
    }

    /// The value of `key` in a map's entries, as the first byte of its encoding and its range.
    private static func find(_ key: StaticString, _ entries: [Entry], _ bytes: [UInt8]) -> Range<Int>? {
        let name = UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        for entry in entries where entry.keyEnd - entry.start == name.count + 1 && bytes[(entry.start + 1)..<entry.keyEnd].elementsEqual(name) {
            return entry.keyEnd..<entry.end
        }
        return nil
    }

    /// `$type`, when present, is a non-empty string; a blob's fields have their shapes.
    private static func checkType(_ entries: [Entry], opening: Int, _ bytes: [UInt8]) throws(DataError) {
        guard let type = find("$type", entries, bytes) else { return }
        guard bytes[type.lowerBound] >> 5 == Major.text, bytes[type.lowerBound] != Major.text << 5 else {
            throw DataError(.invalidJSON, "$type at byte \(opening) must be a non-empty string")
        }
        guard bytes[type].elementsEqual(blobType) else { return }
        guard let ref = find("ref", entries, bytes), bytes[ref].starts(with: [0xD8, 42]) else {
            throw DataError(.invalidJSON, "blob at byte \(opening) needs a 'ref' link")
        }
        guard let mime = find("mimeType", entries, bytes), bytes[mime.lowerBound] >> 5 == Major.text else {
            throw DataError(.invalidJSON, "blob at byte \(opening) needs a 'mimeType' string")
        }
        guard let size = find("size", entries, bytes), bytes[size.lowerBound] >> 5 == Major.unsigned else {
            throw DataError(.invalidJSON, "blob at byte \(opening) needs a non-negative integer 'size'")
        }
    }
}

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
///
/// The positions of open maps' entries, and the copy a reordering needs,
/// live in a ``Scratch`` that a caller encoding many documents keeps, so
/// that a document allocates nothing but its output.
package enum JSONToDAGCBOR {
    /// Working storage, reused from one document to the next.
    package struct Scratch {
        /// The entries of the maps open, innermost last.
        fileprivate var entries: [Entry] = []
        /// A map's bytes while its entries are put in order.
        fileprivate var bytes: [UInt8] = []
        /// Entry positions, in key order.
        fileprivate var order: [Int] = []

        package init() {}
    }

    /// Reads one value from `cursor` and appends its DAG-CBOR to `writer`.
    package static func value(_ cursor: inout JSONCursor, _ writer: inout DAGCBORWriter) throws(DataError) {
        var scratch = Scratch()
        try value(&cursor, &writer, &scratch)
    }

    /// Reads one value, as ``value(_:_:)`` does, with working storage kept by the caller.
    package static func value(_ cursor: inout JSONCursor, _ writer: inout DAGCBORWriter, _ scratch: inout Scratch) throws(DataError) {
        switch cursor.peek() {
        case UInt8(ascii: "{"): try object(&cursor, &writer, &scratch)
        case UInt8(ascii: "["): try array(&cursor, &writer, &scratch)
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

    private static func array(_ cursor: inout JSONCursor, _ writer: inout DAGCBORWriter, _ scratch: inout Scratch) throws(DataError) {
        try cursor.beginArray()
        let header = writer.bytes.count
        writer.bytes.append(0)
        var count = 0
        var first = true
        while try cursor.nextElement(first: &first) {
            try value(&cursor, &writer, &scratch)
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
    fileprivate struct Entry {
        var start: Int
        var keyEnd: Int
        var end: Int
    }

    private static let linkKey = Array("$link".utf8)
    private static let bytesKey = Array("$bytes".utf8)
    /// `"blob"` as DAG-CBOR text.
    private static let blobType: [UInt8] = [0x64] + Array("blob".utf8)

    private static func object(_ cursor: inout JSONCursor, _ writer: inout DAGCBORWriter, _ scratch: inout Scratch) throws(DataError) {
        let opening = cursor.offset
        try cursor.beginObject()
        let header = writer.bytes.count
        writer.bytes.append(0)
        // This map's entries go on the scratch stack above those of the maps around it.
        let base = scratch.entries.count
        defer { scratch.entries.removeLast(scratch.entries.count - base) }
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
            try value(&cursor, &writer, &scratch)
            scratch.entries.append(Entry(start: start, keyEnd: keyEnd, end: writer.bytes.count))
        }
        let count = canonicalize(entriesFrom: base, bytesFrom: header + 1, &writer, &scratch)
        try checkType(scratch.entries[base...], opening: opening, writer.bytes)
        setHeader(Major.map, count, at: header, &writer)
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

    /// Puts the entries of the map being closed (those on the scratch stack
    /// from `first` on, written from byte `base` on) in canonical key order;
    /// of a repeated key, the last value stays. Returns how many entries the
    /// map keeps.
    private static func canonicalize(
        entriesFrom first: Int, bytesFrom base: Int, _ writer: inout DAGCBORWriter, _ scratch: inout Scratch
    ) -> Int {
        let count = scratch.entries.count - first
        guard count > 1 else { return count }
        let ordered = writer.bytes.withUnsafeBytes { bytes in
            scratch.entries.withUnsafeBufferPointer { entries in
                (first + 1..<entries.count).allSatisfy { i in precedes(entries[i - 1], entries[i], in: bytes) }
            }
        }
        if ordered { return count }
        // Stable: equal keys keep their order, so the last one is last. A
        // small map (the usual) is sorted by insertion, a larger one by `sort`.
        scratch.order.removeAll(keepingCapacity: true)
        writer.bytes.withUnsafeBytes { bytes in
            scratch.entries.withUnsafeBufferPointer { entries in
                guard count <= 16 else {
                    scratch.order.append(contentsOf: first..<entries.count)
                    scratch.order.sort { a, b in
                        precedes(entries[a], entries[b], in: bytes) || (!precedes(entries[b], entries[a], in: bytes) && a < b)
                    }
                    return
                }
                for i in first..<entries.count {
                    var at = scratch.order.count
                    scratch.order.append(i)
                    while at > 0, precedes(entries[i], entries[scratch.order[at - 1]], in: bytes) {
                        scratch.order[at] = scratch.order[at - 1]
                        at -= 1
                    }
                    scratch.order[at] = i
                }
            }
        }
        // The map's bytes aside, then back in order, each repeated key's last entry only.
        scratch.bytes.removeAll(keepingCapacity: true)
        scratch.bytes.append(contentsOf: writer.bytes[base...])
        writer.bytes.removeLast(writer.bytes.count - base)
        let top = scratch.entries.count
        scratch.bytes.withUnsafeBytes { original in
            for (n, i) in scratch.order.enumerated() {
                if n + 1 < scratch.order.count, sameKey(scratch.entries[i], scratch.entries[scratch.order[n + 1]], in: original, base: base) {
                    continue
                }
                let entry = scratch.entries[i]
                let start = writer.bytes.count
                writer.bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: original[(entry.start - base)..<(entry.end - base)]))
                scratch.entries.append(Entry(start: start, keyEnd: start + entry.keyEnd - entry.start, end: writer.bytes.count))
            }
        }
        // The rewritten entries replace the originals on the stack.
        let kept = scratch.entries.count - top
        for k in 0..<kept { scratch.entries[first + k] = scratch.entries[top + k] }
        scratch.entries.removeLast(scratch.entries.count - first - kept)
        return kept
    }

    /// Whether `a`'s key sorts before `b`'s; `bytes` holds both from byte `base` of the writer on.
    @inline(__always)
    private static func precedes(_ a: Entry, _ b: Entry, in bytes: UnsafeRawBufferPointer, base: Int = 0) -> Bool {
        order(a, b, in: bytes, base: base) < 0
    }

    /// Whether two entries of the map copied aside (from byte `base` of the writer) have one key.
    private static func sameKey(_ a: Entry, _ b: Entry, in bytes: UnsafeRawBufferPointer, base: Int) -> Bool {
        order(a, b, in: bytes, base: base) == 0
    }

    @inline(__always)
    private static func order(_ a: Entry, _ b: Entry, in bytes: UnsafeRawBufferPointer, base: Int) -> Int {
        let start = bytes.baseAddress! - base
        return DAGCBOR.compareKeys(start + a.start, count: a.keyEnd - a.start, start + b.start, count: b.keyEnd - b.start)
    }

    /// The value of `key` in a map's entries, as the first byte of its encoding and its range.
    private static func find(_ key: StaticString, _ entries: ArraySlice<Entry>, _ bytes: [UInt8]) -> Range<Int>? {
        let name = UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        for entry in entries where entry.keyEnd - entry.start == name.count + 1 && bytes[(entry.start + 1)..<entry.keyEnd].elementsEqual(name) {
            return entry.keyEnd..<entry.end
        }
        return nil
    }

    /// `$type`, when present, is a non-empty string; a blob's fields have their shapes.
    private static func checkType(_ entries: ArraySlice<Entry>, opening: Int, _ bytes: [UInt8]) throws(DataError) {
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

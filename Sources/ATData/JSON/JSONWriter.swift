import Foundation

/// Writes compact JSON in the atproto form into one growing buffer, item by
/// item, for encoders that know their shape.
package struct JSONWriter {
    package var bytes: [UInt8]

    package init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inline(__always) package mutating func byte(_ b: UInt8) { bytes.append(b) }
    package mutating func writeNull() { bytes.append(contentsOf: "null".utf8) }
    package mutating func writeBool(_ value: Bool) { bytes.append(contentsOf: value ? "true".utf8 : "false".utf8) }
    package mutating func writeInt(_ value: Int64) { bytes.append(contentsOf: String(value).utf8) }

    /// Writes a string with the escapes JSON requires: quote, backslash and control characters.
    package mutating func writeString(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var runStart = 0
            for i in 0..<utf8.count {
                let b = utf8[i]
                guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
                runStart = i + 1
                switch b {
                case UInt8(ascii: "\""): bytes.append(contentsOf: "\\\"".utf8)
                case UInt8(ascii: "\\"): bytes.append(contentsOf: "\\\\".utf8)
                case 0x0A: bytes.append(contentsOf: "\\n".utf8)
                case 0x0D: bytes.append(contentsOf: "\\r".utf8)
                case 0x09: bytes.append(contentsOf: "\\t".utf8)
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: "\\u00".utf8)
                    bytes.append(hex[Int(b >> 4)])
                    bytes.append(hex[Int(b & 0xF)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Writes `"key":`, preceded by a comma unless it is the first in its object.
    @inline(__always)
    package mutating func writeKey(_ key: String, first: inout Bool) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        writeString(key)
        bytes.append(UInt8(ascii: ":"))
    }

    /// Writes bytes as `{"$bytes": base64}` (unpadded).
    package mutating func writeBytes(_ value: some Collection<UInt8>) {
        bytes.append(contentsOf: "{\"$bytes\":\"".utf8)
        var text = Data(value).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        bytes.append(contentsOf: text.utf8)
        bytes.append(contentsOf: "\"}".utf8)
    }

    /// Writes a link as `{"$link": cid}`.
    package mutating func writeLink(_ cid: CID) {
        bytes.append(contentsOf: "{\"$link\":\"".utf8)
        bytes.append(contentsOf: cid.description.utf8)
        bytes.append(contentsOf: "\"}".utf8)
    }

    /// Writes any data model value.
    package mutating func write(_ value: DataValue) {
        switch value {
        case .null: writeNull()
        case .bool(let b): writeBool(b)
        case .int(let i): writeInt(i)
        case .string(let s): writeString(s)
        case .bytes(let b): writeBytes(b)
        case .link(let cid): writeLink(cid)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                write(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .map(let map):
            bytes.append(UInt8(ascii: "{"))
            var first = true
            for entry in map {
                writeKey(entry.key, first: &first)
                write(entry.value)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }
}

/// Writes canonical DAG-CBOR into one growing buffer.
package struct DAGCBORWriter {
    package var bytes: [UInt8]

    package init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inline(__always)
    package mutating func writeHeader(_ major: UInt8, _ argument: UInt64) {
        let m = major << 5
        if argument < 24 {
            bytes.append(m | UInt8(argument))
        } else if argument <= 0xFF {
            bytes.append(m | 24)
            bytes.append(UInt8(argument))
        } else if argument <= 0xFFFF {
            bytes.append(m | 25)
            bytes.append(UInt8(argument >> 8))
            bytes.append(UInt8(truncatingIfNeeded: argument))
        } else if argument <= 0xFFFF_FFFF {
            bytes.append(m | 26)
            withUnsafeBytes(of: UInt32(argument).bigEndian) { bytes.append(contentsOf: $0) }
        } else {
            bytes.append(m | 27)
            withUnsafeBytes(of: argument.bigEndian) { bytes.append(contentsOf: $0) }
        }
    }

    package mutating func writeInt(_ value: Int64) {
        if value >= 0 {
            writeHeader(Major.unsigned, UInt64(value))
        } else {
            writeHeader(Major.negative, UInt64(-1 - value))
        }
    }

    @inline(__always)
    package mutating func writeString(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            writeHeader(Major.text, UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    package mutating func writeBytes(_ value: some Collection<UInt8>) {
        writeHeader(Major.bytes, UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    package mutating func writeLink(_ cid: CID) {
        bytes.append(0xD8)  // tag(42)
        bytes.append(42)
        var body: [UInt8] = [0]
        body.reserveCapacity(37)
        cid.write(into: &body)
        writeBytes(body)
    }

    package mutating func writeBool(_ value: Bool) { bytes.append(value ? 0xF5 : 0xF4) }
    package mutating func writeNull() { bytes.append(0xF6) }
    package mutating func writeArrayHeader(_ count: Int) { writeHeader(Major.array, UInt64(count)) }
    package mutating func writeMapHeader(_ count: Int) { writeHeader(Major.map, UInt64(count)) }

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
            writeArrayHeader(elements.count)
            for element in elements { write(element) }
        case .map(let map):
            writeMapHeader(map.count)
            for (key, value) in map.entries {
                writeString(key)
                write(value)
            }
        }
    }
}

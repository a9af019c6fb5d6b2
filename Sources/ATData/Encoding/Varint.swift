/// Unsigned LEB128 varints as used by multiformats and CAR files.
///
/// Reads are bounded to 9 bytes (63 bits) and must be minimal, as the
/// multiformats spec requires.
public enum Varint {
    /// The longest varint accepted, in bytes.
    public static let maxLength = 9

    /// Reads a varint from `buffer` at `offset`, advancing `offset` past it.
    @inlinable
    public static func read(_ buffer: UnsafeRawBufferPointer, at offset: inout Int) throws(DataError) -> UInt64 {
        let start = offset
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset - start < maxLength else {
                throw DataError(.varintOverflow, "varint longer than \(maxLength) bytes", offset: start)
            }
            guard offset < buffer.count else {
                throw DataError(.truncated, "varint is cut off", offset: start)
            }
            let byte = buffer[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                if byte == 0, offset - start > 1 {
                    throw DataError(.varintNotMinimal, "varint has redundant trailing bytes", offset: start)
                }
                return value
            }
            shift += 7
        }
    }

    /// Appends the varint encoding of `value` to `output`.
    @inlinable
    public static func write(_ value: UInt64, into output: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            output.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        output.append(UInt8(v))
    }

    /// The number of bytes `value` takes as a varint.
    @inlinable
    public static func size(of value: UInt64) -> Int {
        var v = value
        var n = 1
        while v >= 0x80 { v >>= 7; n += 1 }
        return n
    }
}

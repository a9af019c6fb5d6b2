extension CID {
    /// Parses a CID from text: multibase CIDv1 (base32 `b…` and the other bases
    /// ``Multibase`` reads), or a base58btc CIDv0 (`Qm…`).
    public init(_ string: String) throws(DataError) {
        if let cid = Self.parseBase32(string) {
            self = cid
            return
        }
        let bytes: [UInt8]
        if string.utf8.count == 46, string.hasPrefix("Qm") {
            guard let decoded = Base58.decode(string) else {
                throw DataError(.invalidCID, "invalid base58 in CIDv0 '\(string)'")
            }
            bytes = decoded
        } else {
            do {
                bytes = try Multibase.decode(string)
            } catch {
                throw DataError(.invalidCID, "'\(string.prefix(80))' is not a CID: \(error.message)")
            }
        }
        try self.init(bytes: bytes)
    }

    /// The common form, multibase base32 (`b…`) of a CID of up to 64 bytes,
    /// decoded on the stack without allocating. `nil` for anything else,
    /// which the general path then parses or rejects with its reason.
    static func parseBase32(_ string: String) -> CID? {
        let parsed = string.utf8.withContiguousStorageIfAvailable { text -> CID? in
            guard text.count >= 2, text.count <= 103, text[0] == UInt8(ascii: "b") else { return nil }
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { out -> CID? in
                guard let count = Base32.decode(UnsafeBufferPointer(rebasing: text[1...]), into: out) else { return nil }
                var offset = 0
                guard let cid = try? CID.read(from: UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: out[0..<count])), at: &offset),
                      offset == count
                else { return nil }
                return cid
            }
        }
        return parsed ?? nil
    }

    /// Parses the binary form of a CID; every byte must belong to it.
    public init(bytes: [UInt8]) throws(DataError) {
        let (cid, length) = try bytes.withBytes { (raw) throws(DataError) -> (CID, Int) in
            var offset = 0
            let cid = try CID.read(from: raw, at: &offset)
            return (cid, offset)
        }
        guard length == bytes.count else {
            throw DataError(.invalidCID, "\(bytes.count - length) trailing bytes after CID", offset: length)
        }
        self = cid
    }

    /// Reads one binary CID from `buffer` at `offset` and advances `offset` past it.
    @inlinable
    public static func read(from buffer: UnsafeRawBufferPointer, at offset: inout Int) throws(DataError) -> CID {
        let start = offset
        // CIDv0 is a bare SHA-256 multihash: 0x12 0x20 <32 bytes>.
        if offset + 1 < buffer.count, buffer[offset] == 0x12, buffer[offset + 1] == 0x20 {
            guard offset + 34 <= buffer.count else {
                throw DataError(.truncated, "CIDv0 is cut off", offset: start)
            }
            let digest = SHA256Digest(buffer, at: offset + 2)
            offset += 34
            return CID(storage: .sha256(version: 0, codec: Codec.dagPB.rawValue, digest: digest))
        }
        let version = try Varint.read(buffer, at: &offset)
        guard version == 1 else {
            throw DataError(.invalidCID, "unsupported CID version \(version)", offset: start)
        }
        let codec = try Varint.read(buffer, at: &offset)
        let hashCode = try Varint.read(buffer, at: &offset)
        let digestLength = try Varint.read(buffer, at: &offset)
        guard digestLength <= 128 else {
            throw DataError(.lengthTooLarge, "multihash digest of \(digestLength) bytes", offset: start)
        }
        guard offset + Int(digestLength) <= buffer.count else {
            throw DataError(.truncated, "CID digest is cut off", offset: start)
        }
        defer { offset += Int(digestLength) }
        if hashCode == Multihash.sha256, digestLength == 32 {
            return CID(storage: .sha256(version: 1, codec: codec, digest: SHA256Digest(buffer, at: offset)))
        }
        let digest = Array(UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + Int(digestLength))]))
        return CID(storage: .other(version: 1, codec: codec, hashCode: hashCode, digest: digest))
    }

    /// The binary form of this CID.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(36)
        write(into: &out)
        return out
    }

    /// Appends the binary form of this CID to `output`.
    @inlinable
    public func write(into output: inout [UInt8]) {
        switch storage {
        case .sha256(let version, let codec, var digest):
            if version == 0 {
                output.append(0x12)
                output.append(0x20)
            } else {
                output.append(1)
                Varint.write(codec, into: &output)
                output.append(0x12)
                output.append(0x20)
            }
            withUnsafeBytes(of: &digest) { output.append(contentsOf: $0) }
        case .other(_, let codec, let hashCode, let digest):
            output.append(1)
            Varint.write(codec, into: &output)
            Varint.write(hashCode, into: &output)
            Varint.write(UInt64(digest.count), into: &output)
            output.append(contentsOf: digest)
        }
    }

    /// Whether `string` has the syntax atproto allows for a CID in text: 8–256
    /// characters of `[A-Za-z0-9+=]`, and not a CIDv0 (`Qmb…`). This checks
    /// syntax only; use ``init(_:)`` to parse.
    public static func isValidSyntax(_ string: String) -> Bool {
        let utf8 = string.utf8
        guard (8...256).contains(utf8.count), !string.hasPrefix("Qmb") else { return false }
        return utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2B || c == 0x3D
        }
    }
}

extension CID: Codable {
    /// Decodes a CID from its text form.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try CID(text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    /// Encodes the CID's text form. (``DAGCBOREncoder`` writes a link instead.)
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

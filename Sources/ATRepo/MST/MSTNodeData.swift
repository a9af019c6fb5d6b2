import ATData

/// A decoded MST node block, before it is checked against its place in a tree.
struct MSTNodeData {
    struct Entry {
        let prefixLength: Int
        let keySuffix: ArraySlice<UInt8>
        let value: CID
        let right: CID?
    }

    let left: CID?
    let entries: [Entry]

    /// Decodes a node block (see ``decode(_:cid:reserve:entry:)``).
    init(decoding bytes: [UInt8], cid: CID) throws(RepoError) {
        var entries = [Entry]()
        left = try bytes.withUnsafeBytes { raw in
            Result { () throws(RepoError) -> CID? in
                try Self.decode(raw, cid: cid, reserve: { entries.reserveCapacity($0) }) { prefix, suffix, value, right in
                    entries.append(Entry(prefixLength: prefix, keySuffix: bytes[suffix], value: value, right: right))
                }
            }
        }.get()
        self.entries = entries
    }

    /// Reads a node block in place with a dedicated reader: exactly the keys
    /// `e` and `l`, and exactly `k`, `p`, `t`, `v` in each entry.
    ///
    /// - Parameters:
    ///   - reserve: called once with the number of entries, before them.
    ///   - entry: called with each entry's prefix length, the range of its
    ///     key suffix in `raw`, its value and its right subtree, in order.
    /// - Returns: the left subtree.
    static func decode(
        _ raw: UnsafeRawBufferPointer, cid: CID, reserve: (Int) -> Void,
        entry: (_ prefix: Int, _ suffix: Range<Int>, _ value: CID, _ right: CID?) -> Void
    ) throws(RepoError) -> CID? {
        do {
            var r = DAGCBORReader(raw)
            guard try r.readMapHeader() == 2, r.readOneCharacterText() == UInt8(ascii: "e") else {
                throw DataError(.typeMismatch, "an MST node is a map of 'e' and 'l'")
            }
            let count = try r.readArrayHeader()
            reserve(count)
            for _ in 0..<count {
                guard try r.readMapHeader() == 4, r.readOneCharacterText() == UInt8(ascii: "k") else {
                    throw DataError(.typeMismatch, "an MST entry is a map of 'k', 'p', 't' and 'v'")
                }
                let suffix = try r.readBytesRange()
                guard r.readOneCharacterText() == UInt8(ascii: "p") else { throw DataError(.typeMismatch, "expected 'p'") }
                let prefix = try r.readInt()
                guard prefix >= 0, prefix <= 1 << 16 else { throw DataError(.typeMismatch, "bad prefix length \(prefix)") }
                guard r.readOneCharacterText() == UInt8(ascii: "t") else { throw DataError(.typeMismatch, "expected 't'") }
                let right = r.readNullIfPresent() ? nil : try r.readLink()
                guard r.readOneCharacterText() == UInt8(ascii: "v") else { throw DataError(.typeMismatch, "expected 'v'") }
                let value = try r.readLink()
                entry(Int(prefix), suffix, value, right)
            }
            guard r.readOneCharacterText() == UInt8(ascii: "l") else { throw DataError(.typeMismatch, "expected 'l'") }
            let left = r.readNullIfPresent() ? nil : try r.readLink()
            try r.expectEnd()
            return left
        } catch {
            throw RepoError(.malformedBlock, "MST node \(cid): \(error)")
        }
    }
}

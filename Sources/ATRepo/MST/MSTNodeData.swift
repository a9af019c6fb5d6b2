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

    /// Decodes a node block with a dedicated reader: exactly the keys `e` and
    /// `l`, and exactly `k`, `p`, `t`, `v` in each entry.
    init(decoding bytes: [UInt8], cid: CID) throws(RepoError) {
        do {
            (left, entries) = try bytes.withUnsafeBytes { raw in
                Result { () throws(DataError) -> (CID?, [Entry]) in
                    var r = DAGCBORReader(raw)
                    guard try r.readMapHeader() == 2, r.readOneCharacterText() == UInt8(ascii: "e") else {
                        throw DataError(.typeMismatch, "an MST node is a map of 'e' and 'l'")
                    }
                    let count = try r.readArrayHeader()
                    var entries = [Entry]()
                    entries.reserveCapacity(count)
                    for _ in 0..<count {
                        guard try r.readMapHeader() == 4, r.readOneCharacterText() == UInt8(ascii: "k") else {
                            throw DataError(.typeMismatch, "an MST entry is a map of 'k', 'p', 't' and 'v'")
                        }
                        let suffix = bytes[try r.readBytesRange()]
                        guard r.readOneCharacterText() == UInt8(ascii: "p") else { throw DataError(.typeMismatch, "expected 'p'") }
                        let prefix = try r.readInt()
                        guard prefix >= 0, prefix <= 1 << 16 else { throw DataError(.typeMismatch, "bad prefix length \(prefix)") }
                        guard r.readOneCharacterText() == UInt8(ascii: "t") else { throw DataError(.typeMismatch, "expected 't'") }
                        let right = r.readNullIfPresent() ? nil : try r.readLink()
                        guard r.readOneCharacterText() == UInt8(ascii: "v") else { throw DataError(.typeMismatch, "expected 'v'") }
                        let value = try r.readLink()
                        entries.append(Entry(prefixLength: Int(prefix), keySuffix: suffix, value: value, right: right))
                    }
                    guard r.readOneCharacterText() == UInt8(ascii: "l") else { throw DataError(.typeMismatch, "expected 'l'") }
                    let left = r.readNullIfPresent() ? nil : try r.readLink()
                    try r.expectEnd()
                    return (left, entries)
                }
            }.get()
        } catch {
            throw RepoError(.malformedBlock, "MST node \(cid): \(error)")
        }
    }
}

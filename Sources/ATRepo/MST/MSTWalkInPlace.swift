import ATData

extension MST {
    /// ``visit(_:store:hashChecked:node:leaf:)`` over a CAR held in memory
    /// whose blocks have all been checked against their CIDs already.
    ///
    /// Each node is decoded where it lies in the file, and its full keys are
    /// built into one buffer: a node costs two allocations, where
    /// ``check(_:store:hashChecked:)`` makes several per entry. It checks what
    /// `check` checks, in the same order and with the same errors. `leaf`
    /// gets each key as a slice of its node's key buffer.
    static func visitInPlace(
        _ subtree: Subtree, store: CARBlockStore, leaf: (ArraySlice<UInt8>, CID) throws -> Void
    ) throws {
        try store.withFile { file, index in
            try InPlaceWalk(file: file, index: index).visit(
                subtree.cid, layer: subtree.layer, lower: subtree.lower.map { $0[...] }, upper: subtree.upper.map { $0[...] }, leaf: leaf)
        }
    }
}

/// One walk of ``MST/visitInPlace(_:store:leaf:)``.
private struct InPlaceWalk {
    let file: UnsafeRawBufferPointer
    let index: CIDIndex

    /// An entry as encoded: its key suffix is a range of the block.
    struct Entry {
        let prefix: Int
        let suffix: Range<Int>
        let value: CID
        let right: CID?
    }

    func visit(
        _ cid: CID, layer expected: Int?, lower: ArraySlice<UInt8>?, upper: ArraySlice<UInt8>?,
        leaf: (ArraySlice<UInt8>, CID) throws -> Void
    ) throws {
        guard let range = index.range(of: cid) else { throw RepoError(.missingBlock, "block \(cid) is missing", cid: cid) }
        let block = UnsafeRawBufferPointer(rebasing: file[range])
        let (left, entries) = try Self.decode(block, cid: cid)
        let (keys, ends) = try MST.nodeKeys(entries.count, cid: cid, lower: lower, upper: upper) { i in
            (entries[i].prefix, UnsafeRawBufferPointer(rebasing: block[entries[i].suffix]))
        }
        func key(_ i: Int) -> ArraySlice<UInt8> { keys[(i == 0 ? 0 : ends[i - 1])..<ends[i]] }
        guard let layer = try MST.nodeLayer(
            cid, firstKey: entries.isEmpty ? nil : key(0), hasLeft: left != nil, expected: expected, isRoot: expected == nil)
        else { return }
        for i in entries.indices {
            let actual = MST.layer(of: key(i))
            guard actual == layer else {
                throw RepoError(.wrongLayer, "node \(cid) holds a layer-\(actual) key where layer \(layer) belongs")
            }
        }
        if let link = left { try MST.checkChildLink(link, from: cid, layer: layer) }
        for entry in entries { if let link = entry.right { try MST.checkChildLink(link, from: cid, layer: layer) } }

        if let link = left { try visit(link, layer: layer - 1, lower: lower, upper: entries.isEmpty ? upper : key(0), leaf: leaf) }
        for i in entries.indices {
            try leaf(key(i), entries[i].value)
            if let link = entries[i].right {
                try visit(link, layer: layer - 1, lower: key(i), upper: i + 1 < entries.count ? key(i + 1) : upper, leaf: leaf)
            }
        }
    }

    /// The node's left subtree and entries (``MSTNodeData/decode(_:cid:reserve:entry:)``).
    static func decode(_ block: UnsafeRawBufferPointer, cid: CID) throws(RepoError) -> (CID?, [Entry]) {
        var entries = [Entry]()
        let left = try MSTNodeData.decode(block, cid: cid, reserve: { entries.reserveCapacity($0) }) { prefix, suffix, value, right in
            entries.append(Entry(prefix: prefix, suffix: suffix, value: value, right: right))
        }
        return (left, entries)
    }
}

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

    /// An entry as encoded, then where its full key ends in the node's key buffer.
    struct Entry {
        let prefix: Int
        let suffix: Range<Int>
        let value: CID
        let right: CID?
        var keyEnd = 0
    }

    func visit(
        _ cid: CID, layer expected: Int?, lower: ArraySlice<UInt8>?, upper: ArraySlice<UInt8>?,
        leaf: (ArraySlice<UInt8>, CID) throws -> Void
    ) throws {
        guard let range = index.range(of: cid) else { throw RepoError(.missingBlock, "block \(cid) is missing", cid: cid) }
        let block = UnsafeRawBufferPointer(rebasing: file[range])
        let (left, decoded) = try Self.decode(block, cid: cid)
        var staged = decoded
        let keys = try Self.keys(of: &staged, in: block, cid: cid, lower: lower, upper: upper)
        let entries = staged
        func key(_ i: Int) -> ArraySlice<UInt8> { keys[(i == 0 ? 0 : entries[i - 1].keyEnd)..<entries[i].keyEnd] }

        // The node's layer, as `MST.nodeLayer` finds it.
        let layer: Int
        if !entries.isEmpty {
            layer = expected ?? MST.layer(of: key(0))
        } else {
            if expected == nil {
                guard left == nil else { throw RepoError(.emptyNode, "the root \(cid) is an empty node that only points down") }
                return
            }
            guard left != nil, let expected else { throw RepoError(.emptyNode, "node \(cid) is empty and points nowhere") }
            layer = expected
        }
        guard layer >= 0 else { throw RepoError(.wrongLayer, "node \(cid) is below layer 0") }
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

    /// The entries' full keys, one after another, with the checks of
    /// `MST.checkedNode`: canonical prefixes, no empty key, strict order,
    /// and within `lower` and `upper`. Sets each entry's `keyEnd`.
    static func keys(
        of entries: inout [Entry], in block: UnsafeRawBufferPointer, cid: CID, lower: ArraySlice<UInt8>?, upper: ArraySlice<UInt8>?
    ) throws -> [UInt8] {
        var keys = [UInt8]()
        keys.reserveCapacity(entries.reduce(0) { $0 + $1.prefix + $1.suffix.count })
        var previous = 0..<0
        for i in entries.indices {
            let entry = entries[i]
            guard entry.prefix <= previous.count else {
                throw RepoError(.nonCanonicalPrefix, "node \(cid) entry \(i): prefix \(entry.prefix) is longer than the previous key")
            }
            guard entry.prefix + entry.suffix.count <= MST.maxKeyLength else {
                throw RepoError(.invalidKey, "node \(cid) entry \(i): a key longer than \(MST.maxKeyLength) bytes")
            }
            let start = keys.count
            for j in previous.lowerBound..<(previous.lowerBound + entry.prefix) { keys.append(keys[j]) }
            keys.append(contentsOf: UnsafeRawBufferPointer(rebasing: block[entry.suffix]))
            let current = start..<keys.count
            var shared = 0
            while shared < min(previous.count, current.count), keys[previous.lowerBound + shared] == keys[start + shared] { shared += 1 }
            guard entry.prefix == shared else {
                throw RepoError(.nonCanonicalPrefix, "node \(cid) entry \(i): prefix length is not the shared prefix")
            }
            guard !current.isEmpty else { throw RepoError(.invalidKey, "node \(cid) entry \(i): empty key") }
            if i > 0 {
                guard KeyOrder.precedes(keys[previous], keys[current]) else {
                    throw RepoError(.keyOrder, "node \(cid): keys out of order at entry \(i)")
                }
            }
            if let lower, !KeyOrder.precedes(lower, keys[current]) {
                throw RepoError(.keyOrder, "node \(cid): key \(i) sorts before its subtree's range")
            }
            if let upper, !KeyOrder.precedes(keys[current], upper) {
                throw RepoError(.keyOrder, "node \(cid): key \(i) sorts after its subtree's range")
            }
            entries[i].keyEnd = keys.count
            previous = current
        }
        return keys
    }
}

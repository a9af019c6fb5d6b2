import ATData

/// A link from a node to a subtree one layer down: the node itself, or only
/// its CID when the block is not at hand (a partial tree, such as the blocks
/// of one commit on the firehose).
public enum MSTChild: Sendable {
    /// A loaded subtree.
    case node(MSTNode)
    /// A subtree known only by its CID.
    case stub(CID)

    /// The subtree's CID.
    public var cid: CID {
        switch self {
        case .node(let node): node.cid
        case .stub(let cid): cid
        }
    }

    /// The loaded node, or a ``RepoError/Code/missingBlock`` error.
    public func resolved() throws(RepoError) -> MSTNode {
        switch self {
        case .node(let node): return node
        case .stub(let cid): throw RepoError(.missingBlock, "MST node \(cid) is not loaded", cid: cid)
        }
    }
}

/// One node of a Merkle Search Tree: keys of one layer, in order, with links
/// to the subtrees between them. Nodes are immutable; each knows its CID and
/// its DAG-CBOR bytes from the moment it is made.
public final class MSTNode: Sendable {
    /// One key of a node, its record CID, and the subtree to its right.
    public struct Entry: Sendable {
        /// The full key (prefix compression is only in the encoding).
        public let key: [UInt8]
        /// The CID of the record.
        public let value: CID
        /// The subtree between this key and the next one, one layer down.
        public let right: MSTChild?
    }

    /// The layer: 0 for leaves; every key here has this layer.
    public let layer: Int
    /// The subtree left of the first key, one layer down.
    public let left: MSTChild?
    /// The keys, in order.
    public let entries: [Entry]
    /// The node's DAG-CBOR encoding.
    public let bytes: [UInt8]
    /// The CID of ``bytes``.
    public let cid: CID

    init(layer: Int, left: MSTChild?, entries: [Entry]) {
        self.layer = layer
        self.left = left
        self.entries = entries
        self.bytes = MSTNode.encode(left: left?.cid, entries: entries)
        self.cid = CID.compute(bytes, codec: .dagCBOR)
    }

    /// A node whose encoding and CID are already known and checked.
    init(layer: Int, left: MSTChild?, entries: [Entry], bytes: [UInt8], cid: CID) {
        self.layer = layer
        self.left = left
        self.entries = entries
        self.bytes = bytes
        self.cid = cid
    }

    /// The node an empty tree consists of.
    static let empty = MSTNode(layer: 0, left: nil, entries: [])

    /// `nil` for a node that would be empty with no subtree (pruned), else the node.
    static func make(layer: Int, left: MSTChild?, entries: [Entry]) -> MSTNode? {
        entries.isEmpty && left == nil ? nil : MSTNode(layer: layer, left: left, entries: entries)
    }

    /// The subtree before entry `index` (`left` for 0).
    func child(before index: Int) -> MSTChild? {
        index == 0 ? left : entries[index - 1].right
    }

    /// A copy with the subtree before entry `index` replaced.
    func replacing(childBefore index: Int, with child: MSTChild?, entries newEntries: [Entry]? = nil) -> MSTNode? {
        var list = newEntries ?? entries
        if index == 0 {
            return MSTNode.make(layer: layer, left: child, entries: list)
        }
        let e = list[index - 1]
        list[index - 1] = Entry(key: e.key, value: e.value, right: child)
        return MSTNode.make(layer: layer, left: left, entries: list)
    }

    /// The index of the first entry whose key is not less than `key`.
    func lowerBound(_ key: [UInt8]) -> Int {
        var low = 0, high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if KeyOrder.precedes(entries[mid].key, key) { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

extension MSTNode {
    /// The number of leading bytes `a` and `b` share.
    public static func commonPrefixLength(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var i = 0
        let n = min(a.count, b.count)
        while i < n, a[i] == b[i] { i += 1 }
        return i
    }

    /// `{e: [{k, p, t, v}…], l}` with prefix-compressed keys: measured, then
    /// written through a pointer into storage of exactly that size.
    static func encode(left: CID?, entries: [Entry]) -> [UInt8] {
        typealias W = CBORPointerWriter
        let nullOrLink = { (cid: CID?) in cid.map(W.linkSize) ?? 1 }
        // map(2) "e" array(n) … "l" link|null
        var size = 1 + 2 + W.headerSize(UInt64(entries.count)) + 2 + nullOrLink(left)
        var shared = [Int]()
        shared.reserveCapacity(entries.count)
        var previous: [UInt8] = []
        for entry in entries {
            let p = commonPrefixLength(previous, entry.key)
            shared.append(p)
            let suffix = entry.key.count - p
            // map(4) "k" bytes "p" int "t" link|null "v" link
            size += 1 + 2 + W.headerSize(UInt64(suffix)) + suffix + 2 + W.headerSize(UInt64(p))
                + 2 + nullOrLink(entry.right?.cid) + 2 + W.linkSize(entry.value)
            previous = entry.key
        }
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var w = W(buffer.baseAddress!, capacity: size)
            func key(_ k: UInt8) {
                w.byte(0x61)
                w.byte(k)
            }
            func link(_ cid: CID?) { if let cid { w.writeLink(cid) } else { w.byte(0xF6) } }
            w.byte(0xA2)
            key(0x65)  // "e"
            w.writeHeader(Major.array, UInt64(entries.count))
            for (i, entry) in entries.enumerated() {
                w.byte(0xA4)
                key(0x6B)  // "k"
                entry.key.withUnsafeBytes { w.writeBytes(UnsafeRawBufferPointer(rebasing: $0[shared[i]...])) }
                key(0x70)  // "p"
                w.writeHeader(Major.unsigned, UInt64(shared[i]))
                key(0x74)  // "t"
                link(entry.right?.cid)
                key(0x76)  // "v"
                w.writeLink(entry.value)
            }
            key(0x6C)  // "l"
            link(left)
            initialized = size
        }
    }
}

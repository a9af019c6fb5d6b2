/// A map with text keys, kept in DAG-CBOR key order: shorter keys first, then
/// bytewise. This is the order that canonical encoding needs, so decoded maps
/// arrive in it already and encoding never sorts.
public struct DataMap: Sendable, Hashable, Sequence {
    /// One key and its value.
    public struct Entry: Sendable, Hashable {
        /// The key.
        public var key: String
        /// The value.
        public var value: DataValue

        /// An entry.
        public init(key: String, value: DataValue) {
            self.key = key
            self.value = value
        }
    }

    /// The entries in DAG-CBOR key order.
    public private(set) var entries: [Entry]

    /// An empty map.
    public init() { entries = [] }

    /// A map from entries in any order; later duplicates are resolved by `combine`.
    public init(_ pairs: some Sequence<(String, DataValue)>, uniquingKeysWith combine: (DataValue, DataValue) -> DataValue) {
        entries = []
        for (key, value) in pairs {
            if let existing = self[key] {
                self[key] = combine(existing, value)
            } else {
                self[key] = value
            }
        }
    }

    /// A map from a dictionary.
    public init(_ dictionary: [String: DataValue]) {
        entries = dictionary.map { Entry(key: $0.key, value: $0.value) }
        entries.sort { DataMap.precedes($0.key, $1.key) }
    }

    /// Entries that the caller guarantees to be unique and in DAG-CBOR order.
    @usableFromInline init(uncheckedSortedEntries entries: [Entry]) {
        self.entries = entries
    }

    /// The number of entries.
    public var count: Int { entries.count }
    /// Whether the map is empty.
    public var isEmpty: Bool { entries.isEmpty }
    /// The keys in DAG-CBOR order.
    public var keys: [String] { entries.map(\.key) }

    /// The value for `key`, or `nil`. Setting `nil` removes the key.
    public subscript(key: String) -> DataValue? {
        get {
            switch search(key) {
            case .found(let i): entries[i].value
            case .insertAt: nil
            }
        }
        set {
            switch (search(key), newValue) {
            case (.found(let i), let value?): entries[i].value = value
            case (.found(let i), nil): entries.remove(at: i)
            case (.insertAt(let i), let value?): entries.insert(Entry(key: key, value: value), at: i)
            case (.insertAt, nil): break
            }
        }
    }

    public func makeIterator() -> IndexingIterator<[Entry]> {
        entries.makeIterator()
    }

    /// DAG-CBOR key order: by UTF-8 length, then bytewise.
    @inlinable
    public static func precedes(_ a: String, _ b: String) -> Bool {
        let ac = a.utf8.count, bc = b.utf8.count
        if ac != bc { return ac < bc }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    private enum SearchResult { case found(Int), insertAt(Int) }

    private func search(_ key: String) -> SearchResult {
        var low = 0, high = entries.count
        while low < high {
            let mid = (low + high) / 2
            let k = entries[mid].key
            if k == key { return .found(mid) }
            if DataMap.precedes(k, key) { low = mid + 1 } else { high = mid }
        }
        return .insertAt(low)
    }

}

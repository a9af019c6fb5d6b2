/// Where a ``CARWriter`` sends its bytes.
public protocol CARByteSink {
    /// Accepts the next run of bytes.
    mutating func write(_ bytes: [UInt8]) async throws
}

extension Array: CARByteSink where Element == UInt8 {
    /// Appends `bytes`.
    public mutating func write(_ bytes: [UInt8]) async throws { append(contentsOf: bytes) }
}

/// Writes a CAR v1 file to a byte sink as it goes: the header first, then
/// each block, in chunks of about ``chunkSize`` bytes.
public struct CARWriter<Sink: CARByteSink> {
    /// The sink, which holds everything flushed so far.
    public private(set) var sink: Sink
    /// The size of the chunks handed to the sink.
    public let chunkSize: Int
    private var pending: [UInt8] = []

    /// Starts a CAR file with `roots`.
    public init(roots: [CID], sink: Sink, chunkSize: Int = 64 << 10) {
        self.sink = sink
        self.chunkSize = chunkSize
        pending.reserveCapacity(chunkSize + 1024)
        CARFraming.appendHeader(CARHeader(roots: roots), to: &pending)
    }

    /// Appends one block.
    public mutating func write(cid: CID, data: some Collection<UInt8>) async throws {
        CARFraming.appendBlock(cid: cid, data: data, to: &pending)
        if pending.count >= chunkSize { try await flush() }
    }

    /// Appends sections that are already framed (varint length, CID, block),
    /// as a trusted store produces them in bulk; nothing is checked.
    public mutating func write(framedSections bytes: [UInt8]) async throws {
        pending.append(contentsOf: bytes)
        if pending.count >= chunkSize { try await flush() }
    }

    /// Appends one framed section — varint length, the CID's bytes, the
    /// block — to `output`: how a store frames blocks it trusts.
    public static func appendSection(cid: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer, to output: inout [UInt8]) {
        Varint.write(UInt64(cid.count + data.count), into: &output)
        output.append(contentsOf: cid)
        output.append(contentsOf: data)
    }

    /// Hands any buffered bytes to the sink.
    public mutating func flush() async throws {
        guard !pending.isEmpty else { return }
        try await sink.write(pending)
        pending.removeAll(keepingCapacity: true)
    }

    /// Flushes and returns the sink.
    public mutating func finish() async throws -> Sink {
        try await flush()
        return sink
    }
}

extension CARWriter where Sink == [UInt8] {
    /// A whole CAR file in memory.
    public static func encode(roots: [CID], blocks: some Sequence<(CID, [UInt8])>) -> [UInt8] {
        var out = [UInt8]()
        CARFraming.appendHeader(CARHeader(roots: roots), to: &out)
        for (cid, data) in blocks { CARFraming.appendBlock(cid: cid, data: data, to: &out) }
        return out
    }

    /// Appends one block's section to a CAR file being built in memory.
    public static func append(cid: CID, data: some Collection<UInt8>, to output: inout [UInt8]) {
        CARFraming.appendBlock(cid: cid, data: data, to: &output)
    }
}

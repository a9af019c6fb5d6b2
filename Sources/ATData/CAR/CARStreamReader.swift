/// Reads a CAR v1 file from an asynchronous sequence of byte chunks, such as
/// an HTTP response body, without holding the whole file.
///
/// ```swift
/// var reader = CARStreamReader(chunks)
/// let header = try await reader.header()
/// while let block = try await reader.next() { … }
/// ```
public struct CARStreamReader<Source: AsyncSequence> where Source.Element: Collection<UInt8> {
    private var iterator: Source.AsyncIterator
    private var buffer: [UInt8] = []
    private var position = 0
    private var consumed = 0  // bytes dropped from the front of `buffer`
    private var finished = false
    private var parsedHeader: CARHeader?
    private var blockIndex = 0
    /// The options in force.
    public let options: CAROptions

    public init(_ source: Source, options: CAROptions = .default) {
        self.iterator = source.makeAsyncIterator()
        self.options = options
    }

    /// The number of blocks returned so far.
    public var blockCount: Int { blockIndex }
    /// The number of bytes consumed so far.
    public var byteCount: Int { consumed + position }

    /// Reads the header, if it was not read yet, and returns it.
    public mutating func header() async throws -> CARHeader {
        if let parsedHeader { return parsedHeader }
        try await fill(atLeast: Varint.maxLength)
        let options = options
        let (header, end) = try await readFramed(maxLength: options.maxHeaderLength) { (buffer) throws(DataError) in
            try CARFraming.readHeader(buffer, options: options)
        }
        position += end
        parsedHeader = header
        return header
    }

    /// The next block, checked against its CID when ``CAROptions/verifyBlocks``
    /// is set, or `nil` at the end of the file.
    public mutating func next() async throws -> CARBlock? {
        _ = try await header()
        try await fill(atLeast: 1)
        guard position < buffer.count else { return nil }
        let index = blockIndex
        let base = byteCount
        let options = options
        let section = try await readFramed(maxLength: options.maxSectionLength) { (buffer) throws(DataError) in
            do throws(DataError) {
                return try CARFraming.readSection(buffer, at: 0, index: index, options: options)
            } catch {
                throw error.shifted(by: base)
            }
        }
        let block = CARBlock(cid: section.cid, data: ArraySlice(buffer[(position + section.data.lowerBound)..<(position + section.data.upperBound)]))
        position += section.end
        blockIndex += 1
        return block
    }

    /// Makes sure the varint-framed item at `position` is wholly buffered, then parses it.
    private mutating func readFramed<T>(
        maxLength: Int, _ parse: (UnsafeRawBufferPointer) throws(DataError) -> T
    ) async throws -> T {
        try await fill(atLeast: Varint.maxLength)
        var cursor = 0
        let length = buffer.withUnsafeBytes { raw -> UInt64? in
            let view = UnsafeRawBufferPointer(rebasing: raw[position...])
            return try? Varint.read(view, at: &cursor)
        }
        if let length, length <= UInt64(maxLength) {
            try await fill(atLeast: cursor + Int(length))
        }
        let pos = position
        return try buffer.withBytes { (raw) throws(DataError) in
            try parse(UnsafeRawBufferPointer(rebasing: raw[pos...]))
        }
    }

    /// Pulls chunks until `count` bytes are buffered past `position` or the source ends.
    private mutating func fill(atLeast count: Int) async throws {
        while buffer.count - position < count, !finished {
            guard let chunk = try await iterator.next() else {
                finished = true
                break
            }
            if position > 0, position >= buffer.count / 2 {
                buffer.removeSubrange(0..<position)
                consumed += position
                position = 0
            }
            buffer.append(contentsOf: chunk)
        }
    }
}

extension CARStreamReader: AsyncSequence, AsyncIteratorProtocol {
    public typealias Element = CARBlock
    public func makeAsyncIterator() -> Self { self }
}

/// Reads a CAR v1 file from an asynchronous sequence of byte chunks, such as
/// an HTTP response body, without holding the whole file.
///
/// ```swift
/// var reader = CARStreamReader(chunks)
/// let header = try await reader.header()
/// while let block = try await reader.next() { … }
/// ```
///
/// Sections already buffered are parsed without suspending; the reader awaits
/// the source only when it needs more bytes, and then in the caller's
/// isolation, so reading never hops between threads.
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

    /// A reader over `source`; nothing is read until ``header(isolation:)`` or ``next(isolation:)``.
    public init(_ source: Source, options: CAROptions = .default) {
        self.iterator = source.makeAsyncIterator()
        self.options = options
    }

    /// The number of blocks returned so far.
    public var blockCount: Int { blockIndex }
    /// The number of bytes consumed so far.
    public var byteCount: Int { consumed + position }

    /// Reads the header, if it was not read yet, and returns it.
    public mutating func header(isolation: isolated (any Actor)? = #isolation) async throws -> CARHeader {
        while true {
            if let parsedHeader { return parsedHeader }
            if let (header, end) = try takeFramed(maxLength: options.maxHeaderLength, parse: { [options] (buffer) throws(DataError) in
                try CARFraming.readHeader(buffer, options: options)
            }) {
                position += end
                parsedHeader = header
                return header
            }
            try await pull(isolation: isolation)
        }
    }

    /// The next block, checked against its CID when ``CAROptions/verifyBlocks``
    /// is set, or `nil` at the end of the file.
    public mutating func next(isolation: isolated (any Actor)? = #isolation) async throws -> CARBlock? {
        if parsedHeader == nil { _ = try await header(isolation: isolation) }
        while true {
            if finished, position == buffer.count { return nil }
            let index = blockIndex, base = byteCount, options = options
            if let section = try takeFramed(maxLength: options.maxSectionLength, parse: { (buffer) throws(DataError) in
                do throws(DataError) {
                    return try CARFraming.readSection(buffer, at: 0, index: index, options: options)
                } catch {
                    throw error.shifted(by: base)
                }
            }) {
                // A copy: a slice would share the buffer, and the next refill would copy it whole.
                let data = [UInt8](buffer[(position + section.data.lowerBound)..<(position + section.data.upperBound)])
                position += section.end
                blockIndex += 1
                return CARBlock(cid: section.cid, data: data[...])
            }
            try await pull(isolation: isolation)
        }
    }

    /// Parses the varint-framed item at `position` if it is wholly buffered, or
    /// if the source has ended (so that a cut-off item gives its error); `nil`
    /// when more bytes are needed.
    private func takeFramed<T>(maxLength: Int, parse: (UnsafeRawBufferPointer) throws(DataError) -> T) throws(DataError) -> T? {
        try buffer.withBytes { (raw) throws(DataError) -> T? in
            let view = UnsafeRawBufferPointer(rebasing: raw[position...])
            if !finished {
                var cursor = 0
                guard let length = try? Varint.read(view, at: &cursor) else {
                    // An incomplete varint needs more bytes; a malformed one is parsed for its error.
                    if view.count < Varint.maxLength { return nil }
                    return try parse(view)
                }
                if length <= UInt64(maxLength), UInt64(view.count - cursor) < length { return nil }
            }
            return try parse(view)
        }
    }

    /// Appends the next chunk from the source, compacting the buffer first.
    private mutating func pull(isolation: isolated (any Actor)?) async throws {
        guard !finished else { return }
        guard let chunk = try await iterator.next(isolation: isolation) else {
            finished = true
            return
        }
        if position > 0, position >= buffer.count / 2 {
            buffer.removeSubrange(0..<position)
            consumed += position
            position = 0
        }
        buffer.append(contentsOf: chunk)
    }
}

extension CARStreamReader: AsyncSequence, AsyncIteratorProtocol {
    public typealias Element = CARBlock
    public func makeAsyncIterator() -> Self { self }
}

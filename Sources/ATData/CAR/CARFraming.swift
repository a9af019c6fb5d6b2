/// The varint-length-prefixed framing of CAR v1, shared by the whole-file
/// reader, the streaming reader and the writer.
enum CARFraming {
    /// A parsed block section.
    struct Section {
        let cid: CID
        /// Where the section, with its length prefix, starts.
        let start: Int
        let data: Range<Int>
        var end: Int { data.upperBound }
    }

    /// Reads the header section at the start of `buffer`.
    static func readHeader(_ buffer: UnsafeRawBufferPointer, options: CAROptions) throws(DataError) -> (CARHeader, end: Int) {
        var offset = 0
        let length: UInt64
        do {
            length = try Varint.read(buffer, at: &offset)
        } catch {
            throw DataError(error.code == .truncated ? .truncated : .invalidCARHeader, "header length: \(error.message)", offset: 0)
        }
        guard length > 0 else { throw DataError(.invalidCARHeader, "header length is zero", offset: 0) }
        guard length <= UInt64(options.maxHeaderLength) else {
            throw DataError(.lengthTooLarge, "header declares \(length) bytes, over the limit of \(options.maxHeaderLength)", offset: 0)
        }
        guard UInt64(buffer.count - offset) >= length else {
            throw DataError(.truncated, "header is cut off", offset: offset)
        }
        let end = offset + Int(length)
        do {
            return (try CARHeader(decoding: UnsafeRawBufferPointer(rebasing: buffer[offset..<end])), end)
        } catch {
            throw error.shifted(by: offset)
        }
    }

    /// Reads the length prefix of the section at `offset`, and returns where
    /// the section ends, once it is known to fit in `buffer`.
    @inline(__always)
    static func sectionEnd(
        _ buffer: UnsafeRawBufferPointer, at offset: Int, index: Int, options: CAROptions
    ) throws(DataError) -> Int {
        var cursor = offset
        return try sectionEnd(buffer, at: offset, cursor: &cursor, index: index, options: options)
    }

    @inline(__always)
    private static func sectionEnd(
        _ buffer: UnsafeRawBufferPointer, at offset: Int, cursor: inout Int, index: Int, options: CAROptions
    ) throws(DataError) -> Int {
        let length: UInt64
        do {
            length = try Varint.read(buffer, at: &cursor)
        } catch {
            throw DataError(error.code, "section length: \(error.message)", offset: offset, blockIndex: index)
        }
        guard length > 0 else { throw DataError(.invalidCARBlock, "section length is zero", offset: offset, blockIndex: index) }
        guard length <= UInt64(options.maxSectionLength) else {
            throw DataError(.lengthTooLarge, "section declares \(length) bytes, over the limit of \(options.maxSectionLength)", offset: offset, blockIndex: index)
        }
        guard UInt64(buffer.count - cursor) >= length else {
            throw DataError(.truncated, "section declares \(length) bytes but only \(buffer.count - cursor) remain", offset: offset, blockIndex: index)
        }
        return cursor + Int(length)
    }

    /// Reads the block section at `offset`.
    @inline(__always)
    static func readSection(
        _ buffer: UnsafeRawBufferPointer, at offset: Int, index: Int, options: CAROptions
    ) throws(DataError) -> Section {
        var cursor = offset
        let end = try sectionEnd(buffer, at: offset, cursor: &cursor, index: index, options: options)
        let section = UnsafeRawBufferPointer(rebasing: buffer[0..<end])
        let cid: CID
        do {
            cid = try CID.read(from: section, at: &cursor)
        } catch {
            let code: DataError.Code = error.code == .truncated ? .invalidCARBlock : error.code
            throw DataError(code, "block CID: \(error.message)", offset: error.offset ?? offset, blockIndex: index)
        }
        if options.verifyBlocks {
            do {
                try cid.verify(UnsafeRawBufferPointer(rebasing: buffer[cursor..<end]))
            } catch {
                throw DataError(error.code, error.message, offset: offset, blockIndex: index)
            }
        }
        return Section(cid: cid, start: offset, data: cursor..<end)
    }

    /// Appends a length-prefixed header section.
    static func appendHeader(_ header: CARHeader, to output: inout [UInt8]) {
        let bytes = header.encoded()
        Varint.write(UInt64(bytes.count), into: &output)
        output.append(contentsOf: bytes)
    }

    /// Appends a length-prefixed block section.
    @inline(__always)
    static func appendBlock(cid: CID, data: some Collection<UInt8>, to output: inout [UInt8]) {
        var cidBytes = [UInt8]()
        cidBytes.reserveCapacity(36)
        cid.write(into: &cidBytes)
        Varint.write(UInt64(cidBytes.count + data.count), into: &output)
        output.append(contentsOf: cidBytes)
        output.append(contentsOf: data)
    }
}

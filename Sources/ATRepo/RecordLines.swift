import ATCrypto
import ATData
import ATSyntax
import Dispatch
import Foundation
import Synchronization

/// A record ready to go into a repository: its MST key (`collection/rkey`),
/// its DAG-CBOR and that block's CID.
public struct EncodedRecord: Sendable {
    /// The path as MST key bytes.
    public let key: [UInt8]
    /// The record's CID.
    public let cid: CID
    /// The record in canonical DAG-CBOR.
    public let bytes: [UInt8]

    /// The path.
    public var path: RepoPath {
        get throws(RepoError) { try RepoPath(key) }
    }
}

/// JSON lines of records, one `{"collection": …, "rkey": …, "record": {…}}`
/// per line: the input of `bsky car build`.
public enum RecordLines {
    /// Reads every line: the collection (an NSID) and record key are checked,
    /// and the record (an object in the atproto JSON form) is encoded
    /// straight to DAG-CBOR and hashed, with the lines split over the cores.
    /// Blank lines are skipped; other keys on a line are ignored.
    ///
    /// - Throws: ``RecordLinesError`` for the first bad line.
    public static func parse(_ bytes: some ContiguousBytesLike) throws(RecordLinesError) -> [EncodedRecord] {
        let lines = bytes.withUnsafeBytes { lineRanges($0) }
        let workers = lines.count < 2048 ? 1 : max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
        let chunk = (lines.count + workers - 1) / max(workers, 1)
        let firstFailure = Mutex<(line: Int, error: DataError)?>(nil)
        var results = [[EncodedRecord]](repeating: [], count: workers)
        bytes.withUnsafeBytes { buffer in
            results.withUnsafeMutableBufferPointer { out in
                nonisolated(unsafe) let out = out
                nonisolated(unsafe) let buffer = buffer
                let work: @Sendable (Int) -> Void = { worker in
                    var records = [EncodedRecord]()
                    let range = (worker * chunk)..<min(lines.count, (worker + 1) * chunk)
                    records.reserveCapacity(range.count)
                    var state = LineState()
                    for i in range {
                        let line = lines[i]
                        do throws(DataError) {
                            records.append(try self.record(UnsafeRawBufferPointer(rebasing: buffer[line.bytes]), &state))
                        } catch {
                            firstFailure.withLock { first in
                                if first == nil || first!.line > line.number { first = (line.number, error) }
                            }
                            break
                        }
                    }
                    out[worker] = records
                }
                if workers == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
            }
        }
        if let (line, error) = firstFailure.withLock({ $0 }) { throw RecordLinesError(line: line, error: error) }
        return results.count == 1 ? results[0] : results.flatMap { $0 }
    }

    /// Each line's bytes and number (from 1), without the blank ones.
    private static func lineRanges(_ buffer: UnsafeRawBufferPointer) -> [(bytes: Range<Int>, number: Int)] {
        var lines = [(bytes: Range<Int>, number: Int)]()
        lines.reserveCapacity(buffer.count / 128)
        var start = 0
        var number = 1
        while start < buffer.count {
            var end = start
            if let base = buffer.baseAddress, let found = memchr(base + start, 0x0A, buffer.count - start) {
                end = base.distance(to: UnsafeRawPointer(found))
            } else {
                end = buffer.count
            }
            let blank = buffer[start..<end].allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
            if !blank { lines.append((start..<end, number)) }
            start = end + 1
            number += 1
        }
        return lines
    }

    /// Which key of a line `key` is: 0 for collection, 1 for rkey, 2 for
    /// record, 3 for any other.
    @inline(__always)
    private static func field(_ key: UnsafeRawBufferPointer) -> Int {
        func matches(_ name: StaticString) -> Bool {
            key.count == name.utf8CodeUnitCount && memcmp(key.baseAddress!, name.utf8Start, key.count) == 0
        }
        switch key.count {
        case 10: return matches("collection") ? 0 : 3
        case 4: return matches("rkey") ? 1 : 3
        case 6: return matches("record") ? 2 : 3
        default: return 3
        }
    }

    /// What one worker keeps from line to line, so that a line allocates
    /// only the record's key and bytes.
    private struct LineState {
        var collections = KnownCollections()
        var scratch = JSONToDAGCBOR.Scratch()
        var collection: [UInt8] = []
        var rkey: [UInt8] = []
    }

    /// One line's record.
    private static func record(_ line: UnsafeRawBufferPointer, _ state: inout LineState) throws(DataError) -> EncodedRecord {
        var cursor = JSONCursor(line)
        try cursor.beginObject()
        var hasCollection = false, hasRkey = false
        var record: [UInt8]?
        var first = true
        while let field = try cursor.nextKey(first: &first, { Self.field($0) }) {
            switch field {
            case 0:
                state.collection.removeAll(keepingCapacity: true)
                try cursor.readStringBytes { state.collection.append(contentsOf: $0) }
                hasCollection = true
            case 1:
                state.rkey.removeAll(keepingCapacity: true)
                try cursor.readStringBytes { state.rkey.append(contentsOf: $0) }
                hasRkey = true
            case 2:
                guard cursor.peek() == UInt8(ascii: "{") else { throw DataError(.invalidJSON, "\"record\" must be an object") }
                var writer = DAGCBORWriter(capacity: 256)
                try JSONToDAGCBOR.value(&cursor, &writer, &state.scratch)
                guard let head = writer.bytes.first, head >> 5 == Major.map else {
                    throw DataError(.invalidJSON, "\"record\" must be an object, not a link or bytes")
                }
                record = writer.bytes
            default: try cursor.skipValue()
            }
        }
        try cursor.expectEnd()
        guard hasCollection, hasRkey, let record else {
            throw DataError(.invalidJSON, "needs \"collection\", \"rkey\" and an object \"record\"")
        }
        let collection = state.collection, rkey = state.rkey
        if !state.collections.contains(collection[...]) {
            do { _ = try NSID(String(decoding: collection, as: UTF8.self)) } catch {
                throw DataError(.invalidJSON, "\"collection\": \(error)")
            }
            state.collections.insert(collection[...])
        }
        do { _ = try RecordKey(String(decoding: rkey, as: UTF8.self)) } catch {
            throw DataError(.invalidJSON, "\"rkey\": \(error)")
        }
        var key = [UInt8]()
        key.reserveCapacity(collection.count + 1 + rkey.count)
        key += collection
        key.append(0x2F)
        key += rkey
        return EncodedRecord(key: key, cid: CID.compute(record, codec: .dagCBOR), bytes: record)
    }
}

/// A line of a records file that could not be read.
public struct RecordLinesError: Error, Sendable, CustomStringConvertible {
    /// The line, from 1.
    public let line: Int
    /// What was wrong with it.
    public let error: DataError

    public var description: String { "line \(line): \(error)" }
}

extension Repository {
    /// A signed repository CAR holding `records`, written without a block
    /// store: the tree is built bottom-up from the sorted keys, and the file
    /// holds the commit, every node, and each distinct record once, as
    /// ``build(did:key:rev:records:store:)`` and ``exportCAR()`` would give.
    ///
    /// - Throws: ``RepoError/Code/keyExists`` when a path repeats.
    public static func buildCAR(
        did: DID, key: some PrivateKey, rev: TID, records: [EncodedRecord]
    ) throws -> (commit: Commit, commitCID: CID, car: [UInt8]) {
        // Sorted by index, so that neither comparing nor reordering moves a record.
        // A closure, not a key path: a key path reads each whole record through its value witness.
        let order = KeyOrder.sortedIndices(of: records.lazy.map { $0.key })
        let pairs = order.map { i -> (key: [UInt8], value: CID) in (records[i].key, records[i].cid) }
        for i in pairs.indices.dropFirst() where KeyOrder.compare(pairs[i - 1].key, pairs[i].key) == 0 {
            throw RepoError(.keyExists, "\(String(decoding: pairs[i].key, as: UTF8.self)) appears twice")
        }
        let mst = try MST(sortedPairs: pairs)
        let commit = try Commit.sign(did: did, data: mst.rootCID, rev: rev, key: key)
        let commitBytes = commit.encoded()
        let commitCID = CID.compute(commitBytes, codec: .dagCBOR)
        let nodes = mst.nodes()
        var car = CARWriter<[UInt8]>.encode(roots: [commitCID], blocks: [(commitCID, commitBytes)])
        var size = car.count
        for node in nodes { size += node.bytes.count + 40 }
        for record in records { size += record.bytes.count + 40 }
        car.reserveCapacity(size)
        for node in nodes { append(node.cid, node.bytes, to: &car) }
        var seen = Set<CID>(minimumCapacity: records.count)
        for i in order where seen.insert(records[i].cid).inserted { append(records[i].cid, records[i].bytes, to: &car) }
        return (commit, commitCID, car)
    }

    /// One block's section, framed through the non-generic entry point.
    private static func append(_ cid: CID, _ bytes: [UInt8], to car: inout [UInt8]) {
        cid.bytes.withUnsafeBytes { c in
            bytes.withUnsafeBytes { b in CARWriter<[UInt8]>.appendSection(cid: c, data: b, to: &car) }
        }
    }
}

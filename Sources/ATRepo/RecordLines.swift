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
        // Each worker puts its records straight into their places, so that
        // no record is copied (and retained) again to join the parts.
        var made = [Int](repeating: 0, count: workers)
        let records = [EncodedRecord](unsafeUninitializedCapacity: lines.count) { out, count in
            bytes.withUnsafeBytes { buffer in
                made.withUnsafeMutableBufferPointer { made in
                    nonisolated(unsafe) let out = out, buffer = buffer, made = made
                    let work: @Sendable (Int) -> Void = { worker in
                        let range = (worker * chunk)..<min(lines.count, (worker + 1) * chunk)
                        var state = LineState()
                        var filled = 0
                        defer { made[worker] = filled }
                        for i in range {
                            let line = lines[i]
                            do throws(DataError) {
                                let record = try self.record(UnsafeRawBufferPointer(rebasing: buffer[line.bytes]), &state)
                                (out.baseAddress! + i).initialize(to: record)
                                filled += 1
                            } catch {
                                firstFailure.withLock { first in
                                    if first == nil || first!.line > line.number { first = (line.number, error) }
                                }
                                break
                            }
                        }
                    }
                    if workers == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
                }
            }
            if made.reduce(0, +) == lines.count {
                count = lines.count
            } else {
                // A line failed: each worker filled only the start of its range.
                for worker in made.indices where made[worker] > 0 {
                    (out.baseAddress! + worker * chunk).deinitialize(count: made[worker])
                }
                count = 0
            }
        }
        if let (line, error) = firstFailure.withLock({ $0 }) { throw RecordLinesError(line: line, error: error) }
        return records
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
        while let field = try cursor.nextKey(first: &first, index: Self.field) {
            switch field {
            case 0:
                state.collection.removeAll(keepingCapacity: true)
                try cursor.readStringBytes(appendingTo: &state.collection)
                hasCollection = true
            case 1:
                state.rkey.removeAll(keepingCapacity: true)
                try cursor.readStringBytes(appendingTo: &state.rkey)
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
        // Sorted by index, so that neither comparing nor reordering moves a
        // record. The keys are taken first, each from its record in place: a
        // lazy map (or a key path) would copy each whole record to read it.
        let keys = records.map { $0.key }
        let order = KeyOrder.sortedIndices(of: keys)
        let pairs = order.map { i -> (key: [UInt8], value: CID) in (keys[i], records[i].cid) }
        for i in pairs.indices.dropFirst() where KeyOrder.compare(pairs[i - 1].key, pairs[i].key) == 0 {
            throw RepoError(.keyExists, "\(String(decoding: pairs[i].key, as: UTF8.self)) appears twice")
        }
        // Only the nodes' blocks: the tree's objects would be made only to be freed.
        let (root, nodes) = MST.nodeBlocks(sortedPairs: pairs)
        let commit = try Commit.sign(did: did, data: root, rev: rev, key: key)
        let commitBytes = commit.encoded()
        let commitCID = CID.compute(commitBytes, codec: .dagCBOR)
        let distinct = distinctRecords(records, in: order)
        let head = CARWriter<[UInt8]>.encode(roots: [commitCID], blocks: [(commitCID, commitBytes)])
        let car = assemble(head: head, count: nodes.count + distinct.count) { i, body in
            if i < nodes.count {
                body(nodes[i].cid, nodes[i].bytes)
            } else {
                let record = distinct[i - nodes.count]
                body(records[record].cid, records[record].bytes)
            }
        }
        return (commit, commitCID, car)
    }

    /// The positions in `order` of each distinct record, the first of any
    /// that repeat one before it (two paths can hold one record). A set of
    /// the CIDs' hashes, eight bytes each, finds that none repeats; only when
    /// one might do the CIDs themselves decide.
    private static func distinctRecords(_ records: [EncodedRecord], in order: [Int]) -> [Int] {
        var hashes = Set<Int>(minimumCapacity: order.count)
        guard order.contains(where: { !hashes.insert(records[$0].cid.hashValue).inserted }) else { return order }
        var seen = Set<CID>(minimumCapacity: order.count)
        return order.filter { seen.insert(records[$0].cid).inserted }
    }

    /// `head`, then the sections of `count` blocks, which `block` lends by
    /// position: sized first, then written into their places on both cores.
    private static func assemble(
        head: [UInt8], count: Int, block: @escaping @Sendable (Int, (CID, [UInt8]) -> Void) -> Void
    ) -> [UInt8] {
        var scratch = [UInt8]()
        var offsets = [Int](repeating: head.count, count: count + 1)
        for i in 0..<count {
            block(i) { cid, bytes in
                scratch.removeAll(keepingCapacity: true)
                cid.write(into: &scratch)
                let length = scratch.count + bytes.count
                offsets[i + 1] = offsets[i] + Varint.size(of: UInt64(length)) + length
            }
        }
        let total = offsets[count]
        return [UInt8](unsafeUninitializedCapacity: total) { out, initialized in
            head.withUnsafeBytes { UnsafeMutableRawBufferPointer(out).copyMemory(from: $0) }
            offsets.withUnsafeBufferPointer { offsets in
                nonisolated(unsafe) let out = out, offsets = offsets
                let halves = count < 4096 ? 1 : 2
                let write: @Sendable (Int) -> Void = { half in
                    var prefix = [UInt8](), cidBytes = [UInt8]()  // the varint and the CID
                    for i in (half * count / halves)..<((half + 1) * count / halves) {
                        block(i) { cid, bytes in
                            cidBytes.removeAll(keepingCapacity: true)
                            cid.write(into: &cidBytes)
                            prefix.removeAll(keepingCapacity: true)
                            Varint.write(UInt64(cidBytes.count + bytes.count), into: &prefix)
                            prefix += cidBytes
                            precondition(offsets[i] + prefix.count + bytes.count == offsets[i + 1], "a CAR section is not the size it was measured at")
                            let at = out.baseAddress! + offsets[i]
                            prefix.withUnsafeBufferPointer { at.initialize(from: $0.baseAddress!, count: $0.count) }
                            bytes.withUnsafeBufferPointer { data in
                                if let base = data.baseAddress { (at + prefix.count).initialize(from: base, count: data.count) }
                            }
                        }
                    }
                }
                if halves == 1 { write(0) } else { DispatchQueue.concurrentPerform(iterations: halves, execute: write) }
            }
            initialized = total
        }
    }
}

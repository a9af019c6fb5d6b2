import ATData
import ATRepo
import Testing

/// `CARBlockStore`'s index: every block found in place, the first of a
/// repeated CID kept, absent CIDs absent.
@Suite("CAR block store")
struct CARBlockStoreTests {
    @Test func everyBlockIsFoundAndTheFirstOfARepeatWins() throws {
        let blocks = (0..<5000).map { i -> (CID, [UInt8]) in
            let bytes = DAGCBOR.encode(["i": .int(Int64(i))])
            return (CID.compute(bytes), bytes)
        }
        // Every tenth block again, with other bytes under the same CID (unchecked here).
        let repeats = blocks.enumerated().filter { $0.offset % 10 == 0 }.map { ($0.element.0, [UInt8]([0xF6])) }
        let car = CARWriter<[UInt8]>.encode(roots: [blocks[0].0], blocks: blocks + repeats)
        let store = try CARBlockStore(car: car)
        #expect(store.count == blocks.count)
        #expect(store.sections == blocks.count + repeats.count)
        for (cid, bytes) in blocks {
            #expect(try store.get(cid) == bytes)
            #expect(store.contains(cid))
            #expect(try store.withBlock(cid) { Array($0) } == bytes)
        }
        for i in 5000..<5200 {
            let absent = CID.compute(DAGCBOR.encode(["i": .int(Int64(i))]))
            #expect(!store.contains(absent) && (try store.get(absent)) == nil)
        }
        #expect { try store.withBlock(CID.compute([1])) { _ in () } } throws: { ($0 as? RepoError)?.code == .missingBlock }
    }
}

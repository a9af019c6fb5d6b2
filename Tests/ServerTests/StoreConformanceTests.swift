import ATCrypto
import ATData
import ATSyntax
import Foundation
import Server
import Synchronization
import Testing

/// What every storage backend must do, checked against each of them: the
/// firehose's event log and the PLC directory's operation logs.
@Suite("Store conformance")
struct StoreConformanceTests {
    /// A frame that says its own sequence number.
    static func frame(_ seq: Int64) -> [UInt8] { DAGCBOR.encode(.map(DataMap(["seq": .int(seq)]))) }

    @Test(arguments: Backend.allCases)
    func eventsAreNumberedFromOneWithoutGaps(_ backend: Backend) async throws {
        try await TestStores.with(backend) { store in
            let did = try DID("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa")
            #expect(try await store.eventBounds() == nil)
            #expect(try await store.events(after: 0, limit: 10).isEmpty)
            for expected in Int64(1)...5 {
                let event = try await store.appendEvent(did: did) { Self.frame($0) }
                #expect(event.seq == expected && event.frame == Self.frame(expected))
            }
            let bounds = try await store.eventBounds()
            #expect(bounds?.oldest == 1 && bounds?.latest == 5)
            #expect(try await store.events(after: 0, limit: 10).map(\.seq) == [1, 2, 3, 4, 5])
            #expect(try await store.events(after: 2, limit: 2).map(\.seq) == [3, 4])
            #expect(try await store.events(after: 2, limit: 2).map(\.frame) == [Self.frame(3), Self.frame(4)])
            #expect(try await store.events(after: 5, limit: 10).isEmpty)
        }
    }

    @Test(arguments: Backend.allCases)
    func concurrentAppendsTakeEveryNumberOnce(_ backend: Backend) async throws {
        try await TestStores.with(backend) { store in
            let did = try DID("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa")
            let seqs = try await withThrowingTaskGroup(of: SequencedEvent.self) { group in
                for _ in 0..<40 { group.addTask { try await store.appendEvent(did: did) { Self.frame($0) } } }
                return try await group.reduce(into: [SequencedEvent]()) { $0.append($1) }
            }
            #expect(seqs.map(\.seq).sorted() == Array(1...40))
            #expect(seqs.allSatisfy { $0.frame == Self.frame($0.seq) })
            let stored = try await store.events(after: 0, limit: 100)
            #expect(stored.map(\.seq) == Array(1...40))
            #expect(stored.allSatisfy { $0.frame == Self.frame($0.seq) })
        }
    }

    @Test(arguments: Backend.allCases)
    func pruningKeepsTheLatestEventAndItsNumber(_ backend: Backend) async throws {
        try await TestStores.with(backend) { store in
            let did = try DID("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa")
            for _ in 0..<3 { _ = try await store.appendEvent(did: did) { Self.frame($0) } }
            try await store.pruneEvents(before: Date().addingTimeInterval(60))
            let bounds = try await store.eventBounds()
            #expect(bounds?.oldest == 3 && bounds?.latest == 3)
            // Numbering goes on from the latest, not from what is left.
            #expect(try await store.appendEvent(did: did) { Self.frame($0) }.seq == 4)
            // Events newer than the cut-off stay.
            try await store.pruneEvents(before: Date().addingTimeInterval(-60))
            #expect(try await store.events(after: 0, limit: 10).map(\.seq) == [3, 4])
        }
    }

    @Test(arguments: Backend.allCases)
    func plcLogsAppendOnlyAfterTheirLastOperation(_ backend: Backend) async throws {
        try await TestStores.with(backend) { store in
            let did = try DID("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa")
            let other = try DID("did:plc:bbbbbbbbbbbbbbbbbbbbbbbb")
            let cids = (0..<3).map { DAGCBOR.encodeWithCID(.int($0)).cid }
            #expect(try await store.operations(of: did).isEmpty)
            try await store.append(did: did, operation: Data("zero".utf8), cid: cids[0], after: nil)
            // A second first operation, or one after the wrong operation, is a conflict.
            await #expect(throws: StorageError.self) { try await store.append(did: did, operation: Data("x".utf8), cid: cids[1], after: nil) }
            await #expect(throws: StorageError.self) {
                try await store.append(did: did, operation: Data("x".utf8), cid: cids[1], after: cids[2])
            }
            try await store.append(did: did, operation: Data("one".utf8), cid: cids[1], after: cids[0])
            try await store.append(did: other, operation: Data("other".utf8), cid: cids[2], after: nil)
            #expect(try await store.operations(of: did) == [Data("zero".utf8), Data("one".utf8)])
            #expect(try await store.operations(of: other) == [Data("other".utf8)])
        }
    }

    @Test(arguments: Backend.allCases)
    func ofConcurrentAppendsAfterTheSameOperationOneWins(_ backend: Backend) async throws {
        try await TestStores.with(backend) { store in
            let did = try DID("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa")
            let first = DAGCBOR.encodeWithCID(.int(-1)).cid
            try await store.append(did: did, operation: Data("genesis".utf8), cid: first, after: nil)
            let outcomes = await withTaskGroup(of: Result<Int, StorageError>.self) { group in
                for i in 0..<8 {
                    group.addTask {
                        do {
                            try await store.append(did: did, operation: Data("op \(i)".utf8), cid: DAGCBOR.encodeWithCID(.int(Int64(i))).cid, after: first)
                            return .success(i)
                        } catch let error as StorageError {
                            return .failure(error)
                        } catch {
                            return .failure(StorageError(.io, "\(error)"))
                        }
                    }
                }
                return await group.reduce(into: [Result<Int, StorageError>]()) { $0.append($1) }
            }
            let winners = outcomes.compactMap { try? $0.get() }
            #expect(winners.count == 1)
            #expect(outcomes.allSatisfy { if case .failure(let error) = $0 { error.code == .conflict } else { true } })
            #expect(try await store.operations(of: did) == [Data("genesis".utf8), Data("op \(winners.first ?? -1)".utf8)])
        }
    }
}

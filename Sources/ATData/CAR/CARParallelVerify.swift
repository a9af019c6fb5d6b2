import Dispatch
import Foundation
import Synchronization

extension CARReader {
    /// The smallest file, in bytes past the header, worth checking on more
    /// than one thread.
    static let parallelThreshold = 256 << 10

    /// Checks every section of `buffer` from `first`, on every core, and
    /// returns them in runs, in file order.
    ///
    /// Where a section starts is known only once every earlier length prefix
    /// is read. So the file is cut into equal parts, and each part after the
    /// first starts at a guess: the first offset past the cut from which
    /// ``chainLength`` sections frame cleanly, one after another. Each
    /// worker checks its part, framing as it goes, until it lands on one of
    /// the next part's guessed section starts; from that offset on, the two
    /// walks are the same walk, so the next part's sections from there are
    /// the file's. When a walk does not land (a guess was wrong, which a
    /// file can be made to cause) or any block fails, one pass in file order
    /// checks the whole file again, so that the outcome and the error are
    /// exactly a single pass's.
    static func readAndVerify(
        _ buffer: UnsafeRawBufferPointer, from first: Int, options: CAROptions
    ) throws(DataError) -> [[CARFraming.Section]] {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let parts = buffer.count - first < parallelThreshold ? 1 : max(1, min(cores, 8))
        let step = (buffer.count - first) / parts
        return try readAndVerify(buffer, from: first, options: options, cuts: (1..<parts).map { first + $0 * step })
    }

    /// ``readAndVerify(_:from:options:)``, with the file cut at `cuts`.
    static func readAndVerify(
        _ buffer: UnsafeRawBufferPointer, from first: Int, options: CAROptions, cuts: [Int]
    ) throws(DataError) -> [[CARFraming.Section]] {
        let framing = {
            var framing = options
            framing.verifyBlocks = false
            return framing
        }()
        let atproto = options.atprotoBlocks
        var guesses = [Guess]()
        for cut in cuts {
            if let guess = Guess(buffer, after: cut, options: framing), guess.offsets[0] > (guesses.last?.offsets.last ?? first) {
                guesses.append(guess)
            }
        }
        guard !guesses.isEmpty else { return [try readInOrder(buffer, from: first, options: framing)] }

        let starts = [first] + guesses.map { $0.offsets[0] }
        let shared = Shared()
        nonisolated(unsafe) let buffer = buffer
        let work: @Sendable (Int) -> Void = { [guesses] p in
            let part = checkPart(
                buffer, from: starts[p], until: p + 1 < starts.count ? guesses[p] : nil,
                options: framing, atproto: atproto, failed: shared.failed)
            if part == nil { shared.failed.store(true, ordering: .relaxed) }
            shared.parts.withLock { $0[p] = part }
        }
        DispatchQueue.concurrentPerform(iterations: starts.count, execute: work)
        let failed = shared.failed.load(ordering: .relaxed)
        let checked = shared.parts.withLock { $0 }
        var runs = [[CARFraming.Section]]()
        var skip = 0
        for p in starts.indices {
            guard !failed, let part = checked[p], part.sections.count >= skip else {
                // A wrong guess or a bad block: one pass in order, for the exact outcome.
                return [try readInOrder(buffer, from: first, options: framing)]
            }
            runs.append(Array(part.sections[skip...]))
            skip = part.landedAt ?? 0
        }
        return runs
    }

    /// Frames every section from `first` in one pass, in order, checks each
    /// block when `checking`, and throws the first section's error.
    static func readInOrder(
        _ buffer: UnsafeRawBufferPointer, from first: Int, options: CAROptions, checking: Bool = true
    ) throws(DataError) -> [CARFraming.Section] {
        var sections = [CARFraming.Section]()
        var offset = first
        while offset < buffer.count {
            let section = try CARFraming.readSection(buffer, at: offset, index: sections.count, options: options)
            if checking {
                do {
                    try check(section, in: buffer, atproto: options.atprotoBlocks)
                } catch {
                    throw DataError(error.code, error.message, offset: offset, blockIndex: sections.count)
                }
            }
            sections.append(section)
            offset = section.end
        }
        return sections
    }

    /// How many sections in a row must frame cleanly from a guessed start.
    static let chainLength = 16

    /// A guessed section start past a cut, and the starts of the sections
    /// that follow it.
    struct Guess {
        /// The guessed starts, in order; at least one.
        let offsets: [Int]

        /// The first offset in the 64 KiB past `cut` from which
        /// ``chainLength`` sections (or all up to the end) frame cleanly.
        init?(_ buffer: UnsafeRawBufferPointer, after cut: Int, options: CAROptions) {
            for start in cut..<min(cut + (64 << 10), buffer.count) {
                var offsets = [Int]()
                var offset = start
                while offsets.count < CARReader.chainLength, offset < buffer.count {
                    guard let section = try? CARFraming.readSection(buffer, at: offset, index: 0, options: options) else { break }
                    offsets.append(offset)
                    offset = section.end
                }
                if offsets.count == CARReader.chainLength || (offset == buffer.count && !offsets.isEmpty) {
                    self.offsets = offsets
                    return
                }
            }
            return nil
        }
    }

    /// What the parts share: whether one has failed, and their outcomes.
    final class Shared: Sendable {
        let failed = Atomic<Bool>(false)
        let parts = Mutex<[Int: Part]>([:])
    }

    /// One part's checked sections, and where in the next part's guess its
    /// walk landed.
    struct Part {
        var sections: [CARFraming.Section]
        /// The index in the next part's ``Guess/offsets`` where this walk
        /// met it; `nil` for the last part.
        var landedAt: Int?
    }

    /// Checks sections from `start` until the walk lands on one of `next`'s
    /// starts (or the end of the file, for the last part). `nil` when a block
    /// fails, the walk misses `next`, or another part failed first.
    static func checkPart(
        _ buffer: UnsafeRawBufferPointer, from start: Int, until next: Guess?, options: CAROptions, atproto: Bool,
        failed: borrowing Atomic<Bool>
    ) -> Part? {
        var sections = [CARFraming.Section]()
        sections.reserveCapacity(((next?.offsets[0] ?? buffer.count) - start) / 192)
        var offset = start
        while offset < buffer.count {
            if let next, offset >= next.offsets[0] {
                if let landed = next.offsets.firstIndex(of: offset) { return Part(sections: sections, landedAt: landed) }
                if offset > next.offsets[next.offsets.count - 1] { return nil }
            }
            if sections.count & 255 == 0, failed.load(ordering: .relaxed) { return nil }
            guard let section = try? CARFraming.readSection(buffer, at: offset, index: sections.count, options: options),
                (try? check(section, in: buffer, atproto: atproto)) != nil
            else { return nil }
            sections.append(section)
            offset = section.end
        }
        return next == nil ? Part(sections: sections, landedAt: nil) : nil
    }
}

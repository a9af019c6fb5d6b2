import CResolv
import Dispatch
import Foundation

/// DNS TXT lookups, for handle resolution (`_atproto.<handle>`). Tests
/// replace the system's with their own answers.
public protocol DNSResolver: Sendable {
    /// The TXT records of `name`, each record's strings joined; empty when
    /// the name does not exist or has no TXT records.
    ///
    /// - Throws: ``BlueskyError`` of kind ``BlueskyError/Kind/timeout`` or
    ///   ``BlueskyError/Kind/transport(_:)`` when no answer could be had.
    func txt(_ name: String) async throws(BlueskyError) -> [String]
}

/// The system's resolver: glibc's stub resolver, configured by
/// `/etc/resolv.conf`. Each lookup runs off the cooperative thread pool
/// (the call blocks) and is abandoned after `timeout`.
public struct SystemDNSResolver: DNSResolver {
    /// How long a lookup may take.
    public var timeout: Duration

    /// The system resolver, waiting at most `timeout` for an answer.
    public init(timeout: Duration = .seconds(5)) {
        self.timeout = timeout
    }

    public func txt(_ name: String) async throws(BlueskyError) -> [String] {
        guard !name.isEmpty, name.utf8.count <= 253, !name.utf8.contains(0) else {
            throw BlueskyError(kind: .badRequest, detail: "'\(name)' is not a DNS name")
        }
        let outcome = await withTaskGroup(of: Result<[String], BlueskyError>?.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    DispatchQueue.global().async { continuation.resume(returning: Self.query(name)) }
                }
            }
            group.addTask { [timeout] in
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let outcome else { throw BlueskyError.transport(.timeout, "no DNS answer for \(name) within \(timeout)") }
        return try outcome.get()
    }

    /// One blocking lookup with a resolver state of its own.
    private static func query(_ name: String) -> Result<[String], BlueskyError> {
        // A zeroed `struct __res_state` of this lookup's own (`res_ninit` requires zeroed memory).
        guard let memory = calloc(1, MemoryLayout<res_state.Pointee>.size) else {
            return .failure(.transport(.connection, "no memory for a resolver"))
        }
        let state = memory.assumingMemoryBound(to: res_state.Pointee.self)
        defer { free(memory) }
        guard __res_ninit(state) == 0 else { return .failure(.transport(.connection, "the system resolver cannot start")) }
        defer { __res_nclose(state) }
        var answer = [UInt8](repeating: 0, count: 65_535)
        let length = answer.withUnsafeMutableBufferPointer { buffer in
            res_nquery(state, name, Int32(ns_c_in.rawValue), Int32(ns_t_txt.rawValue), buffer.baseAddress, Int32(buffer.count))
        }
        guard length >= 0 else {
            // NXDOMAIN and "no data" are answers: there is nothing; the rest are failures.
            switch state.pointee.res_h_errno {
            case HOST_NOT_FOUND, NO_DATA: return .success([])
            default: return .failure(.transport(.connection, "DNS lookup of \(name) failed (h_errno \(state.pointee.res_h_errno))"))
            }
        }
        do {
            return .success(try DNSMessage.txtRecords(Array(answer.prefix(Int(length)))))
        } catch {
            return .failure(error)
        }
    }
}

/// Reading DNS answers (RFC 1035): just what a TXT lookup needs.
enum DNSMessage {
    /// The TXT records in the answer section of `message`.
    ///
    /// - Throws: ``BlueskyError`` of kind ``BlueskyError/Kind/decoding`` for a
    ///   message that is cut off or malformed.
    static func txtRecords(_ message: [UInt8]) throws(BlueskyError) -> [String] {
        func fail(_ why: String) -> BlueskyError { BlueskyError(kind: .decoding, detail: "malformed DNS answer: \(why)") }
        guard message.count >= 12 else { throw fail("shorter than its header") }
        func u16(_ at: Int) throws(BlueskyError) -> Int {
            guard at + 2 <= message.count else { throw fail("cut off") }
            return Int(message[at]) << 8 | Int(message[at + 1])
        }
        let questions = try u16(4)
        let answers = try u16(6)
        var offset = 12
        /// Skips a name: labels, ending with a zero or a compression pointer.
        func skipName() throws(BlueskyError) {
            var labels = 0
            while true {
                guard offset < message.count else { throw fail("a name is cut off") }
                let length = Int(message[offset])
                if length & 0xC0 == 0xC0 {
                    offset += 2
                    return
                }
                guard length & 0xC0 == 0 else { throw fail("a label of an unknown kind") }
                offset += 1 + length
                if length == 0 { return }
                labels += 1
                guard labels <= 128 else { throw fail("a name of too many labels") }
            }
        }
        for _ in 0..<questions {
            try skipName()
            offset += 4  // type, class
        }
        var records = [String]()
        for _ in 0..<answers {
            try skipName()
            let type = try u16(offset)
            let dataLength = try u16(offset + 8)
            offset += 10
            guard offset + dataLength <= message.count else { throw fail("a record's data is cut off") }
            defer { offset += dataLength }
            guard type == 16 else { continue }  // CNAMEs and the like come first; only TXT counts
            // One or more <length><bytes> character-strings, joined.
            var text = [UInt8]()
            var at = offset
            while at < offset + dataLength {
                let count = Int(message[at])
                guard at + 1 + count <= offset + dataLength else { throw fail("a TXT string is cut off") }
                text += message[(at + 1)..<(at + 1 + count)]
                at += 1 + count
            }
            records.append(String(decoding: text, as: UTF8.self))
        }
        return records
    }
}

/// Answers from a table first, and asks `fallback` for the names it does not
/// hold: for closed networks and tests, where names such as `alice.test`
/// have no public DNS. A table from a file is read again at each lookup, so
/// that it can be edited while a server runs.
public struct TableDNSResolver: DNSResolver {
    /// Where the records come from.
    public enum Source: Sendable {
        /// These records, by lowercase name.
        case records([String: [String]])
        /// A file of `name TXT-value` lines; `#` starts a comment.
        case file(URL)
    }

    /// Where the records come from.
    public var source: Source
    /// Who answers the other names; `nil`: nobody (they have no records).
    public var fallback: (any DNSResolver)?

    /// A resolver answering `records`, then asking `fallback`.
    public init(records: [String: [String]], fallback: (any DNSResolver)? = SystemDNSResolver()) {
        self.source = .records(Dictionary(records.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: +))
        self.fallback = fallback
    }

    /// A resolver answering from `file`, then asking `fallback`.
    public init(file: URL, fallback: (any DNSResolver)? = SystemDNSResolver()) {
        self.source = .file(file)
        self.fallback = fallback
    }

    /// The records of a table file's text.
    static func parse(_ text: String) -> [String: [String]] {
        var records = [String: [String]]()
        for line in text.split(whereSeparator: \.isNewline) {
            let text = line.trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty, !text.hasPrefix("#") else { continue }
            let parts = text.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { continue }
            records[parts[0].lowercased(), default: []].append(parts[1].trimmingCharacters(in: .whitespaces))
        }
        return records
    }

    public func txt(_ name: String) async throws(BlueskyError) -> [String] {
        let records: [String: [String]]
        switch source {
        case .records(let table): records = table
        case .file(let url):
            guard let text = try? String(contentsOf: url, encoding: .utf8) else {
                throw BlueskyError.transport(.connection, "cannot read the DNS table \(url.path)")
            }
            records = Self.parse(text)
        }
        if let answer = records[name.lowercased()] { return answer }
        return try await fallback?.txt(name) ?? []
    }
}

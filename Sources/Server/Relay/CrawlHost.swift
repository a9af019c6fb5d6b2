import Foundation

/// A host named in `requestCrawl` or `notifyOfUpdate`: a DNS name or an IP
/// address, with an optional port. A scheme and a trailing slash are
/// accepted and dropped; paths, users and queries are not.
public struct CrawlHost: Sendable, Hashable, CustomStringConvertible {
    /// The host part: a lowercase DNS name, an IPv4 address, or an IPv6
    /// address without brackets.
    public let host: String
    /// The port, when one was given.
    public let port: Int?

    /// `host` or `host:port` (IPv6 in brackets): the key hosts are stored under.
    public var description: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port.map { "\(name):\($0)" } ?? name
    }

    /// Parses and validates `text`.
    ///
    /// - Throws: ``XRPCError`` `InvalidRequest` naming what is wrong.
    public init(_ text: String) throws(XRPCError) {
        // Characters first, before anything parses the text: C functions such
        // as inet_pton stop at a NUL, so "203.0.113.9\0…" would read as an address.
        guard text.utf8.count <= 300, text.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw XRPCError.invalidRequest("hostname must be printable ASCII without spaces or control characters")
        }
        var rest = text.lowercased()
        for scheme in ["https://", "http://", "wss://", "ws://"] where rest.hasPrefix(scheme) { rest.removeFirst(scheme.count) }
        if rest.hasSuffix("/") { rest.removeLast() }
        func invalid(_ why: String) -> XRPCError { XRPCError.invalidRequest("hostname \(text): \(why)") }
        guard !rest.isEmpty, rest.count <= 260 else { throw invalid("empty or too long") }
        guard !rest.contains(where: { "/?#@ \\".contains($0) }) else { throw invalid("only a host and a port are allowed") }
        var hostPart = Substring(rest), portPart: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw invalid("unclosed [") }
            hostPart = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("unexpected text after ]") }
                portPart = after.dropFirst()
            }
            guard IPAddress(v6: String(hostPart)) != nil else { throw invalid("not an IPv6 address") }
        } else if let colon = rest.lastIndex(of: ":") {
            guard rest.firstIndex(of: ":") == colon else { throw invalid("an IPv6 address needs brackets") }
            hostPart = rest[..<colon]
            portPart = rest[rest.index(after: colon)...]
        }
        if let portPart {
            guard let port = Int(portPart), (1...65535).contains(port), portPart.allSatisfy(\.isNumber) else { throw invalid("bad port") }
            self.port = port
        } else {
            self.port = nil
        }
        let name = String(hostPart)
        if IPAddress(v4: name) == nil, IPAddress(v6: name) == nil {
            let labels = name.split(separator: ".", omittingEmptySubsequences: false)
            guard name.count <= 253, labels.allSatisfy({ label in
                (1...63).contains(label.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            }) else { throw invalid("not a valid DNS name") }
            guard labels.count >= 2 || name == "localhost" else { throw invalid("a hostname needs a domain") }
            guard let last = labels.last, !last.allSatisfy(\.isNumber) else { throw invalid("not a valid IPv4 address") }
        }
        self.host = name
    }

    /// The base URL of the host: `https`, or `http` when `secure` is false.
    ///
    /// - Throws: ``XRPCError`` `InvalidRequest` if no URL can be made of it
    ///   (not expected of a validated host, but never trapped on).
    public func url(secure: Bool) throws(XRPCError) -> URL {
        guard let url = URL(string: (secure ? "https://" : "http://") + description) else {
            throw XRPCError.invalidRequest("hostname \(description) does not make a URL")
        }
        return url
    }

    /// The host of `url` (its name or address and its port).
    public init(url: URL) throws(XRPCError) {
        guard let name = url.host(percentEncoded: false), !name.isEmpty else { throw XRPCError.invalidRequest("\(url) has no host") }
        let bracketed = name.contains(":") && !name.hasPrefix("[") ? "[\(name)]" : name
        try self.init(bracketed + (url.port.map { ":\($0)" } ?? ""))
    }
}


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
        var rest = text.trimmingCharacters(in: .whitespaces).lowercased()
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
            guard !(labels.last!.allSatisfy(\.isNumber)) else { throw invalid("not a valid IPv4 address") }
        }
        self.host = name
    }

    /// The base URL of the host: `https`, or `http` when `secure` is false.
    public func url(secure: Bool) -> URL {
        URL(string: (secure ? "https://" : "http://") + description)!
    }
}

/// An IP address, for the SSRF guard.
public struct IPAddress: Sendable, Hashable {
    /// 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]

    /// Parses dotted-quad IPv4.
    public init?(v4 text: String) {
        var addr = in_addr()
        guard inet_pton(AF_INET, text, &addr) == 1 else { return nil }
        bytes = withUnsafeBytes(of: &addr) { Array($0) }
    }

    /// Parses IPv6 text.
    public init?(v6 text: String) {
        var addr = in6_addr()
        guard inet_pton(AF_INET6, text, &addr) == 1 else { return nil }
        bytes = withUnsafeBytes(of: &addr) { Array($0) }
    }

    /// The address of a `sockaddr` from the resolver.
    init?(_ address: UnsafePointer<sockaddr>) {
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            bytes = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                withUnsafeBytes(of: pointer.pointee.sin_addr) { Array($0) }
            }
        case AF_INET6:
            bytes = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
            }
        default:
            return nil
        }
    }

    /// Whether the address is not on the public internet: unspecified,
    /// loopback, private (RFC 1918, unique-local), shared (CGNAT), link-local,
    /// benchmarking, multicast or reserved — where a crawl could reach
    /// services that are not meant to be reached (SSRF).
    public var isPrivate: Bool {
        if bytes.count == 4 {
            let (a, b) = (bytes[0], bytes[1])
            return a == 0 || a == 10 || a == 127 || (a == 100 && b & 0xC0 == 64) || (a == 169 && b == 254)
                || (a == 172 && b & 0xF0 == 16) || (a == 192 && b == 168) || (a == 192 && b == 0 && bytes[2] == 0)
                || (a == 198 && b & 0xFE == 18) || a >= 224
        }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return IPAddress(unchecked: Array(bytes[12...])).isPrivate  // IPv4-mapped
        }
        let unspecifiedOrLoopback = bytes[0..<15].allSatisfy { $0 == 0 } && bytes[15] <= 1
        return unspecifiedOrLoopback || bytes[0] & 0xFE == 0xFC || (bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80) || bytes[0] == 0xFF
    }

    private init(unchecked bytes: [UInt8]) { self.bytes = bytes }
}

/// The SSRF guard: a host may be crawled when every address it resolves to
/// is public, or when the operator allows private hosts.
public struct HostPolicy: Sendable {
    /// Whether private, loopback and link-local hosts are allowed.
    public var allowPrivate: Bool
    /// Hosts (`host[:port]`) allowed even when private.
    public var trusted: Set<String>

    /// A policy.
    public init(allowPrivate: Bool, trusted: Set<String> = []) {
        self.allowPrivate = allowPrivate
        self.trusted = trusted
    }

    /// Checks `host`; returns whether it is private (and so allowed, and
    /// reached over plain HTTP).
    ///
    /// - Throws: ``XRPCError`` `InvalidRequest` when the host is private and
    ///   that is not allowed, or when its name does not resolve.
    public func check(_ host: CrawlHost) async throws(XRPCError) -> Bool {
        let name = host.host
        let privateName = name == "localhost" || [".localhost", ".local", ".internal", ".lan", ".home.arpa"].contains { name.hasSuffix($0) }
        let addresses: [IPAddress]
        if let literal = IPAddress(v4: name) ?? IPAddress(v6: name) {
            addresses = [literal]
        } else if privateName {
            addresses = []
        } else {
            addresses = await Self.resolve(name)
            guard !addresses.isEmpty else { throw XRPCError.invalidRequest("hostname \(host) does not resolve") }
        }
        let isPrivate = privateName || addresses.contains(where: \.isPrivate)
        if isPrivate && !allowPrivate && !trusted.contains(host.description) {
            throw XRPCError.invalidRequest("hostname \(host) is a private, loopback or link-local address, which this relay does not crawl")
        }
        return isPrivate
    }

    /// The addresses `name` resolves to (getaddrinfo, off the caller's thread).
    static func resolve(_ name: String) async -> [IPAddress] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var hints = addrinfo()
                hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
                var list: UnsafeMutablePointer<addrinfo>?
                guard getaddrinfo(name, nil, &hints, &list) == 0 else { return continuation.resume(returning: []) }
                defer { freeaddrinfo(list) }
                var out = [IPAddress](), next = list
                while let entry = next {
                    if let address = entry.pointee.ai_addr, let ip = IPAddress(UnsafePointer(address)) { out.append(ip) }
                    next = entry.pointee.ai_next
                }
                continuation.resume(returning: out)
            }
        }
    }
}

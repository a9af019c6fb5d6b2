import Foundation

/// An IP address, for the SSRF guard.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]

    /// Parses dotted-quad IPv4.
    public init?(v4 text: String) {
        guard !text.utf8.contains(0) else { return nil }
        var addr = in_addr()
        guard inet_pton(AF_INET, text, &addr) == 1 else { return nil }
        bytes = withUnsafeBytes(of: &addr) { Array($0) }
    }

    /// Parses IPv6 text.
    public init?(v6 text: String) {
        guard !text.utf8.contains(0) else { return nil }
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

    private init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// The address as text (`192.0.2.1`, `2001:db8::1`).
    public var description: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) } != nil
        return ok ? String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
    }

    /// Whether the address is not on the public internet: unspecified,
    /// loopback, private (RFC 1918, unique-local), shared (CGNAT), link-local,
    /// site-local, documentation, benchmarking, discard, multicast, reserved,
    /// or an IPv6 form that carries an IPv4 address (mapped, compatible,
    /// NAT64, 6to4) of any of these — where a crawl could reach services that
    /// are not meant to be reached (SSRF). Teredo and the other IETF
    /// protocol assignments in `2001::/23` count as private too.
    public var isPrivate: Bool {
        bytes.count == 4 ? Self.isPrivateV4(bytes) : isPrivateV6
    }

    private static func isPrivateV4(_ bytes: [UInt8]) -> Bool {
        let (a, b, c) = (bytes[0], bytes[1], bytes[2])
        return a == 0 || a == 10 || a == 127 || a >= 224
            || (a == 100 && b & 0xC0 == 64)  // 100.64/10, shared
            || (a == 169 && b == 254)  // link-local
            || (a == 172 && b & 0xF0 == 16)
            || (a == 192 && b == 168)
            || (a == 192 && b == 0 && (c == 0 || c == 2))  // IETF assignments, TEST-NET-1
            || (a == 192 && b == 88 && c == 99)  // 6to4 relays
            || (a == 198 && b & 0xFE == 18)  // benchmarking
            || (a == 198 && b == 51 && c == 100)  // TEST-NET-2
            || (a == 203 && b == 0 && c == 113)  // TEST-NET-3
    }

    private var isPrivateV6: Bool {
        let word = { (i: Int) in UInt16(bytes[2 * i]) << 8 | UInt16(bytes[2 * i + 1]) }
        // ::/96 (unspecified, loopback, IPv4-compatible) and ::ffff:0:0/96 (IPv4-mapped).
        if bytes[0..<10].allSatisfy({ $0 == 0 }) {
            if bytes[10] == 0xFF && bytes[11] == 0xFF { return Self.isPrivateV4(Array(bytes[12...])) }
            return true
        }
        if word(0) == 0x0064 && word(1) == 0xFF9B {
            // NAT64: the well-known prefix carries an IPv4 address; the local-use one is private.
            return word(2) != 0 || bytes[6..<12].contains { $0 != 0 } || Self.isPrivateV4(Array(bytes[12...]))
        }
        // Only 2000::/3 is global unicast; link-local, site-local, unique
        // local, multicast, discard (100::/64) and the rest are not.
        guard bytes[0] & 0xE0 == 0x20 else { return true }
        if word(0) == 0x2002 { return Self.isPrivateV4(Array(bytes[2..<6])) }  // 6to4
        return (word(0) == 0x2001 && word(1) < 0x0200)  // 2001::/23: Teredo, ORCHID, benchmarking…
            || (word(0) == 0x2001 && word(1) == 0x0DB8)  // documentation
            || word(0) & 0xFFF0 == 0x3FF0  // documentation 3fff::/20
    }
}

/// A host that passed the guard: whether it is private, and the address to
/// connect to (the one that was checked), when the name resolved to one.
public struct VettedHost: Sendable {
    /// The host.
    public let host: CrawlHost
    /// Whether it is private (and so allowed only by the operator, and reached over plain HTTP).
    public let isPrivate: Bool
    /// The checked address to connect to; `nil` for a name the resolver has
    /// no address for that the operator allows anyway (`*.local`, say).
    public let address: IPAddress?
}

/// The SSRF guard: a host may be reached when every address it resolves to
/// is public, or when the operator allows private hosts. Every outbound
/// connection is vetted anew (see ``GuardedTransport``), so a name that
/// resolves elsewhere later (DNS rebinding) is caught at that connection.
public struct HostPolicy: Sendable {
    /// Whether private, loopback and link-local hosts are allowed.
    public var allowPrivate: Bool
    /// Hosts (`host[:port]`) allowed even when private.
    public var trusted: Set<String>
    /// Resolves a name to its addresses: `getaddrinfo` unless replaced (tests).
    public var resolver: @Sendable (String) async -> [IPAddress]

    /// A policy.
    public init(allowPrivate: Bool, trusted: Set<String> = [], resolver: @escaping @Sendable (String) async -> [IPAddress] = HostPolicy.resolve) {
        self.allowPrivate = allowPrivate
        self.trusted = trusted
        self.resolver = resolver
    }

    /// Checks `host`; returns whether it is private (and so allowed, and
    /// reached over plain HTTP).
    ///
    /// - Throws: ``XRPCError`` `InvalidRequest` when the host is private and
    ///   that is not allowed, or when its name does not resolve.
    public func check(_ host: CrawlHost) async throws(XRPCError) -> Bool {
        try await vet(host).isPrivate
    }

    /// Resolves and checks `host`, returning the address to connect to.
    ///
    /// - Throws: ``XRPCError`` `InvalidRequest` as ``check(_:)`` does.
    public func vet(_ host: CrawlHost) async throws(XRPCError) -> VettedHost {
        let name = host.host
        let privateName = name == "localhost" || [".localhost", ".local", ".internal", ".lan", ".home.arpa"].contains { name.hasSuffix($0) }
        var addresses: [IPAddress]
        if let literal = IPAddress(v4: name) ?? IPAddress(v6: name) {
            addresses = [literal]
        } else {
            addresses = await resolver(name)
            guard !addresses.isEmpty || privateName else { throw XRPCError.invalidRequest("hostname \(host) does not resolve") }
        }
        let isPrivate = privateName || addresses.contains(where: \.isPrivate)
        if isPrivate && !allowPrivate && !trusted.contains(host.description) {
            throw XRPCError.invalidRequest("hostname \(host) is a private, loopback or link-local address, which is not reached from here")
        }
        addresses.sort { $0.bytes.count < $1.bytes.count }  // IPv4 first, as getaddrinfo's order is not kept by everyone
        return VettedHost(host: host, isPrivate: isPrivate, address: addresses.first)
    }

    /// The addresses `name` resolves to (getaddrinfo, off the caller's thread).
    @Sendable public static func resolve(_ name: String) async -> [IPAddress] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var hints = addrinfo()
                hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
                var list: UnsafeMutablePointer<addrinfo>?
                guard getaddrinfo(name, nil, &hints, &list) == 0 else { return continuation.resume(returning: []) }
                defer { freeaddrinfo(list) }
                var out = [IPAddress](), next = list
                while let entry = next {
                    if let address = entry.pointee.ai_addr, let ip = IPAddress(UnsafePointer(address)), !out.contains(ip) { out.append(ip) }
                    next = entry.pointee.ai_next
                }
                continuation.resume(returning: out)
            }
        }
    }
}

/// The elliptic curves atproto signs with.
public enum Curve: String, Sendable, Hashable, CaseIterable {
    /// secp256k1, "K-256", JWT algorithm `ES256K`.
    case k256
    /// NIST P-256 (secp256r1), JWT algorithm `ES256`.
    case p256

    /// The JWT algorithm name.
    public var jwtAlgorithm: String {
        switch self {
        case .k256: "ES256K"
        case .p256: "ES256"
        }
    }

    /// The multicodec code of a public key on this curve.
    var publicMulticodec: UInt64 {
        switch self {
        case .k256: 0xE7
        case .p256: 0x1200
        }
    }

    /// The multicodec code of a private key on this curve.
    var privateMulticodec: UInt64 {
        switch self {
        case .k256: 0x1301
        case .p256: 0x1306
        }
    }

    /// The group order n, big-endian.
    var order: [UInt8] {
        switch self {
        case .k256: Scalar.k256Order
        case .p256: Scalar.p256Order
        }
    }
}

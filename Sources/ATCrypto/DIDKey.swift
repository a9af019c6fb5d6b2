import ATData

/// The `did:key` and Multikey text forms: base58btc, with a multicodec prefix
/// that names the key type.
enum DIDKey {
    static func encode(code: UInt64, bytes: [UInt8]) -> String {
        var prefixed = [UInt8]()
        Varint.write(code, into: &prefixed)
        return Multibase.encode(prefixed + bytes, as: .base58btc)
    }

    static func decode(_ text: String) throws(CryptoError) -> (code: UInt64, bytes: [UInt8]) {
        let body = text.hasPrefix("did:key:") ? String(text.dropFirst(8)) : text
        guard body.hasPrefix("z") else {
            throw CryptoError(.invalidDIDKey, "a did:key must be base58btc ('z…')")
        }
        let bytes: [UInt8]
        do {
            bytes = try Multibase.decode(body)
        } catch {
            throw CryptoError(.invalidDIDKey, "not base58btc: \(error.message)")
        }
        var offset = 0
        guard let code = bytes.withUnsafeBytes({ raw in try? Varint.read(raw, at: &offset) }) else {
            throw CryptoError(.invalidDIDKey, "no multicodec prefix")
        }
        return (code, Array(bytes[offset...]))
    }
}

import ATData
import Foundation

extension LexValue {
    /// Decodes DAG-CBOR. With `validating`, the lexicon's constraints are checked too.
    public init(cbor bytes: some ContiguousBytes, validating: Bool = true) throws(LexError) {
        let result: Result<Self, LexError> = bytes.withUnsafeBytes { buffer in
            var decoder = LexCBORDecoder(buffer, validating: validating)
            do throws(LexError) {
                let value = try Self(decoding: &decoder)
                try decoder.expectEnd()
                return .success(value)
            } catch { return .failure(error) }
        }
        self = try result.get()
    }

    /// Decodes atproto JSON. With `validating`, the lexicon's constraints are checked too.
    public init(json bytes: some ContiguousBytes, validating: Bool = true) throws(LexError) {
        let result: Result<Self, LexError> = bytes.withUnsafeBytes { buffer in
            var decoder = LexJSONDecoder(buffer, validating: validating)
            do throws(LexError) {
                let value = try Self(decoding: &decoder)
                try decoder.expectEnd()
                return .success(value)
            } catch { return .failure(error) }
        }
        self = try result.get()
    }

    /// Decodes a value of the data model.
    public init(_ value: DataValue, validating: Bool = true) throws(LexError) {
        try self.init(cbor: DAGCBOR.encode(value), validating: validating)
    }

    /// The value as canonical DAG-CBOR.
    public func cbor() -> [UInt8] {
        var encoder = LexCBOREncoder()
        encode(into: &encoder)
        return encoder.bytes
    }

    /// The value as compact atproto JSON.
    public func json() -> [UInt8] {
        var encoder = LexJSONEncoder()
        encode(into: &encoder)
        return encoder.bytes
    }

    /// The value in the data model.
    public var dataValue: DataValue {
        // Encoding is canonical, so reading it back cannot fail.
        (try? DAGCBOR.decode(cbor())) ?? .null
    }
}

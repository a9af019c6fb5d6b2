import ATData

/// Checks one record's DAG-CBOR against its generated type: whether the type
/// is known, whether it is valid, and whether it encodes back to the same bytes.
public struct RecordCheck: Sendable, Hashable {
    /// The record's `$type`, if it has one.
    public var type: String?
    /// Whether a generated type exists for `type`.
    public var isKnownType: Bool
    /// Why the record is invalid: the strict decode's error, with its path.
    public var invalidReason: LexError?
    /// Whether decoding and encoding gave the same bytes; `nil` for unknown
    /// types, and for records whose shape the type cannot hold at all (a
    /// string where the lexicon has an object, say), which are invalid.
    public var roundTrips: Bool?
    /// Why the record could not be decoded at all, when it could not.
    public var decodeError: LexError?

    /// Whether the record is valid; `nil` for unknown types.
    public var isValid: Bool? { isKnownType ? invalidReason == nil : nil }

    /// Checks `bytes`, one record block.
    public init(cbor bytes: [UInt8]) {
        let peeked: Result<String?, LexError> = bytes.withUnsafeBytes { buffer in
            var decoder = LexCBORDecoder(buffer, validating: false)
            do throws(LexError) { return .success(try decoder.peekType()) } catch { return .failure(error) }
        }
        switch peeked {
        case .failure(let error):
            self.init(type: nil, isKnownType: false, invalidReason: nil, roundTrips: nil, decodeError: error)
        case .success(let type):
            guard let type, let recordType = LexiconIndex.records[type] else {
                self.init(type: type, isKnownType: false, invalidReason: nil, roundTrips: nil, decodeError: nil)
                return
            }
            self = Self.check(bytes, as: recordType, type: type)
        }
    }

    private init(type: String?, isKnownType: Bool, invalidReason: LexError?, roundTrips: Bool?, decodeError: LexError?) {
        self.type = type
        self.isKnownType = isKnownType
        self.invalidReason = invalidReason
        self.roundTrips = roundTrips
        self.decodeError = decodeError
    }

    private static func check<R: LexRecord>(_ bytes: [UInt8], as recordType: R.Type, type: String) -> RecordCheck {
        var invalid: LexError? = nil
        do throws(LexError) { _ = try R(cbor: bytes, validating: true) } catch { invalid = error }
        do throws(LexError) {
            let record = try R(cbor: bytes, validating: false)
            return RecordCheck(type: type, isKnownType: true, invalidReason: invalid, roundTrips: record.cbor() == bytes, decodeError: nil)
        } catch {
            return RecordCheck(type: type, isKnownType: true, invalidReason: invalid ?? error, roundTrips: nil, decodeError: error)
        }
    }
}

import ATData

/// Reads lexicon values from DAG-CBOR or atproto JSON. Generated types decode
/// through it, field by field, with no intermediate value tree.
public protocol LexDecoder {
    /// The state of one open map.
    associatedtype MapState
    /// The state of one open array.
    associatedtype ArrayState

    /// Whether lexicon constraints (lengths, graphemes, ranges, enums, blob
    /// limits) are checked. Shapes, required fields and formats always are.
    var validating: Bool { get }

    /// Opens a map.
    mutating func beginMap() throws(LexError) -> MapState
    /// The next key of an open map, or `nil` once it is done.
    mutating func nextKey(_ state: inout MapState) throws(LexError) -> String?
    /// Opens an array.
    mutating func beginArray() throws(LexError) -> ArrayState
    /// Whether another element of an open array follows.
    mutating func nextElement(_ state: inout ArrayState) throws(LexError) -> Bool
    /// Consumes a `null` if one is next.
    mutating func decodeNull() throws(LexError) -> Bool
    /// Reads a string.
    mutating func decodeString() throws(LexError) -> String
    /// Reads an integer.
    mutating func decodeInt() throws(LexError) -> Int64
    /// Reads a boolean.
    mutating func decodeBool() throws(LexError) -> Bool
    /// Reads bytes (`{"$bytes": …}` in JSON).
    mutating func decodeBytes() throws(LexError) -> [UInt8]
    /// Reads a CID link (`{"$link": …}` in JSON).
    mutating func decodeLink() throws(LexError) -> CID
    /// Reads any value into the data model.
    mutating func decodeValue() throws(LexError) -> DataValue
    /// The `$type` of the map that comes next, without consuming anything.
    mutating func peekType() throws(LexError) -> String?
}

/// Writes lexicon values as DAG-CBOR or atproto JSON.
///
/// Maps take the number of known fields present and the unknown fields kept
/// from decoding; the DAG-CBOR encoder interleaves them in canonical key order,
/// so a decoded value encodes back to the same bytes.
public protocol LexEncoder {
    /// The state of one open map.
    associatedtype MapState

    /// Opens a map with `known` known fields (in canonical key order, as
    /// ``key(_:_:)`` will be called) and the unknown fields `extra`. An entry
    /// of `extra` with the same key as a known field written is not written.
    mutating func beginMap(known: Int, extra: DataMap) -> MapState
    /// Starts the known field `key`.
    mutating func key(_ key: String, _ state: inout MapState)
    /// Closes a map.
    mutating func endMap(_ state: inout MapState)
    /// Opens an array of `count` elements.
    mutating func beginArray(count: Int)
    /// Separates array elements; call before each.
    mutating func element(_ index: Int)
    /// Closes an array.
    mutating func endArray()
    mutating func encodeNull()
    mutating func encodeString(_ value: String)
    mutating func encodeInt(_ value: Int64)
    mutating func encodeBool(_ value: Bool)
    mutating func encodeBytes(_ value: [UInt8])
    mutating func encodeLink(_ value: CID)
    mutating func encodeValue(_ value: DataValue)
}

/// A value that a lexicon defines: it decodes and encodes itself directly.
///
/// The generic requirements compose values inside one another; the concrete
/// ones are the entry points, so that a whole value is read or written by
/// code specialised for its format.
public protocol LexValue: Sendable, Hashable {
    /// Reads the value.
    init<D: LexDecoder>(from decoder: inout D) throws(LexError)
    /// Writes the value.
    func encode<E: LexEncoder>(to encoder: inout E)
    /// Reads the value from DAG-CBOR.
    init(decoding decoder: inout LexCBORDecoder) throws(LexError)
    /// Reads the value from JSON.
    init(decoding decoder: inout LexJSONDecoder) throws(LexError)
    /// Writes the value as DAG-CBOR.
    func encode(into encoder: inout LexCBOREncoder)
    /// Writes the value as JSON.
    func encode(into encoder: inout LexJSONEncoder)
}

/// An object definition: a map with known fields and the unknown fields kept.
public protocol LexObject: LexValue {
    /// The lexicon reference of the definition, `nsid` or `nsid#name`.
    static var lexiconID: String { get }
    /// Fields the lexicon does not name, kept from decoding and written back.
    var extra: DataMap { get set }
    /// Writes the object, adding `$type` as `type` unless `extra` has one.
    func encode<E: LexEncoder>(to encoder: inout E, type: String?)
}

extension LexObject {
    public func encode<E: LexEncoder>(to encoder: inout E) { encode(to: &encoder, type: nil) }
}

/// A record type: the main definition of a `record` lexicon.
public protocol LexRecord: LexObject {
    /// The record's collection NSID.
    static var nsid: String { get }
}

extension LexRecord {
    public static var lexiconID: String { nsid }
}

/// Boxes a value so that a struct can hold a field of its own type.
public final class LexBox<Value: Sendable & Hashable>: Sendable, Hashable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
    public static func == (a: LexBox, b: LexBox) -> Bool { a.value == b.value }
    public func hash(into hasher: inout Hasher) { hasher.combine(value) }
}

/// A field that the lexicon marks `nullable`: present as `null`, or a value.
public enum LexNullable<Value: Sendable & Hashable>: Sendable, Hashable {
    case null
    case value(Value)

    /// The value, or `nil` when it is `null`.
    public var wrapped: Value? { if case .value(let v) = self { v } else { nil } }
}

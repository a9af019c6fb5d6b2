import ATData
import ATSyntax
import Foundation
import Hummingbird
import HummingbirdCore

/// One fuzz input, split at its first zero byte (or used whole for both
/// parts when it has none): the part before is a query string, parsed as
/// Hummingbird parses a request's URI, each value fed to the typed parsers
/// the XRPC handlers use; the part after is a JSON request body in the
/// atproto data model. Errors must be typed; nothing may trap.
func fuzzOne(_ input: UnsafeRawBufferPointer) {
    let bytes = [UInt8](input)
    let query: ArraySlice<UInt8>, body: ArraySlice<UInt8>
    if let zero = bytes.firstIndex(of: 0) {
        (query, body) = (bytes[..<zero], bytes[(zero + 1)...])
    } else {
        (query, body) = (bytes[...], bytes[...])
    }
    fuzzQuery(String(decoding: query, as: UTF8.self))
    fuzzBody(Data(body))
}

/// The parameter names the server reads, so that `get` and `getAll` are
/// exercised on names that can match.
let parameterNames = [
    "did", "repo", "handle", "collection", "rkey", "since", "cursor", "cid", "cids", "limit", "uri", "actor", "rev",
]

/// Parses `query` as the query of an XRPC request and every value with every
/// parser; a value that parses must parse to the same value from its
/// canonical form.
func fuzzQuery(_ query: String) {
    let parameters = URI("/xrpc/com.example.fuzz?" + query).queryParameters
    for name in parameterNames {
        if let value = parameters.get(name) { parseParameter(value) }
        for value in parameters.getAll(name) { parseParameter(value) }
    }
    for (_, value) in parameters { parseParameter(String(value)) }
}

/// Runs `value` through each typed parser the XRPC handlers apply to parameters.
func parseParameter(_ value: String) {
    roundTrip(DID.self, value)
    roundTrip(Handle.self, value)
    roundTrip(NSID.self, value)
    roundTrip(RecordKey.self, value)
    roundTrip(TID.self, value)
    roundTrip(ATURI.self, value)
    roundTrip(ATIdentifier.self, value)
    roundTrip(Datetime.self, value)
    if let cid = try? CID(value) {
        guard let again = try? CID(cid.description), again == cid, again.bytes == cid.bytes else {
            fatalError("CID \(value.debugDescription) does not round-trip through \(cid.description)")
        }
    }
    _ = Int(value)
}

/// Parses `value` as `T` (the parsers throw only `SyntaxError`); when it
/// parses, its canonical form must parse to the same value.
func roundTrip<T: SyntaxValue>(_ type: T.Type, _ value: String) {
    guard let parsed = try? T(value) else { return }
    guard let again = try? T(parsed.description), again == parsed else {
        fatalError("\(T.self) \(value.debugDescription) does not round-trip through \(parsed.description.debugDescription)")
    }
}

/// Parses `body` as an XRPC JSON input; a document that parses must
/// re-encode to JSON that parses to the same value, and survive a DAG-CBOR
/// round trip (handlers store records as DAG-CBOR).
func fuzzBody(_ body: Data) {
    guard let value = try? DataValue(json: body) else { return }
    let json = value.jsonData()
    let again: DataValue
    do {
        again = try DataValue(json: json)
    } catch {
        fatalError("re-encoded JSON does not parse (\(error.message)): \(String(decoding: json, as: UTF8.self))")
    }
    guard again == value else {
        fatalError("re-encoded JSON parses to a different value: \(String(decoding: json, as: UTF8.self))")
    }
    let cbor = DAGCBOR.encode(value)
    guard let decoded = try? DAGCBOR.decode(cbor), decoded == value else {
        fatalError("a JSON input does not survive a DAG-CBOR round trip: \(String(decoding: json, as: UTF8.self))")
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEntry(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    fuzzOne(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
#else
import FuzzSupport

@main enum Replay { static func main() throws { try replayMain(fuzzOne) } }
#endif

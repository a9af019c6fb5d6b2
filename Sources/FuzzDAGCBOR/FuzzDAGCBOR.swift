import ATData

/// One fuzz input: the strict decoder either rejects it with a typed error or
/// accepts it, and then canonical encoding must give back the very same bytes.
/// Validation without building values must reach the same verdict.
func fuzzOne(_ input: UnsafeRawBufferPointer) {
    let decoded = Result { () throws(DataError) in try DAGCBOR.decode(input) }
    let validated = Result { () throws(DataError) in try DAGCBOR.validate(input) }
    switch (decoded, validated) {
    case (.success(let value), .success):
        let again = DAGCBOR.encode(value)
        precondition(again.elementsEqual(input), "accepted input does not re-encode to itself")
    case (.failure(let a), .failure(let b)):
        precondition(a.code == b.code, "decode says \(a.code), validate says \(b.code)")
    default:
        preconditionFailure("decode and validate disagree on whether the input is valid")
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

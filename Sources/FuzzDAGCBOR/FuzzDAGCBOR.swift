import ATData

/// One fuzz input: the strict decoder either rejects it with a typed error or
/// accepts it, and then canonical encoding must give back the very same bytes.
func fuzzOne(_ input: UnsafeRawBufferPointer) {
    guard let value = try? DAGCBOR.decode(input) else { return }
    let again = DAGCBOR.encode(value)
    precondition(again.elementsEqual(input), "accepted input does not re-encode to itself")
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

import ATData

/// One fuzz input as a CAR file: read it with CID checks, and again without
/// them, decoding every block as DAG-CBOR. Errors must be typed; nothing may trap.
func fuzzOne(_ input: UnsafeRawBufferPointer) {
    let bytes = [UInt8](input)
    if let reader = try? CARReader(bytes) {
        _ = try? reader.blocks()
    }
    if let reader = try? CARReader(bytes, options: CAROptions(verifyBlocks: false)) {
        _ = try? reader.forEachBlock { _, data throws(DataError) in
            _ = try? DAGCBOR.decode(data)
        }
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

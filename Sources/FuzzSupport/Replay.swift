import Foundation

/// Runs `body` over each file named in `paths`, descending into directories.
public func replayInputs(_ paths: some Sequence<String>, _ body: (UnsafeRawBufferPointer) -> Void) throws -> Int {
    var count = 0
    for path in paths {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
        let files = isDirectory.boolValue
            ? try FileManager.default.contentsOfDirectory(atPath: path).map { path + "/" + $0 }
            : [path]
        for file in files {
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            data.withUnsafeBytes { body($0) }
            count += 1
        }
    }
    return count
}

/// The entry point of a fuzz target built without libFuzzer: replays the
/// inputs named on the command line.
public func replayMain(_ body: (UnsafeRawBufferPointer) -> Void) throws {
    let count = try replayInputs(CommandLine.arguments.dropFirst(), body)
    print("replayed \(count) inputs")
}

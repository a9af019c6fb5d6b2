import ATData
import ATSyntax
import Foundation

/// How far a download has come.
public struct DownloadProgress: Sendable, Hashable {
    /// Bytes received and written.
    public var bytes: Int
    /// Blocks received and checked against their CIDs.
    public var blocks: Int
}

/// A finished repository download.
public struct RepoDownload: Sendable, Hashable {
    /// The CAR's roots: the commit.
    public var roots: [CID]
    /// The number of blocks, each checked against its CID.
    public var blocks: Int
    /// The file's size.
    public var bytes: Int
}

extension Bluesky.Sync {
    /// `com.atproto.sync.getRepo` into a file: the bytes are written exactly as
    /// served, while every block is checked against its CID on the way.
    ///
    /// - Parameter progress: called after each block.
    /// - Throws: ``BlueskyError`` for the call, `DataError` for a malformed
    ///   CAR or a block that does not match its CID, and file errors. A failed
    ///   download removes the partial file.
    public func downloadRepo(
        did: DID, since: TID? = nil, to file: URL, options: CallOptions = .init(),
        progress: (DownloadProgress) -> Void = { _ in }
    ) async throws -> RepoDownload {
        var call = XRPCCall.query("com.atproto.sync.getRepo", [("did", did.description), ("since", since?.description)])
        call.accept = "application/vnd.ipld.car"
        let response = try await client.open(call, options: options)
        guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path])
        }
        let handle = try FileHandle(forWritingTo: file)
        do {
            var reader = CARStreamReader(TeeBody(body: response.body, handle: handle))
            let header = try await reader.header()
            while try await reader.next() != nil {
                progress(DownloadProgress(bytes: reader.byteCount, blocks: reader.blockCount))
            }
            try handle.close()
            return RepoDownload(roots: header.roots, blocks: reader.blockCount, bytes: reader.byteCount)
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: file)
            throw error
        }
    }
}

/// A response body that writes each chunk to a file as it passes.
struct TeeBody: AsyncSequence {
    typealias Element = [UInt8]
    let body: ResponseBody
    let handle: FileHandle

    func makeAsyncIterator() -> Iterator { Iterator(inner: body.makeAsyncIterator(), handle: handle) }

    struct Iterator: AsyncIteratorProtocol {
        var inner: ResponseBody.Iterator
        let handle: FileHandle

        mutating func next() async throws -> [UInt8]? { try await next(isolation: nil) }

        mutating func next(isolation actor: isolated (any Actor)?) async throws -> [UInt8]? {
            guard let chunk = try await inner.next(isolation: actor) else { return nil }
            try handle.write(contentsOf: chunk)
            return chunk
        }
    }
}

import ATSyntax
import ATData
import Foundation
import Hummingbird
import NIOCore

extension Response {
    /// A 200 response with `value` as atproto JSON.
    static func json(_ value: DataValue, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: .ok, headers: fields, body: .init(byteBuffer: ByteBuffer(data: value.jsonData())))
    }

    /// A 200 response with no body.
    static var empty: Response { Response(status: .ok) }

    /// A 200 CAR response with `roots`, streamed: `produce` writes the blocks
    /// into the CAR writer it is given, which hands the response ~64 KiB at a time.
    static func car(
        roots: [CID], _ produce: @escaping @Sendable (inout CARWriter<ResponseSink>) async throws -> Void
    ) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/vnd.ipld.car"],
            body: ResponseBody { writer in
                var car = CARWriter(roots: roots, sink: ResponseSink(writer: writer))
                try await produce(&car)
                let sink = try await car.finish()
                try await sink.writer.finish(nil)
            })
    }
}

extension Response {
    /// A repository export (`getRepo`): the blocks stream from a snapshot in
    /// batches, so memory stays flat and commits landing meanwhile do not
    /// change what is sent. All blocks, or those written after `since`. The
    /// export takes a permit of `gate` for the caller's address, returned
    /// with the snapshot when the export ends, sent or not.
    static func repoExport(_ snapshot: any RepoSnapshot, since: TID?, gate: ExportGate, address: String) throws(XRPCError) -> Response {
        do {
            try gate.enter(address)
        } catch {
            snapshot.close()
            throw error
        }
        return .car(roots: [snapshot.root.commit]) { car in
            defer {
                snapshot.close()
                gate.release(address)
            }
            // Batches of at most 4,096 blocks and 256 KiB: what a connection holds while its peer reads.
            try await snapshot.forEachSectionChunk(since: since, batchSize: 4096, maxBytes: 256 << 10) { chunk in
                try await car.write(framedSections: chunk)
            }
        }
    }
}

/// A CAR byte sink that writes into a streamed response.
struct ResponseSink: CARByteSink {
    var writer: any ResponseBodyWriter

    mutating func write(_ bytes: [UInt8]) async throws {
        try await writer.write(ByteBuffer(bytes: bytes))
    }
}

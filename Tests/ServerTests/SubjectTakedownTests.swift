import ATData
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
@testable import Server
import Testing

/// Takedowns of one record or one blob by the operator, in process: the
/// subject is no longer served, its status says so, and lifting the
/// takedown serves it again.
@Suite("Accounts: record and blob takedowns")
struct SubjectTakedownTests: InProcessPDS {
    let admin = "Basic " + Data("admin:pw-admin".utf8).base64EncodedString()

    @Test func aRecordAndABlobAreTakenDownAndRestored() async throws {
        let (app, _) = try await app()
        try await app.test(.router) { client in
            let (did, auth) = try await newAccount(client, "modded.test")
            let (uploaded, blob) = try await client.execute(
                uri: "/xrpc/com.atproto.repo.uploadBlob", method: .post, headers: [.contentType: "text/plain", .authorization: auth],
                body: ByteBuffer(string: "some words")
            ) { ($0.status.code, try DataValue(json: Data(buffer: $0.body))) }
            #expect(uploaded == 200)
            let cid = try #require(blob["blob"]?["ref"]?.linkValue?.description)
            let (_, written) = try await post(client, "com.atproto.repo.createRecord", [
                "repo": .string(did), "collection": "app.bsky.feed.post",
                "record": ["$type": "app.bsky.feed.post", "text": "flagged", "createdAt": "2026-11-30T00:00:00Z"],
            ], auth: auth)
            let uri = try #require(written?["uri"]?.stringValue)
            let recordCID = try #require(written?["cid"]?.stringValue)
            let rkey = String(uri.split(separator: "/").last!)
            let recordPaths = ["/xrpc/com.atproto.repo.getRecord?repo=\(did)&collection=app.bsky.feed.post&rkey=\(rkey)",
                               "/xrpc/com.atproto.sync.getRecord?did=\(did)&collection=app.bsky.feed.post&rkey=\(rkey)"]
            let blobPath = "/xrpc/com.atproto.sync.getBlob?did=\(did)&cid=\(cid)"
            for path in recordPaths + [blobPath] { #expect(try await get(client, path).0 == 200, "\(path)") }

            // Without the admin password: refused.
            let strongRef: DataValue = ["$type": "com.atproto.repo.strongRef", "uri": .string(uri), "cid": .string(recordCID)]
            #expect(try await post(client, "com.atproto.admin.updateSubjectStatus", ["subject": strongRef, "takedown": ["applied": true]]).0 == 401)

            let blobRef: DataValue = ["$type": "com.atproto.admin.defs#repoBlobRef", "did": .string(did), "cid": .string(cid)]
            for subject in [strongRef, blobRef] {
                let (code, _) = try await post(client, "com.atproto.admin.updateSubjectStatus",
                    ["subject": subject, "takedown": ["applied": true, "ref": "mod-7"]], auth: admin)
                #expect(code == 200)
            }
            for path in recordPaths {
                let (code, body) = try await get(client, path)
                #expect(code == 400 && body?["error"] == "RecordNotFound", "\(path)")
            }
            let (blobCode, blobBody) = try await get(client, blobPath)
            #expect(blobCode == 400 && blobBody?["error"] == "BlobNotFound")
            let (_, recordStatus) = try await get(client, "/xrpc/com.atproto.admin.getSubjectStatus?uri=\(uri)", auth: admin)
            #expect(recordStatus?["takedown"]?["applied"] == true && recordStatus?["takedown"]?["ref"] == "mod-7")
            #expect(recordStatus?["subject"]?["cid"]?.stringValue == recordCID)
            let (_, blobStatus) = try await get(client, "/xrpc/com.atproto.admin.getSubjectStatus?did=\(did)&blob=\(cid)", auth: admin)
            #expect(blobStatus?["takedown"]?["applied"] == true)
            // The account itself is untouched.
            #expect(try await get(client, "/xrpc/com.atproto.sync.getRepoStatus?did=\(did)").1?["active"] == true)

            for subject in [strongRef, blobRef] {
                #expect(try await post(client, "com.atproto.admin.updateSubjectStatus", ["subject": subject, "takedown": ["applied": false]], auth: admin).0 == 200)
            }
            for path in recordPaths + [blobPath] { #expect(try await get(client, path).0 == 200, "\(path)") }
            #expect(try await get(client, "/xrpc/com.atproto.admin.getSubjectStatus?uri=\(uri)", auth: admin).1?["takedown"]?["applied"] == false)
            // A subject that is not here.
            let (missing, _) = try await get(client, "/xrpc/com.atproto.admin.getSubjectStatus?uri=at://\(did)/app.bsky.feed.post/nothere", auth: admin)
            #expect(missing == 400)
        }
    }
}

import ATProtoAPI
import ATSyntax
import Bluesky
import Foundation
import HTTPTypes
import Testing
import TestSupport

/// The PDS in front of an AppView: a stand-in service (Python, with its own
/// `did:web`) checks every proxied call's service-auth token with the Python
/// atproto SDK's verifier, and the Python SDK's client works through
/// `bsky serve --appview-url … --appview-did …` as a Bluesky app would.
@Suite("PDS: the AppView proxy", .serialized)
struct AppViewProxyTests {
    struct Call: Decodable {
        var method: String
        var verified: Bool
        var iss: String?
        var aud: String?
        var labelers: String?
        var language: String?
        var bytes: Int
        var reason: String?
    }

    static func calls(_ appview: PeerServer) async throws -> [Call] {
        let url = try #require(URL(string: appview["url"] + "/calls"))
        let response = try await AsyncHTTPClientTransport().send(HTTPRequest(method: .get, url: url), body: nil, timeout: .seconds(30))
        return try JSONDecoder().decode([Call].self, from: Data(try await response.body.collect(upTo: 1 << 20)))
    }

    @Test func thePythonSDKWorksThroughTheProxyWithItsDefaults() async throws {
        let appview = try PeerServer(script: "appview_standin.py")
        defer { appview.stop() }
        // The stand-in resolves DIDs with the PDS's PLC directory; loopback
        // services are allowed so that atproto-proxy can name the stand-in.
        let serve = try ServeProcess(arguments: ["--appview-url", appview["url"], "--appview-did", appview["did"], "--proxy-allow-private"])
        defer { serve.kill() }
        #expect(try appview.tell(serve.url.absoluteString) == #"{"plc": "ready"}"#)

        let handle = "app\(UInt32.random(in: 0..<UInt32.max)).test"
        let account = try await Bluesky(serverURL: serve.url).server.createAccount(handle: try Handle(handle), password: "pw-python")
        let python = try Tools.python.get()
        let script = Tools.scriptURL("interop/python_sdk_appview.py")
        let result = try Processes.run(python, [script.path, serve.url.absoluteString, handle, "pw-python", appview["did"]])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])

        // login() fetched the profile through the proxy.
        #expect(report["did"] as? String == account.did.description)
        #expect(report["me_handle"] as? String == handle)
        #expect(report["me_display_name"] as? String == "Stand-in view of \(handle)")
        // The PNG is stored as image/png, so the image embed and the avatar are accepted.
        #expect(report["image_mime"] as? String == "image/png")
        #expect(report["image_size"] as? Int == report["png_size"] as? Int)
        #expect(report["avatar_mime"] as? String == "image/png")
        #expect(report["profile_status"] as? String == "valid")
        #expect(report["timeline"] as? Int == 0)
        #expect(report["preferences"] as? [String] == ["app.bsky.actor.defs#adultContentPref", "app.bsky.actor.defs#savedFeedsPrefV2"])
        #expect(report["proxied_profile_did"] as? String == account.did.description)

        // Every call the stand-in got carried a token its verifier accepted:
        // issued by the account, for the stand-in, for the method called.
        let calls = try await Self.calls(appview)
        #expect(calls.allSatisfy { $0.verified }, "\(calls.filter { !$0.verified })")
        #expect(calls.allSatisfy { $0.iss == account.did.description && $0.aud == appview["did"] })
        let methods = calls.map(\.method)
        #expect(methods.filter { $0 == "app.bsky.actor.getProfile" }.count == 2)
        #expect(methods.contains("app.bsky.feed.getTimeline"))
        // Preferences are the PDS's own: they never reach the AppView.
        #expect(!methods.contains { $0.contains("Preferences") })
        // The explicit atproto-proxy call (through the stand-in's DID document) passed atproto-accept-labelers on.
        #expect(calls.contains { $0.labelers == "did:plc:labelerone;redact" }, "\(calls.map(\.labelers))")
    }

    @Test func theSDKReachesTheAppViewAndSeesItsAnswerAsItIs() async throws {
        let appview = try PeerServer(script: "appview_standin.py")
        defer { appview.stop() }
        let serve = try ServeProcess(arguments: ["--appview-url", appview["url"], "--appview-did", appview["did"], "--proxy-timeout", "2"])
        defer { serve.kill() }
        #expect(try appview.tell(serve.url.absoluteString) == #"{"plc": "ready"}"#)
        let created = try await Bluesky(serverURL: serve.url).server.createAccount(handle: try Handle("sw\(UInt16.random(in: 0...9999)).test"), password: "pw")
        let client = Bluesky(serverURL: serve.url, bearer: .token(created.accessJwt), retryConfig: .none, timeout: .seconds(30))

        // Typed, through the generated SDK; the configured AppView by default…
        let profile = try await client.app.bsky.actor.getProfile(actor: .did(created.did))
        #expect(profile.handle.description == created.handle.description)
        // …and by an explicit header naming it.
        var named = HTTPFields()
        named[HTTPField.Name("atproto-proxy")!] = appview["did"] + "#bsky_appview"
        _ = try await client.app.bsky.feed.getTimeline(options: CallOptions(headers: named))
        // The service's own error comes back with its status and name.
        await #expect {
            _ = try await client.app.bsky.feed.getAuthorFeed(actor: .did(created.did))
        } throws: { error in
            (error as? BlueskyError)?.status == 501 && (error as? BlueskyError)?.name == "MethodNotImplemented"
        }
        // Without this server's permission, a service on a loopback address is refused.
        var other = HTTPFields()
        other[HTTPField.Name("atproto-proxy")!] = appview["did"] + "#standin_other"
        await #expect {
            _ = try await client.app.bsky.actor.getProfile(actor: .did(created.did), options: CallOptions(headers: other))
        } throws: { error in
            (error as? BlueskyError)?.status == 400
        }
        // A header naming no service, or a service the document lacks.
        for header in ["did:web:nowhere.invalid", appview["did"] + "#no_such_service", "not a did#x"] {
            var bad = HTTPFields()
            bad[HTTPField.Name("atproto-proxy")!] = header
            await #expect(throws: BlueskyError.self, "\(header)") {
                _ = try await client.app.bsky.actor.getProfile(actor: .did(created.did), options: CallOptions(headers: bad))
            }
        }
        // Unauthenticated calls are not proxied.
        await #expect {
            _ = try await Bluesky(serverURL: serve.url, retryConfig: .none).app.bsky.actor.getProfile(actor: .did(created.did))
        } throws: { error in
            (error as? BlueskyError)?.status == 401
        }
        // Raw: the headers that pass each way, and a body larger than any JSON
        // body the PDS reads itself, streamed on to the service.
        var request = HTTPRequest(method: .get, url: URL(string: serve.url.absoluteString + "/xrpc/app.bsky.actor.getProfile?actor=\(created.did)")!)
        request.headerFields[.authorization] = "Bearer " + created.accessJwt
        request.headerFields[.acceptLanguage] = "pt-BR"
        let raw = try await AsyncHTTPClientTransport().send(request, body: nil, timeout: .seconds(30))
        #expect(raw.head.status.code == 200)
        #expect(raw.head.headerFields[.contentLanguage] == "en")
        #expect(raw.head.headerFields[HTTPField.Name("atproto-content-labelers")!] == "did:plc:standinlabeler")
        var post = HTTPRequest(method: .post, url: URL(string: serve.url.absoluteString + "/xrpc/app.bsky.feed.sendInteractions")!)
        post.headerFields[.authorization] = "Bearer " + created.accessJwt
        post.headerFields[.contentType] = "application/octet-stream"
        let large = [UInt8](repeating: 0x61, count: 3 << 20)
        let posted = try await AsyncHTTPClientTransport().send(post, body: large, timeout: .seconds(30))
        #expect(posted.head.status.code == 501)

        // A service that does not answer in time: 504, not a hung call.
        var slow = HTTPRequest(method: .get, url: URL(string: serve.url.absoluteString + "/xrpc/app.bsky.unspecced.standinSlow")!)
        slow.headerFields[.authorization] = "Bearer " + created.accessJwt
        let timedOut = try await AsyncHTTPClientTransport().send(slow, body: nil, timeout: .seconds(30))
        #expect(timedOut.head.status.code == 504)

        let calls = try await Self.calls(appview)
        #expect(calls.count == 6 && calls.allSatisfy { $0.verified }, "\(calls)")
        #expect(calls.contains { $0.method == "app.bsky.actor.getProfile" && $0.language == "pt-BR" })
        #expect(calls.contains { $0.method == "app.bsky.feed.sendInteractions" && $0.bytes == large.count })
    }

    @Test func withoutAnAppViewTheErrorNamesTheOption() async throws {
        let serve = try ServeProcess()
        defer { serve.kill() }
        let created = try await Bluesky(serverURL: serve.url).server.createAccount(handle: try Handle("nv\(UInt16.random(in: 0...9999)).test"), password: "pw")
        let client = Bluesky(serverURL: serve.url, bearer: .token(created.accessJwt), retryConfig: .none)
        do {
            _ = try await client.app.bsky.feed.getTimeline()
            Issue.record("answered without an AppView")
        } catch {
            #expect(error.status == 501 && error.name == "MethodNotImplemented")
            #expect((error.body?.message ?? "").contains("--appview-url"), "\(error)")
        }
        // Preferences do not need one.
        try await client.app.bsky.actor.putPreferences(preferences: [.adultContentPref(.init(enabled: false))])
        #expect(try await client.app.bsky.actor.getPreferences().preferences.count == 1)
    }
}

import ATSyntax
import Bluesky
import Foundation
import HTTPTypes
import Testing

@Suite("Sessions")
struct SessionTests {
    static func session(_ access: String, _ refresh: String) -> String {
        #"{"accessJwt":"\#(access)","refreshJwt":"\#(refresh)","handle":"alice.test","did":"did:plc:alice"}"#
    }
    let status = reply(200, #"{"handle":"alice.test","did":"did:plc:alice"}"#)
    let expired = reply(400, #"{"error":"ExpiredToken","message":"Token has expired"}"#)

    @Test func refreshesOnExpiredTokenAndRepeatsTheCall() async throws {
        let transport = ScriptedTransport([reply(200, Self.session("a1", "r1")), expired, reply(200, Self.session("a2", "r2")), status])
        let stored = StoredTokens()
        let session = try await Session.login(client(transport), identifier: "alice.test", password: "pw") { await stored.set($0) }
        let me = try await session.client.server.getSession()
        #expect(me.did.description == "did:plc:alice")
        let sent = transport.requests.map { "\($0.request.path ?? "") \($0.request.headerFields[.authorization] ?? "-")" }
        #expect(sent == [
            "/xrpc/com.atproto.server.createSession -",
            "/xrpc/com.atproto.server.getSession Bearer a1",
            "/xrpc/com.atproto.server.refreshSession Bearer r1",
            "/xrpc/com.atproto.server.getSession Bearer a2",
        ])
        #expect(await session.info.accessJwt == "a2")
        #expect(await stored.values.map(\.accessJwt) == ["a1", "a2"])
    }

    @Test func aFailedRefreshSurfacesItsError() async throws {
        let transport = ScriptedTransport([expired, reply(400, #"{"error":"ExpiredToken","message":"refresh token expired"}"#)])
        let session = Session(resuming: try JSONDecoder().decode(SessionInfo.self, from: Data(Self.session("a1", "r1").utf8)), base: client(transport))
        let error = await #expect(throws: BlueskyError.self) { try await session.client.server.getSession() }
        #expect(error?.kind == .xrpc(.expiredToken))
        #expect(error?.message == "refresh token expired")
        #expect(transport.requests.count == 2)
    }

    @Test func otherErrorsDoNotRefresh() async throws {
        let transport = ScriptedTransport([reply(400, #"{"error":"InvalidToken"}"#)])
        let session = Session(resuming: SessionInfo(accessJwt: "a", refreshJwt: "r", handle: "alice.test", did: try DID("did:plc:alice")), base: client(transport))
        let error = await #expect(throws: BlueskyError.self) { try await session.client.server.getSession() }
        #expect(error?.kind == .xrpc(.invalidToken))
        #expect(transport.requests.count == 1)
    }

    @Test func concurrentExpiriesShareOneRefresh() async throws {
        // Every request with the old token expires; the refresh answers once.
        let refreshes = Counter()
        let transport = ScriptedTransport(fallback: { request, body throws(BlueskyError) in
            switch (request.path ?? "", request.headerFields[.authorization] ?? "") {
            case ("/xrpc/com.atproto.server.refreshSession", _):
                _ = refreshes.next()
                return try reply(200, SessionTests.session("new", "r2"))(request, body)
            case (_, "Bearer old"): return try reply(400, #"{"error":"ExpiredToken"}"#)(request, body)
            default: return try reply(200, #"{"handle":"alice.test","did":"did:plc:alice"}"#)(request, body)
            }
        })
        let session = Session(resuming: SessionInfo(accessJwt: "old", refreshJwt: "r1", handle: "alice.test", did: try DID("did:plc:alice")), base: client(transport))
        let bluesky = session.client
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 { group.addTask { _ = try await bluesky.server.getSession() } }
            try await group.waitForAll()
        }
        #expect(refreshes.next() - 1 == 1)
    }
}

actor StoredTokens {
    var values = [SessionInfo]()
    func set(_ info: SessionInfo) { values.append(info) }
}

import ATSyntax
import Bluesky
import Foundation
import HTTPTypes
import Testing

@Suite("Error mapping")
struct ErrorMappingTests {
    static let table: [(statuses: [Int], kind: BlueskyError.Kind)] = [
        ([401], .authenticationRequired),
        ([403, 407, 511], .unauthorized),
        ([404, 501, 505], .notFound),
        ([408, 504], .timeout),
        ([413, 414, 415, 422, 431, 510], .badRequest),
        ([429], .rateLimited),
        ([500, 502, 503, 506, 507, 508], .internalServerError),
        ([402, 405, 409, 410, 418, 499, 509, 599], .apiError),
    ]

    @Test(arguments: table)
    func statusMapsToKind(statuses: [Int], kind: BlueskyError.Kind) async throws {
        for status in statuses {
            let transport = ScriptedTransport([reply(status, #"{"error":"Whatever","message":"said the server"}"#, headers: ["X-Trace": "abc"])])
            let error = await #expect(throws: BlueskyError.self) {
                try await client(transport).sync.getLatestCommit(did: try DID("did:plc:abc"))
            }
            #expect(error?.kind == kind, "status \(status)")
            #expect(error?.status == status)
            #expect(error?.body == XRPCErrorBody(error: "Whatever", message: "said the server"))
            #expect(error?.headers[HTTPField.Name("X-Trace")!] == "abc")
            #expect(error?.rawBody == Array(#"{"error":"Whatever","message":"said the server"}"#.utf8))
        }
    }

    @Test(arguments: [
        "RepoNotFound", "RepoTakendown", "RepoSuspended", "RepoDeactivated", "InvalidSwap", "ExpiredToken", "InvalidToken",
        "InvalidRequest", "SomethingNew",
    ])
    func badRequestKeepsTheLexiconName(name: String) async throws {
        let transport = ScriptedTransport([reply(400, #"{"error":"\#(name)","message":"no"}"#)])
        let error = await #expect(throws: BlueskyError.self) {
            try await client(transport).sync.getRepo(did: try DID("did:plc:abc"))
        }
        #expect(error?.kind == .xrpc(XRPCErrorName(rawValue: name)))
        #expect(error?.name == name)
        #expect(error?.message == "no")
    }

    @Test func namedConstantsMatchTheSeedNames() {
        #expect(BlueskyError.Kind(status: 400, errorName: "RepoNotFound") == .xrpc(.repoNotFound))
        #expect(BlueskyError.Kind(status: 400, errorName: "RepoTakendown") == .xrpc(.repoTakendown))
        #expect(BlueskyError.Kind(status: 400, errorName: "RepoSuspended") == .xrpc(.repoSuspended))
        #expect(BlueskyError.Kind(status: 400, errorName: "RepoDeactivated") == .xrpc(.repoDeactivated))
        #expect(BlueskyError.Kind(status: 400, errorName: "InvalidSwap") == .xrpc(.invalidSwap))
        #expect(BlueskyError.Kind(status: 400, errorName: "ExpiredToken") == .xrpc(.expiredToken))
        #expect(BlueskyError.Kind(status: 400, errorName: "InvalidToken") == .xrpc(.invalidToken))
        #expect(BlueskyError.Kind(status: 400, errorName: nil) == .xrpc(.invalidRequest))
        #expect(BlueskyError.Kind(status: 400, errorName: "") == .xrpc(.invalidRequest))
    }

    @Test func nonJSONErrorBodiesAreKeptRaw() async throws {
        let transport = ScriptedTransport([reply(502, "<html>Bad Gateway</html>", headers: ["Content-Type": "text/html"])])
        let error = await #expect(throws: BlueskyError.self) {
            try await client(transport).sync.notifyOfUpdate(hostname: "pds.example")
        }
        #expect(error?.kind == .internalServerError)
        #expect(error?.body == nil)
        #expect(error?.rawBody == Array("<html>Bad Gateway</html>".utf8))
        #expect(error?.name == "InternalServerError")
        #expect(error?.message.contains("Bad Gateway") == true)
    }

    @Test func transportFailuresAreTyped() async throws {
        for failure in [BlueskyError.TransportFailure.connection, .timeout, .cancelled] {
            let error = await #expect(throws: BlueskyError.self) {
                try await client(ScriptedTransport([fail(failure)])).sync.getRepoStatus(did: try DID("did:plc:abc"))
            }
            #expect(error?.kind == .transport(failure))
            #expect(error?.status == nil)
        }
    }

    @Test func undecodableOutputIsADecodingError() async throws {
        let transport = ScriptedTransport([reply(200, #"{"cid":"not a cid","rev":"3jzfcijpj2z2a"}"#)])
        let error = await #expect(throws: BlueskyError.self) {
            try await client(transport).sync.getLatestCommit(did: try DID("did:plc:abc"))
        }
        #expect(error?.kind == .decoding)
        #expect(error?.status == 200)
        #expect(error?.message.contains("com.atproto.sync.getLatestCommit") == true)
    }

    @Test func rateLimitHeadersAreParsed() async throws {
        let transport = ScriptedTransport([
            reply(
                429, #"{"error":"RateLimitExceeded","message":"slow down"}"#,
                headers: [
                    "RateLimit-Limit": "3000", "RateLimit-Remaining": "0", "RateLimit-Reset": "1800000100",
                    "RateLimit-Policy": "3000;w=300", "Retry-After": "42",
                ])
        ])
        let error = await #expect(throws: BlueskyError.self) {
            try await client(transport).sync.getRepoStatus(did: try DID("did:plc:abc"))
        }
        #expect(error?.kind == .rateLimited)
        #expect(error?.rateLimit == RateLimit(limit: 3000, remaining: 0, reset: .date(Date(timeIntervalSince1970: 1_800_000_100)), policy: "3000;w=300"))
        #expect(error?.retryAfter == .seconds(42))
    }
}

@Suite("Retry-After and RateLimit-Reset")
struct RetryHeaderTests {
    @Test func retryAfterSeconds() {
        #expect(RetryAfter(headerValue: "120") == .seconds(120))
        #expect(RetryAfter(headerValue: " 0 ") == .seconds(0))
        #expect(RetryAfter(headerValue: "-5") == nil)
        #expect(RetryAfter(headerValue: "soon") == nil)
        #expect(RetryAfter(headerValue: "") == nil)
    }

    @Test func retryAfterHTTPDates() throws {
        let expected = Date(timeIntervalSince1970: 1_445_412_480)  // Wed, 21 Oct 2015 07:28:00 GMT
        #expect(RetryAfter(headerValue: "Wed, 21 Oct 2015 07:28:00 GMT") == .date(expected))
        #expect(RetryAfter(headerValue: "Wednesday, 21-Oct-15 07:28:00 GMT") == .date(expected))
        #expect(RetryAfter(headerValue: "Wed Oct 21 07:28:00 2015") == .date(expected))
        let after = try #require(RetryAfter(headerValue: "Wed, 21 Oct 2015 07:28:00 GMT"))
        #expect(after.delay(from: expected.addingTimeInterval(-30)) == .seconds(30))
        #expect(after.delay(from: expected.addingTimeInterval(30)) == .zero)
    }

    @Test func rateLimitResetAsTimestampOrDelta() throws {
        var fields = HTTPFields()
        fields[HTTPField.Name("RateLimit-Reset")!] = "1800000060"
        let absolute = try #require(RateLimit(fields))
        #expect(absolute.reset == .date(Date(timeIntervalSince1970: 1_800_000_060)))
        #expect(absolute.reset?.delay(from: Date(timeIntervalSince1970: 1_800_000_000)) == .seconds(60))
        fields[HTTPField.Name("RateLimit-Reset")!] = "17"
        #expect(RateLimit(fields)?.reset == .seconds(17))
        #expect(RateLimit(HTTPFields()) == nil)
        fields[HTTPField.Name("RateLimit-Reset")!] = "later"
        #expect(RateLimit(fields) == nil)
    }
}

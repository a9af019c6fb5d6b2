import ATCrypto
import ATSyntax
import Bluesky
import Foundation
import Synchronization
import Testing

/// Service-auth tokens: minted with either curve, and every check of the
/// verifier, each shown to refuse what it should.
@Suite("Service auth")
struct ServiceAuthTests {
    static let alice = try! DID("did:plc:ewvi7nxzyoun6zhxrhs64oiz")
    static let appview = "did:web:appview.test#bsky_appview"
    static let timeline = try! NSID("app.bsky.feed.getTimeline")
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    final class Lookups: Sendable {
        let fresh = Mutex<[Bool]>([])
    }

    func verifier(_ keys: [any PublicKey], lookups: Lookups? = nil) -> ServiceAuthVerifier {
        // The first lookup answers the first key (a cache); a fresh one the last (the current key).
        ServiceAuthVerifier(audience: Self.appview) { did, fresh in
            lookups?.fresh.withLock { $0.append(fresh) }
            guard did == Self.alice else { throw ServiceAuthError(.unknownIssuer, "who?") }
            return fresh ? keys.last! : keys.first!
        }
    }

    @Test(arguments: Curve.allCases)
    func mintedTokensVerify(_ curve: Curve) async throws {
        let key = try Keys.generate(curve)
        let token = try ServiceAuth.mint(issuer: Self.alice, audience: Self.appview, method: Self.timeline, key: key, now: Self.now)
        let decoded = try ServiceAuth.decode(token)
        #expect(decoded.algorithm == curve.jwtAlgorithm)
        #expect(decoded.type == "JWT")
        #expect(decoded.claims.expires == Int(Self.now.timeIntervalSince1970) + 60)
        #expect(decoded.claims.issuedAt == Int(Self.now.timeIntervalSince1970))
        #expect(decoded.claims.nonce?.count == 32)
        let claims = try await verifier([key.publicKey]).verify(token, method: Self.timeline, now: Self.now)
        #expect(claims.issuerDID == Self.alice && claims.method == Self.timeline.description && claims.audience == Self.appview)
    }

    @Test func mintingBoundsTheLifetime() throws {
        let key = try Keys.generate(.k256)
        func mint(_ seconds: TimeInterval, _ method: NSID?) throws -> String {
            try ServiceAuth.mint(issuer: Self.alice, audience: Self.appview, method: method, key: key, expires: Self.now + seconds, now: Self.now)
        }
        #expect(throws: ServiceAuthError(.badExpiration, "the expiry is in the past")) { try mint(-1, Self.timeline) }
        #expect(throws: ServiceAuthError.self) { try mint(3601, Self.timeline) }
        #expect(throws: ServiceAuthError.self) { try mint(61, nil) }
        _ = try mint(3600, Self.timeline)
        _ = try mint(60, nil)
    }

    @Test func eachCheckRefusesWhatItShould() async throws {
        let key = try Keys.generate(.k256)
        let other = try Keys.generate(.k256)
        let p256 = try Keys.generate(.p256)
        func token(audience: String = Self.appview, method: NSID? = Self.timeline, key signer: any PrivateKey = key, issuer: DID = Self.alice) throws -> String {
            try ServiceAuth.mint(issuer: issuer, audience: audience, method: method, key: signer, now: Self.now)
        }
        func reason(_ token: String, method: NSID? = Self.timeline, at time: Date = Self.now, keys: [any PublicKey]? = nil) async -> ServiceAuthError.Reason? {
            do {
                _ = try await verifier(keys ?? [key.publicKey]).verify(token, method: method, now: time)
                return nil
            } catch let error as ServiceAuthError {
                return error.reason
            } catch {
                return nil
            }
        }
        #expect(await reason(try token()) == nil)
        #expect(await reason(try token(audience: "did:web:elsewhere.test")) == .badAudience)
        #expect(await reason(try token(), method: try NSID("app.bsky.actor.getProfile")) == .badMethod)
        #expect(await reason(try token(method: nil), method: Self.timeline) == .badMethod)
        #expect(await reason(try token(method: nil), method: nil) == nil)
        #expect(await reason(try token(), at: Self.now + 120) == .expired)
        #expect(await reason(try token(key: other)) == .badSignature)
        #expect(await reason(try token(key: p256)) == .badAlgorithm)
        #expect(await reason(try token(issuer: try DID("did:plc:someoneelse234567abcdefg"))) == .unknownIssuer)
        #expect(await reason("not.a.jwt") == .malformed)
        #expect(await reason("a.b") == .malformed)
        // A payload changed after signing.
        let parts = try token().split(separator: ".").map(String.init)
        let forged = try ServiceAuth.mint(issuer: Self.alice, audience: Self.appview, method: try NSID("com.atproto.repo.createRecord"), key: other, now: Self.now)
        #expect(await reason(parts[0] + "." + forged.split(separator: ".")[1] + "." + parts[2], method: nil) == .badSignature)
        // An access token's type is refused whatever it carries.
        let header = Data(#"{"typ":"at+jwt","alg":"ES256K"}"#.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
        #expect(await reason(header + "." + parts[1] + "." + parts[2]) == .badAlgorithm)
    }

    @Test func aTokenIsUsedOnceAndARotatedKeyIsLookedUpAfresh() async throws {
        let old = try Keys.generate(.k256)
        let current = try Keys.generate(.k256)
        let lookups = Lookups()
        let verifier = verifier([old.publicKey, current.publicKey], lookups: lookups)
        let token = try ServiceAuth.mint(issuer: Self.alice, audience: Self.appview, method: Self.timeline, key: current, now: Self.now)
        _ = try await verifier.verify(token, method: Self.timeline, now: Self.now)
        #expect(lookups.fresh.withLock { $0 } == [false, true])
        await #expect(throws: ServiceAuthError(.replayed, "the token was used before")) {
            _ = try await verifier.verify(token, method: Self.timeline, now: Self.now)
        }
    }
}

import ATSyntax
import Foundation
import Server
import Testing

/// What every backend's ``AccountStore`` must do, checked against each.
@Suite("Account store conformance")
struct AccountStoreConformanceTests {
    let alice = try! DID("did:plc:aliceaaaaaaaaaaaaaaaaaaa")
    let bob = try! DID("did:plc:bobbbbbbbbbbbbbbbbbbbbbb")

    /// An account created at a whole second, which every backend keeps exactly.
    func account(_ did: DID, _ handle: String, email: String? = nil) throws -> AccountRecord {
        AccountRecord(did: did, handle: try Handle(handle), email: email, passwordHash: "hash-\(handle)", createdAt: Date(timeIntervalSince1970: 1_700_000_000))
    }

    @Test(arguments: Backend.allCases)
    func accountsAreUniqueByDIDHandleAndEmail(_ backend: Backend) async throws {
        try await TestStores.with(backend) { store in
            let record = try account(alice, "alice.test", email: "Alice@Example.com")
            try await store.createAccount(record)
            #expect(try await store.account(did: alice) == record)
            #expect(try await store.account(handle: try Handle("alice.test")) == record)
            #expect(try await store.account(email: "alice@example.COM") == record)
            #expect(try await store.account(did: bob) == nil)
            #expect(try await store.account(email: "bob@example.com") == nil)
            for taken in [
                try account(alice, "other.test"), try account(bob, "alice.test"), try account(bob, "bob.test", email: "alice@example.com"),
            ] {
                let error = await #expect(throws: StorageError.self) { try await store.createAccount(taken) }
                #expect(error?.code == .conflict)
            }
            try await store.createAccount(try account(bob, "bob.test"))
            let error = await #expect(throws: StorageError.self) { try await store.updateHandle(did: bob, handle: try Handle("alice.test")) }
            #expect(error?.code == .conflict)
            try await store.updateHandle(did: bob, handle: try Handle("robert.test"))
            #expect(try await store.account(handle: try Handle("robert.test"))?.did == bob)
            #expect(try await store.account(handle: try Handle("bob.test")) == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func statusPasswordAndEmailChangesAreKept(_ backend: Backend) async throws {
        try await TestStores.with(backend) { store in
            try await store.createAccount(try account(alice, "alice.test", email: "a@example.com"))
            let when = Date(timeIntervalSince1970: 1_700_000_100)
            try await store.setDeactivated(did: alice, at: when)
            try await store.setTakedown(did: alice, ref: "mod-1")
            try await store.setPasswordHash("new-hash", did: alice)
            try await store.setEmail("new@example.com", confirmedAt: when, did: alice)
            var stored = try #require(try await store.account(did: alice))
            #expect(stored.deactivatedAt == when && stored.takedownRef == "mod-1" && stored.status == "takendown")
            #expect(stored.passwordHash == "new-hash" && stored.email == "new@example.com" && stored.emailConfirmedAt == when)
            // No email: only the confirmation changes.
            try await store.setEmail(nil, confirmedAt: nil, did: alice)
            try await store.setDeactivated(did: alice, at: nil)
            try await store.setTakedown(did: alice, ref: nil)
            stored = try #require(try await store.account(did: alice))
            #expect(stored.email == "new@example.com" && stored.emailConfirmedAt == nil && stored.isActive)
            // Another account's email, in any case, is taken.
            try await store.createAccount(try account(bob, "bob.test", email: "b@example.com"))
            let error = await #expect(throws: StorageError.self) { try await store.setEmail("B@Example.COM", confirmedAt: nil, did: alice) }
            #expect(error?.code == .conflict)
            #expect(try await store.account(did: alice)?.email == "new@example.com")
        }
    }

    @Test(arguments: Backend.allCases)
    func refreshTokensAndInviteCodesAreUsedOnce(_ backend: Backend) async throws {
        try await TestStores.with(backend) { store in
            try await store.createAccount(try account(alice, "alice.test"))
            try await store.storeRefreshToken(id: "t1", did: alice, expiresAt: Date(timeIntervalSinceNow: 60), appPassword: nil)
            try await store.storeRefreshToken(id: "t2", did: alice, expiresAt: Date(timeIntervalSinceNow: 60), appPassword: "phone")
            #expect(try await store.consumeRefreshToken(id: "t1") == .some(nil))
            #expect(try await store.consumeRefreshToken(id: "t1") == nil)
            #expect(try await store.consumeRefreshToken(id: "t2") == .some("phone"))
            #expect(try await store.consumeRefreshToken(id: "never") == nil)
            // Of sessions racing to refresh with one token, one wins.
            try await store.storeRefreshToken(id: "t3", did: alice, expiresAt: Date(timeIntervalSinceNow: 60), appPassword: nil)
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<6 { group.addTask { try await store.consumeRefreshToken(id: "t3") != nil } }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1)
            try await store.createInviteCode("code", uses: 2)
            #expect(try await store.useInviteCode("code"))
            #expect(try await store.useInviteCode("code"))
            #expect(try await !store.useInviteCode("code"))
            #expect(try await !store.useInviteCode("unknown"))
        }
    }

    @Test(arguments: Backend.allCases)
    func appPasswordsEndTheirSessionsWhenRemoved(_ backend: Backend) async throws {
        try await TestStores.with(backend) { store in
            try await store.createAccount(try account(alice, "alice.test"))
            let made = Date(timeIntervalSince1970: 1_700_000_200)
            let phone = AppPasswordRecord(did: alice, name: "phone", passwordHash: "p", privileged: true, createdAt: made)
            let laptop = AppPasswordRecord(did: alice, name: "laptop", passwordHash: "l", privileged: false, createdAt: made)
            try await store.createAppPassword(phone)
            try await store.createAppPassword(laptop)
            let error = await #expect(throws: StorageError.self) { try await store.createAppPassword(phone) }
            #expect(error?.code == .conflict)
            #expect(try await store.appPasswords(did: alice) == [laptop, phone])
            try await store.storeRefreshToken(id: "phone-session", did: alice, expiresAt: Date(timeIntervalSinceNow: 60), appPassword: "phone")
            try await store.storeRefreshToken(id: "own-session", did: alice, expiresAt: Date(timeIntervalSinceNow: 60), appPassword: nil)
            #expect(try await store.deleteAppPassword(did: alice, name: "phone"))
            #expect(try await !store.deleteAppPassword(did: alice, name: "phone"))
            #expect(try await store.consumeRefreshToken(id: "phone-session") == nil)
            #expect(try await store.consumeRefreshToken(id: "own-session") == .some(nil))
            #expect(try await store.appPasswords(did: alice) == [laptop])
        }
    }

    @Test(arguments: Backend.allCases)
    func emailTokensWorkOnceBeforeTheyExpire(_ backend: Backend) async throws {
        try await TestStores.with(backend) { store in
            try await store.createAccount(try account(alice, "alice.test"))
            let now = Date(timeIntervalSince1970: 1_700_000_000)
            try await store.storeEmailToken("first", purpose: "delete_account", did: alice, expiresAt: now.addingTimeInterval(600))
            // A second token for the same purpose replaces the first.
            try await store.storeEmailToken("second", purpose: "delete_account", did: alice, expiresAt: now.addingTimeInterval(600))
            #expect(try await !store.consumeEmailToken("first", purpose: "delete_account", did: alice, now: now))
            #expect(try await !store.consumeEmailToken("second", purpose: "confirm_email", did: alice, now: now))
            #expect(try await !store.consumeEmailToken("second", purpose: "delete_account", did: alice, now: now.addingTimeInterval(601)))
            #expect(try await store.consumeEmailToken("second", purpose: "delete_account", did: alice, now: now))
            #expect(try await !store.consumeEmailToken("second", purpose: "delete_account", did: alice, now: now))
            // Found by the token alone (a password reset names no account).
            try await store.storeEmailToken("reset", purpose: "reset_password", did: alice, expiresAt: now.addingTimeInterval(600))
            #expect(try await store.consumeEmailToken("reset", purpose: "reset_password", now: now.addingTimeInterval(700)) == nil)
            try await store.storeEmailToken("reset", purpose: "reset_password", did: alice, expiresAt: now.addingTimeInterval(600))
            #expect(try await store.consumeEmailToken("reset", purpose: "reset_password", now: now) == alice)
            #expect(try await store.consumeEmailToken("reset", purpose: "reset_password", now: now) == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func preferencesAndTakedownsAreKeptPerAccount(_ backend: Backend) async throws {
        try await TestStores.with(backend) { store in
            try await store.createAccount(try account(alice, "alice.test"))
            try await store.createAccount(try account(bob, "bob.test"))
            #expect(try await store.preferences(did: alice) == nil)
            try await store.setPreferences(Array(#"{"preferences":[]}"#.utf8), did: alice)
            try await store.setPreferences(Array(#"{"preferences":[1]}"#.utf8), did: alice)
            #expect(try await store.preferences(did: alice) == Array(#"{"preferences":[1]}"#.utf8))
            #expect(try await store.preferences(did: bob) == nil)
            let uri = "at://\(alice)/app.bsky.feed.post/3jzfcijpj2z2a"
            try await store.setTakedown(did: alice, subject: uri, ref: "mod-1")
            try await store.setTakedown(did: alice, subject: uri, ref: "mod-2")
            #expect(try await store.takedown(did: alice, subject: uri) == "mod-2")
            #expect(try await store.takedown(did: bob, subject: uri) == nil)
            try await store.setTakedown(did: alice, subject: uri, ref: nil)
            #expect(try await store.takedown(did: alice, subject: uri) == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func deletingAnAccountRemovesWhatItAloneHolds(_ backend: Backend) async throws {
        try await TestStores.with(backend) { store in
            try await store.createAccount(try account(alice, "alice.test", email: "a@example.com"))
            try await store.createAccount(try account(bob, "bob.test"))
            try await store.storeRefreshToken(id: "alice-session", did: alice, expiresAt: Date(timeIntervalSinceNow: 60), appPassword: nil)
            try await store.storeRefreshToken(id: "bob-session", did: bob, expiresAt: Date(timeIntervalSinceNow: 60), appPassword: nil)
            try await store.createAppPassword(AppPasswordRecord(did: alice, name: "phone", passwordHash: "p", privileged: false, createdAt: Date()))
            try await store.setPreferences(Array("{}".utf8), did: alice)
            try await store.setTakedown(did: alice, subject: "at://\(alice)/app.bsky.feed.post/3jzfcijpj2z2a", ref: "mod")
            try await store.storeEmailToken("tok", purpose: "delete_account", did: alice, expiresAt: Date(timeIntervalSinceNow: 60))
            try await store.deleteAccount(did: alice)
            #expect(try await store.account(did: alice) == nil)
            #expect(try await store.consumeRefreshToken(id: "alice-session") == nil)
            #expect(try await store.appPasswords(did: alice).isEmpty)
            #expect(try await store.preferences(did: alice) == nil)
            #expect(try await store.takedown(did: alice, subject: "at://\(alice)/app.bsky.feed.post/3jzfcijpj2z2a") == nil)
            #expect(try await !store.consumeEmailToken("tok", purpose: "delete_account", did: alice, now: Date()))
            // Bob's are untouched, and the handle and email are free again.
            #expect(try await store.consumeRefreshToken(id: "bob-session") == .some(nil))
            try await store.createAccount(try account(alice, "alice.test", email: "a@example.com"))
        }
    }
}

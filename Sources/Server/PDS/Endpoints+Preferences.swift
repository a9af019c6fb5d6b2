import ATData
import ATProtoAPI
import ATSyntax
import Foundation

private typealias Actor = App.Bsky.Actor

extension PDS {
    /// `app.bsky.actor.getPreferences` and `putPreferences`: the PDS keeps
    /// each account's preferences itself, as the reference PDS does, rather
    /// than asking the AppView.
    func registerPreferenceMethods(_ methods: inout XRPCMethods) {
        let writes = config.writeLimit.map { ("writes", $0) }
        methods.query(Actor.GetPreferences.nsid) { [self] call in
            let did = try await authenticate(call)
            guard let stored = try await accounts.preferences(did: did) else { return .lex(Actor.GetPreferences.Output(preferences: [])) }
            // Stored as validated; read back without validation so that what
            // was kept is returned as it was, whatever the lexicon says now.
            return .lex(try Actor.GetPreferences.Output(json: stored, validating: false))
        }
        methods.procedure(Actor.PutPreferences.nsid, limit: writes) { [self] call in
            let did = try await authenticate(call)
            let input = try await call.input(Actor.PutPreferences.Input.self, limit: config.maxJSONBody)
            for preference in input.preferences {
                guard let type = preference.typeName else { throw XRPCError.invalidRequest("Preference is missing a $type") }
                guard type.hasPrefix("app.bsky.") else {
                    throw XRPCError.invalidRequest("Some preferences are not in the app.bsky namespace: \(type)")
                }
            }
            // Kept as `getPreferences` answers: the preferences, and no other field of the input.
            let preferences = try Actor.GetPreferences.Output(json: input.json(), validating: false).preferences
            try await accounts.setPreferences(Actor.GetPreferences.Output(preferences: preferences).json(), did: did)
            return .empty
        }
    }
}

import ArgumentParser
import ATSyntax
import Bluesky
import Foundation

/// `bsky identity …`: handles and DIDs.
struct IdentityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identity",
        abstract: "Handles and DIDs (com.atproto.identity, resolved as the identity spec says).",
        subcommands: [Resolve.self]
    )

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resolve",
            abstract: "Resolve a handle or a DID: its DID, handle (checked both ways), PDS and signing key.",
            discussion: """
                Handles resolve through DNS (_atproto.<handle> TXT), then https://<handle>/.well-known/atproto-did; \
                $BSKY_DNS_TXT_FILE names a file of `name TXT-value` lines answered before DNS. \
                Exits 1 when the handle does not check out.
                """)

        @Argument(help: "A handle or a DID.") var identifier: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let identifier = try parseValue(ATIdentifier.self, identifier, "identifier")
            let identity = try await client.identityResolver().resolve(identifier)
            let report: [String: Any] = [
                "did": identity.did.description,
                "handle": identity.handle?.description ?? NSNull(),
                "handleVerified": identity.handleVerified,
                "pds": identity.pds?.absoluteString ?? NSNull(),
                "signingKey": identity.signingKey?.didKey ?? NSNull(),
            ]
            if client.json {
                try printJSON(report)
            } else {
                writeLine("did:         \(identity.did)")
                writeLine("handle:      \(identity.handle?.description ?? "none") (\(identity.handleVerified ? "verified" : "NOT verified"))")
                writeLine("pds:         \(identity.pds?.absoluteString ?? "none")")
                writeLine("signing key: \(identity.signingKey?.didKey ?? "none")")
            }
            if !identity.handleVerified { throw ExitCode(1) }
        }
    }
}

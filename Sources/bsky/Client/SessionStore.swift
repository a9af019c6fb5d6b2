import Bluesky
import Foundation

/// The session `bsky login` stores, with the server it belongs to.
struct StoredSession: Codable {
    var server: String
    var session: SessionInfo
}

/// `session.json` in `$BSKY_CONFIG_DIR`, else `$XDG_CONFIG_HOME/bsky`, else
/// `~/.config/bsky`; readable by the user only.
enum SessionStore {
    static var directory: URL {
        let environment = ProcessInfo.processInfo.environment
        if let dir = environment["BSKY_CONFIG_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty { return URL(fileURLWithPath: xdg).appendingPathComponent("bsky") }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".config/bsky")
    }

    static var file: URL { directory.appendingPathComponent("session.json") }

    static func load() throws -> StoredSession? {
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        do {
            return try JSONDecoder().decode(StoredSession.self, from: data)
        } catch {
            throw CLIFailure("\(file.path): not a stored session (\(error)); run bsky login again")
        }
    }

    static func save(_ stored: StoredSession) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let data = try JSONEncoder().encode(stored)
        guard FileManager.default.createFile(atPath: file.path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw CLIFailure("\(file.path): cannot write the session")
        }
    }

    /// Forgets the stored session.
    static func delete() throws {
        try FileManager.default.removeItem(at: file)
    }
}

/// What new accounts may be called: handles that are not reserved, and
/// email addresses of a plausible shape.
enum AccountRules {
    /// First labels no one may sign up with: names that would pass for the
    /// service, its staff or its infrastructure, and common impersonation
    /// targets. Compared after removing `-`, so `ad-min` is `admin` too.
    static let reservedNames: Set<String> = [
        "about", "abuse", "account", "accounts", "admin", "administrator", "admins", "api", "app", "apps", "atproto", "auth",
        "billing", "blog", "bluesky", "bot", "bsky", "cdn", "contact", "dev", "developer", "developers", "dns", "docs", "email",
        "feed", "feeds", "ftp", "help", "helpdesk", "host", "hostmaster", "imap", "info", "invalid", "jobs", "legal", "localhost",
        "login", "logout", "mail", "mailer", "marketing", "media", "moderation", "moderator", "mod", "mods", "news", "noc",
        "noreply", "notifications", "ns1", "ns2", "null", "oauth", "official", "operator", "owner", "password", "pds", "plc",
        "policy", "pop", "postmaster", "press", "privacy", "relay", "root", "sales", "security", "server", "service", "settings",
        "signup", "smtp", "staff", "status", "support", "sysadmin", "system", "team", "terms", "test", "trust", "undefined",
        "verify", "webmaster", "www",
    ]

    /// Whether `name` (a handle's first label) is reserved.
    static func isReserved(_ name: String) -> Bool {
        reservedNames.contains(name.lowercased().replacingOccurrences(of: "-", with: ""))
    }

    /// Why `email` is not an email address, or `nil`: one `@`, a local part
    /// of 1 to 64 printable ASCII characters without spaces, quotes or
    /// angle brackets, and a domain of at least two valid labels.
    static func emailProblem(_ email: String) -> String? {
        guard email.utf8.count <= 254 else { return "the email address is longer than 254 characters" }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return "an email address has exactly one @" }
        let (local, domain) = (parts[0], parts[1])
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.!#$%&'*+/=?^_`{|}~-")
        guard (1...64).contains(local.count), local.allSatisfy({ allowed.contains($0) }), !local.hasPrefix("."), !local.hasSuffix("."),
            !local.contains("..")
        else { return "the part before @ is not valid" }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ label in
            (1...63).contains(label.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }), let top = labels.last, !top.allSatisfy(\.isNumber)
        else { return "the domain of the email address is not valid" }
        return nil
    }
}

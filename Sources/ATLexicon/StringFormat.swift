import ATData
import ATSyntax

/// The string formats of lexicons, checked with the ATSyntax parsers.
public enum StringFormat {
    /// Whether `value` has the lexicon string `format`; unknown formats pass.
    public static func isValid(_ value: String, format: String) -> Bool {
        switch format {
        case "did": return (try? DID(value)) != nil
        case "handle": return (try? Handle(value)) != nil
        case "at-identifier": return (try? ATIdentifier(value)) != nil
        case "nsid": return (try? NSID(value)) != nil
        case "at-uri": return (try? ATURI(value)) != nil
        case "cid": return CID.isValidSyntax(value) && (try? CID(value)) != nil
        case "datetime": return (try? Datetime(value)) != nil
        case "language": return (try? Language(value)) != nil
        case "tid": return (try? TID(value)) != nil
        case "record-key": return (try? RecordKey(value)) != nil
        case "uri": return isURI(value)
        default: return true
        }
    }

    /// Generic URI syntax as lexicons use it: a scheme (a letter, then letters,
    /// digits, `+`, `-` or `.`), a colon, then at least one character with no
    /// whitespace; 8 KiB at most.
    public static func isURI(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard bytes.count <= 8192, let colon = bytes.firstIndex(of: 0x3A), colon > 0, colon < bytes.count - 1 else { return false }
        func isAlpha(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
        guard isAlpha(bytes[0]) else { return false }
        for c in bytes[1..<colon] where !(isAlpha(c) || (c >= 0x30 && c <= 0x39) || c == 0x2B || c == 0x2D || c == 0x2E) {
            return false
        }
        return !bytes[(colon + 1)...].contains { $0 <= 0x20 || $0 == 0x7F }
    }
}

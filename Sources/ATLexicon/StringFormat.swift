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

    /// Generic URI syntax as lexicons use it; see ``URI``.
    public static func isURI(_ value: String) -> Bool { (try? URI(value)) != nil }
}

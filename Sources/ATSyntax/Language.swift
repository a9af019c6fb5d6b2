/// A BCP 47 language tag, such as `en`, `pt-BR` or `zh-Hant`.
///
/// The primary language subtag is 2–3 lowercase letters (or `i-` / `x-` forms and
/// the grandfathered tags). Script, region, variants, extensions and private use
/// follow RFC 5646; a variant or an extension singleton may not repeat.
public struct Language: SyntaxValue {
    /// The tag as given.
    public let description: String

    /// The longest tag accepted, in bytes.
    public static let maxLength = 128

    /// The primary language subtag, such as `en`.
    public var primary: Substring { description.split(separator: "-", maxSplits: 1)[0] }

    /// Parses and validates `string`.
    public init(_ string: String) throws(SyntaxError) {
        func fail(_ code: SyntaxError.Code, _ message: String) -> SyntaxError {
            SyntaxError("Language", code, message)
        }
        guard !string.isEmpty else { throw fail(.empty, "empty string") }
        guard string.utf8.count <= Self.maxLength else { throw fail(.tooLong, "longer than \(Self.maxLength) bytes") }
        if Self.grandfathered.contains(string.lowercased()) {
            self.description = string
            return
        }
        let subtags = ASCII.split(string.utf8, on: ASCII.hyphen)
        for subtag in subtags {
            guard !subtag.isEmpty, subtag.count <= 8 else { throw fail(.invalidStructure, "subtags are 1–8 characters") }
            guard subtag.allSatisfy(ASCII.isAlnum) else { throw fail(.invalidCharacter, "subtags are letters and digits") }
        }
        var i = 0
        func isSingleton(_ s: ArraySlice<UInt8>, _ c: UInt8) -> Bool { s.count == 1 && (s.first! | 0x20) == c }
        // Whole-tag private use: x-…
        if isSingleton(subtags[0], 0x78) {
            try Self.parsePrivateUse(subtags, from: 1, fail: fail)
            self.description = string
            return
        }
        let language = subtags[0]
        guard (2...3).contains(language.count), language.allSatisfy(ASCII.isLower) else {
            throw fail(.invalidStructure, "the primary language is 2–3 lowercase letters")
        }
        i = 1
        // extlang: up to three 3-letter subtags
        var extlangs = 0
        while i < subtags.count, extlangs < 3, subtags[i].count == 3, subtags[i].allSatisfy(ASCII.isAlpha) {
            i += 1; extlangs += 1
        }
        if i < subtags.count, subtags[i].count == 4, subtags[i].allSatisfy(ASCII.isAlpha) { i += 1 }  // script
        if i < subtags.count,
           (subtags[i].count == 2 && subtags[i].allSatisfy(ASCII.isAlpha))
            || (subtags[i].count == 3 && subtags[i].allSatisfy(ASCII.isDigit)) { i += 1 }  // region
        var variants = Set<String>()
        while i < subtags.count, Self.isVariant(subtags[i]) {
            guard variants.insert(String(decoding: subtags[i], as: UTF8.self).lowercased()).inserted else {
                throw fail(.duplicate, "variant '\(String(decoding: subtags[i], as: UTF8.self))' repeats")
            }
            i += 1
        }
        var singletons = Set<UInt8>()
        while i < subtags.count, subtags[i].count == 1, !isSingleton(subtags[i], 0x78) {
            let singleton = subtags[i].first! | 0x20
            guard singletons.insert(singleton).inserted else {
                throw fail(.duplicate, "extension '\(Unicode.Scalar(singleton))' repeats")
            }
            i += 1
            let start = i
            while i < subtags.count, subtags[i].count >= 2 { i += 1 }
            guard i > start else { throw fail(.invalidStructure, "an extension needs at least one subtag of 2–8 characters") }
        }
        if i < subtags.count, isSingleton(subtags[i], 0x78) {
            try Self.parsePrivateUse(subtags, from: i + 1, fail: fail)
            i = subtags.count
        }
        guard i == subtags.count else {
            throw fail(.invalidStructure, "unexpected subtag '\(String(decoding: subtags[i], as: UTF8.self))'")
        }
        self.description = string
    }

    private static func isVariant(_ s: ArraySlice<UInt8>) -> Bool {
        (5...8).contains(s.count) || (s.count == 4 && ASCII.isDigit(s.first!))
    }

    private static func parsePrivateUse(
        _ subtags: [ArraySlice<UInt8>], from start: Int, fail: (SyntaxError.Code, String) -> SyntaxError
    ) throws(SyntaxError) {
        guard start < subtags.count else { throw fail(.invalidStructure, "private use needs at least one subtag") }
    }

    /// RFC 5646 grandfathered tags, irregular and regular, in lowercase.
    static let grandfathered: Set<String> = [
        "en-gb-oed", "i-ami", "i-bnn", "i-default", "i-enochian", "i-hak", "i-klingon", "i-lux",
        "i-mingo", "i-navajo", "i-pwn", "i-tao", "i-tay", "i-tsu", "sgn-be-fr", "sgn-be-nl", "sgn-ch-de",
        "art-lojban", "cel-gaulish", "no-bok", "no-nyn", "zh-guoyu", "zh-hakka", "zh-min", "zh-min-nan", "zh-xiang",
    ]
}

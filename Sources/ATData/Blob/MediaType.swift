import Foundation

/// The MIME type of a blob, told from its first bytes.
///
/// A PDS must not trust the `Content-Type` of an upload: clients send `*/*`
/// or nothing, and a record's blob reference is only accepted when its type
/// matches the stored blob's. ``resolve(head:declared:)`` does what the
/// reference PDS does: a recognised signature wins, then a specific declared
/// type, then `application/octet-stream`. Text is recognised too, so that a
/// UTF-8 upload declared as `*/*` is `text/plain`.
public enum MediaType {
    /// How many leading bytes ``sniff(_:)`` looks at.
    public static let sniffLength = 1024

    /// The type for bytes nothing recognises and nobody declared.
    public static let octetStream = "application/octet-stream"

    /// The type of a blob whose first bytes are `head` (up to ``sniffLength``
    /// of them; all of them when the blob is shorter), declared by its
    /// uploader as `declared`.
    public static func resolve(head: some Collection<UInt8>, declared: String?) -> String {
        let bytes = Array(head.prefix(sniffLength))
        if let sniffed = sniff(bytes) { return sniffed }
        if let declared = declared.flatMap(normalized), declared != octetStream { return declared }
        if isText(bytes) { return "text/plain" }
        return octetStream
    }

    /// A declared type as a lowercase `type/subtype` without parameters, or
    /// `nil` when it is missing, malformed or a wildcard.
    public static func normalized(_ declared: String) -> String? {
        let essence = (declared.split(separator: ";", maxSplits: 1).first.map(String.init) ?? "").trimmingCharacters(in: .whitespaces)
        let parts = essence.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(isTokenByte) }) else { return nil }
        guard parts[0] != "*", parts[1] != "*" else { return nil }
        return essence.lowercased()
    }

    /// The type that the signature at the start of `bytes` names, if any:
    /// the common image, video, audio, archive and document formats.
    public static func sniff(_ bytes: [UInt8]) -> String? {
        func at(_ offset: Int, _ signature: [UInt8]) -> Bool {
            bytes.count >= offset + signature.count && bytes[offset..<(offset + signature.count)].elementsEqual(signature)
        }
        func ascii(_ offset: Int, _ text: StaticString) -> Bool {
            at(offset, Array(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)))
        }
        // Images.
        if at(0, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if at(0, [0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if ascii(0, "GIF87a") || ascii(0, "GIF89a") { return "image/gif" }
        if ascii(0, "RIFF"), ascii(8, "WEBP") { return "image/webp" }
        if at(0, [0x49, 0x49, 0x2A, 0x00]) || at(0, [0x4D, 0x4D, 0x00, 0x2A]) { return "image/tiff" }
        if ascii(0, "BM"), bytes.count >= 26, at(6, [0, 0, 0, 0]) { return "image/bmp" }
        if at(0, [0x00, 0x00, 0x01, 0x00]), bytes.count >= 6, bytes[4] != 0 || bytes[5] != 0 { return "image/x-icon" }
        if at(0, [0xFF, 0x0A]) || at(0, [0x00, 0x00, 0x00, 0x0C, 0x4A, 0x58, 0x4C, 0x20]) { return "image/jxl" }
        // ISO base media (MP4, QuickTime, HEIF, AVIF, M4A): a box `ftyp` with a brand.
        if ascii(4, "ftyp"), bytes.count >= 12 {
            let brand = String(decoding: bytes[8..<12], as: UTF8.self)
            switch brand {
            case "avif", "avis": return "image/avif"
            case "heic", "heix", "heim", "heis", "hevc", "hevx": return "image/heic"
            case "mif1", "msf1": return "image/heif"
            case "qt  ": return "video/quicktime"
            case "M4A ", "M4B ", "M4P ": return "audio/mp4"
            case "3gp4", "3gp5", "3gp6", "3g2a": return "video/3gpp"
            default: return "video/mp4"
            }
        }
        // Video and audio.
        if at(0, [0x1A, 0x45, 0xDF, 0xA3]) {
            // The EBML header names the document type within its first bytes.
            let webm = (0..<min(60, max(0, bytes.count - 4))).contains { ascii($0, "webm") }
            return webm ? "video/webm" : "video/x-matroska"
        }
        if ascii(0, "RIFF"), ascii(8, "AVI ") { return "video/x-msvideo" }
        if ascii(0, "RIFF"), ascii(8, "WAVE") { return "audio/wav" }
        if ascii(0, "OggS") { return "audio/ogg" }
        if ascii(0, "fLaC") { return "audio/flac" }
        if ascii(0, "ID3") { return "audio/mpeg" }
        if bytes.count >= 2, bytes[0] == 0xFF, bytes[1] & 0xF6 == 0xF2 { return "audio/mpeg" }
        if bytes.count >= 2, bytes[0] == 0xFF, bytes[1] & 0xF6 == 0xF0 { return "audio/aac" }
        if ascii(0, "#EXTM3U") { return "application/vnd.apple.mpegurl" }
        // Documents and archives.
        if ascii(0, "%PDF-") { return "application/pdf" }
        if at(0, [0x50, 0x4B, 0x03, 0x04]) { return "application/zip" }
        if at(0, [0x1F, 0x8B]) { return "application/gzip" }
        if at(0, [0x28, 0xB5, 0x2F, 0xFD]) { return "application/zstd" }
        if at(0, [0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C]) { return "application/x-7z-compressed" }
        if ascii(0, "wOFF") { return "font/woff" }
        if ascii(0, "wOF2") { return "font/woff2" }
        if isSVG(bytes) { return "image/svg+xml" }
        return nil
    }

    /// Whether `bytes` read as UTF-8 text: no bytes below 0x20 but tab, line
    /// feed, carriage return and form feed, and no broken sequences (a
    /// sequence cut off at the end of `bytes` is allowed).
    public static func isText(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return false }
        var end = bytes.count
        // Drop a multi-byte sequence cut off by the sniffing window.
        var back = end - 1
        while back > 0, end - back < 4, bytes[back] & 0xC0 == 0x80 { back -= 1 }
        if bytes[back] >= 0xC0 {
            let needed = bytes[back] >= 0xF0 ? 4 : bytes[back] >= 0xE0 ? 3 : 2
            if end - back < needed { end = back }
        }
        let body = bytes[..<end]
        guard !body.contains(where: { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D && $0 != 0x0C }), !body.contains(0x7F) else { return false }
        return body.withContiguousStorageIfAvailable { UTF8Validation.isValid(UnsafeRawBufferPointer($0)) } ?? false
    }

    private static func isSVG(_ bytes: [UInt8]) -> Bool {
        guard isText(bytes) else { return false }
        let text = String(decoding: bytes, as: UTF8.self).lowercased()
        var rest = Substring(text).drop { $0 == "\u{FEFF}" || $0.isWhitespace }
        if rest.hasPrefix("<?xml") {
            guard let close = rest.range(of: "?>") else { return false }
            rest = rest[close.upperBound...]
        }
        // Comments and a doctype may come before the root element.
        while true {
            rest = rest.drop { $0.isWhitespace }
            if rest.hasPrefix("<!--"), let close = rest.range(of: "-->") {
                rest = rest[close.upperBound...]
            } else if rest.hasPrefix("<!doctype"), let close = rest.firstIndex(of: ">") {
                rest = rest[rest.index(after: close)...]
            } else {
                break
            }
        }
        return rest.hasPrefix("<svg") && rest.dropFirst(4).first.map { $0.isWhitespace || $0 == ">" } == true
    }

    /// RFC 9110 token characters.
    private static func isTokenByte(_ c: UInt8) -> Bool {
        switch c {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default: false
        }
    }
}

import ATData
import Testing

/// Blob types told from their bytes, and what a declared type counts for.
@Suite("Media type sniffing")
struct MediaTypeTests {
    static func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }
    static let filler = [UInt8](repeating: 0x5A, count: 64)

    static let samples: [(String, [UInt8])] = [
        ("image/png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D] + ascii("IHDR") + filler),
        ("image/jpeg", [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10] + ascii("JFIF") + filler),
        ("image/gif", ascii("GIF89a") + [1, 0, 1, 0] + filler),
        ("image/gif", ascii("GIF87a") + filler),
        ("image/webp", ascii("RIFF") + [0x24, 0, 0, 0] + ascii("WEBPVP8 ") + filler),
        ("video/mp4", [0, 0, 0, 0x20] + ascii("ftypisom") + [0, 0, 2, 0] + ascii("isomiso2avc1mp41") + filler),
        ("video/mp4", [0, 0, 0, 0x18] + ascii("ftypmp42") + filler),
        ("video/quicktime", [0, 0, 0, 0x14] + ascii("ftypqt  ") + filler),
        ("image/avif", [0, 0, 0, 0x1C] + ascii("ftypavif") + filler),
        ("image/heic", [0, 0, 0, 0x18] + ascii("ftypheic") + filler),
        ("video/webm", [0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x84] + ascii("webm") + filler),
        ("audio/mpeg", ascii("ID3") + [4, 0, 0] + filler),
        ("audio/ogg", ascii("OggS") + filler),
        ("audio/wav", ascii("RIFF") + [0x24, 0, 0, 0] + ascii("WAVEfmt ") + filler),
        ("application/pdf", ascii("%PDF-1.7\n") + filler),
        ("application/zip", [0x50, 0x4B, 0x03, 0x04] + filler),
        ("image/svg+xml", ascii("<?xml version=\"1.0\"?>\n<!-- drawn -->\n<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>")),
    ]

    @Test func signaturesWinOverWhatIsDeclared() {
        for (expected, bytes) in Self.samples {
            #expect(MediaType.sniff(bytes) == expected, "\(expected)")
            for declared in [nil, "*/*", "application/octet-stream", "text/plain", "image/png"] as [String?] {
                #expect(MediaType.resolve(head: bytes, declared: declared) == expected, "\(expected) declared \(declared ?? "nothing")")
            }
        }
    }

    @Test func textIsPlainTextUnlessDeclaredMoreExactly() {
        let text = Self.ascii("Hello, world.\nÇa va? 日本語 🎉\r\n\tTabs too.")
        #expect(MediaType.sniff(text) == nil)
        #expect(MediaType.resolve(head: text, declared: nil) == "text/plain")
        #expect(MediaType.resolve(head: text, declared: "*/*") == "text/plain")
        #expect(MediaType.resolve(head: text, declared: "application/octet-stream") == "text/plain")
        #expect(MediaType.resolve(head: text, declared: "Text/Markdown; charset=utf-8") == "text/markdown")
        // A multi-byte character cut off by the sniffing window is still text.
        let long = [UInt8](repeating: 0x61, count: MediaType.sniffLength - 1) + Self.ascii("é")
        #expect(MediaType.resolve(head: long.prefix(MediaType.sniffLength), declared: "*/*") == "text/plain")
    }

    @Test func unknownBinaryFallsBackToTheDeclaredTypeThenOctetStream() {
        let binary: [UInt8] = [0x00, 0x01, 0x02, 0x03, 0xFE, 0xFF, 0x10, 0x7F]
        #expect(MediaType.resolve(head: binary, declared: "model/gltf-binary") == "model/gltf-binary")
        #expect(MediaType.resolve(head: binary, declared: "*/*") == MediaType.octetStream)
        #expect(MediaType.resolve(head: binary, declared: "image/*") == MediaType.octetStream)
        #expect(MediaType.resolve(head: binary, declared: "not a type") == MediaType.octetStream)
        #expect(MediaType.resolve(head: binary, declared: nil) == MediaType.octetStream)
        #expect(MediaType.resolve(head: [], declared: nil) == MediaType.octetStream)
        // Invalid UTF-8 is not text.
        #expect(MediaType.resolve(head: [0x61, 0x62, 0xC3, 0x28, 0x63], declared: nil) == MediaType.octetStream)
    }

    @Test func shortAndLookAlikeInputsAreNotMisread() {
        #expect(MediaType.sniff([0x89, 0x50, 0x4E]) == nil)
        #expect(MediaType.sniff(Self.ascii("RIFF\0\0\0\0JUNK")) == nil)
        #expect(MediaType.sniff(Self.ascii("<html><svg></svg></html>")) == nil)
        #expect(MediaType.sniff(Self.ascii("<svgfoo>")) == nil)
    }
}

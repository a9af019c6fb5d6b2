import ATData
import Foundation
import Testing
import TestSupport

@Suite("CID")
struct CIDTests {
    static let known = "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a"

    @Test func parsesAndFormatsBase32() throws {
        let cid = try CID(Self.known)
        #expect(cid.version == 1)
        #expect(cid.codec == .dagCBOR)
        #expect(cid.hashCode == Multihash.sha256)
        #expect(cid.digest.count == 32)
        #expect(cid.description == Self.known)
        #expect(cid.isATProtoBlessed)
        #expect(try CID(bytes: cid.bytes) == cid)
        #expect(cid.bytes.count == 36)
    }

    @Test func parsesCIDv0ForReading() throws {
        let v0 = "QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR"
        let cid = try CID(v0)
        #expect(cid.version == 0)
        #expect(cid.codec == .dagPB)
        #expect(cid.description == v0)
        #expect(cid.bytes.prefix(2) == [0x12, 0x20])
        #expect(!cid.isATProtoBlessed)
    }

    @Test func computesRawAndDagCBOR() throws {
        // The empty string's SHA-256 under the raw codec.
        let raw = CID.compute([UInt8](), codec: .raw)
        #expect(raw.description == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")
        let blob = try CID("bafkreiccldh766hwcnuxnf2wh6jgzepf2nlu2lvcllt63eww5p6chi4ity")
        #expect(blob.codec == .raw)
    }

    @Test func equalityAndHashingUseTheWholeCID() throws {
        let a = CID.compute(Array("a".utf8))
        let b = CID.compute(Array("b".utf8))
        let aRaw = CID.compute(Array("a".utf8), codec: .raw)
        #expect(a != b)
        #expect(a != aRaw)
        #expect(Set([a, b, aRaw, a]).count == 3)
        #expect(try CID(a.description) == a)
    }

    @Test func verifyChecksTheDigest() throws {
        let data = Array("hello".utf8)
        let cid = CID.compute(data)
        try data.withUnsafeBytes { try cid.verify($0) }
        let other = Array("hellO".utf8)
        do {
            try other.withUnsafeBytes { try cid.verify($0) }
            Issue.record("expected a mismatch")
        } catch let error as DataError {
            #expect(error.code == .cidMismatch)
        }
    }

    @Test func otherHashesAreKeptButNotVerifiable() throws {
        // CIDv1, dag-cbor, identity multihash (0x00) of 3 bytes.
        let bytes: [UInt8] = [0x01, 0x71, 0x00, 0x03, 0x61, 0x62, 0x63]
        let cid = try CID(bytes: bytes)
        #expect(cid.hashCode == 0)
        #expect(cid.digest == [0x61, 0x62, 0x63])
        #expect(cid.bytes == bytes)
        #expect(try CID(cid.description) == cid)
        #expect(throws: DataError.self) { try [UInt8]("abc".utf8).withUnsafeBytes { try cid.verify($0) } }
    }

    @Test(arguments: [
        ([UInt8](), DataError.Code.truncated),
        ([0x01, 0x71, 0x12], .truncated),
        ([0x01, 0x71, 0x12, 0x20, 0x00], .truncated),
        ([0x02, 0x71, 0x12, 0x20], .invalidCID),
        ([0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], .varintOverflow),
        ([0x01, 0xF1, 0x00, 0x12, 0x20], .varintNotMinimal),
        ([0x01, 0x71, 0x12, 0xFF, 0x7F], .lengthTooLarge),
    ])
    func rejectsMalformedBinary(_ bytes: [UInt8], _ code: DataError.Code) {
        do {
            _ = try CID(bytes: bytes)
            Issue.record("expected \(code)")
        } catch {
            #expect(error.code == code)
        }
    }

    @Test func rejectsTrailingBytes() throws {
        let bytes = CID.compute([1, 2, 3]).bytes + [0]
        #expect(throws: DataError.self) { try CID(bytes: bytes) }
    }

    @Test(arguments: ["", ".", "bafy!", "xyz", "b", "Qm123", "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2"])
    func rejectsMalformedText(_ text: String) {
        #expect(throws: DataError.self) { try CID(text) }
    }

    /// The stack-only base32 paths (parse and format) agree with the general
    /// multibase ones, and hand anything unusual to them.
    @Test func base32FastPathsAgreeWithTheGeneralOnes() throws {
        var cids = [CID]()
        for i in 0..<200 {
            let data = [UInt8]("block \(i)".utf8)
            cids.append(CID(codec: i.isMultiple(of: 2) ? .dagCBOR : .raw, sha256Digest: SHA256Digest(hashing: data)))
        }
        cids.append(try CID(bytes: [0x01, 0x71, 0x00, 0x03, 0x61, 0x62, 0x63]))  // identity hash: the general form
        cids.append(try CID(bytes: [0x01, 0x80, 0x01, 0x12, 0x20] + [UInt8](repeating: 7, count: 32)))  // two-byte codec
        for cid in cids {
            let general = Multibase.encode(cid.bytes, as: .base32)
            #expect(cid.description == general)
            #expect(try CID(general) == cid)
            #expect(try CID(general.uppercased()) == cid)
        }
        let text = cids[0].description
        // A last character whose unused bits are not zero, a character outside
        // the alphabet, and a truncated CID all fail with a reason.
        // ("b" is 1; a valid last character has its two unused bits clear.)
        let lastBitsSet = String(text.dropLast()) + "b"
        for bad in [lastBitsSet, String(text.dropLast(2)) + "1a", String(text.prefix(40)), text + "aa"] {
            #expect(throws: DataError.self) { try CID(bad) }
        }
    }

    @Test(arguments: Fixtures.lines("syntax/cid_syntax_valid.txt"))
    func syntaxFixtureValid(_ line: String) { #expect(CID.isValidSyntax(line)) }

    @Test(arguments: Fixtures.lines("syntax/cid_syntax_invalid.txt"))
    func syntaxFixtureInvalid(_ line: String) { #expect(!CID.isValidSyntax(line)) }

    @Test func parsesTheOtherValidFixtureEncodings() throws {
        // The base32, base58btc and base16 lines of the fixture are real CIDs.
        for line in Fixtures.lines("syntax/cid_syntax_valid.txt") where line.hasPrefix("b") || line.hasPrefix("zdj") || line.hasPrefix("f") {
            let cid = try CID(line)
            #expect(cid.digest.count == 32)
        }
    }
}

@Suite("Varint and multibase")
struct VarintTests {
    @Test(arguments: [UInt64(0), 1, 127, 128, 300, 16_383, 16_384, UInt64(1) << 35, UInt64.max >> 1])
    func roundTrips(_ value: UInt64) throws {
        var bytes = [UInt8]()
        Varint.write(value, into: &bytes)
        #expect(bytes.count == Varint.size(of: value))
        var offset = 0
        let read = try bytes.withUnsafeBytes { try Varint.read($0, at: &offset) }
        #expect(read == value)
        #expect(offset == bytes.count)
    }

    @Test(arguments: [
        ([UInt8](), DataError.Code.truncated),
        ([0x80], .truncated),
        ([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], .varintOverflow),
        ([0x81, 0x00], .varintNotMinimal),
    ])
    func rejects(_ bytes: [UInt8], _ code: DataError.Code) {
        var offset = 0
        do {
            _ = try bytes.withUnsafeBytes { try Varint.read($0, at: &offset) }
            Issue.record("expected \(code)")
        } catch let error as DataError {
            #expect(error.code == code)
            #expect(error.offset == 0)
        } catch {
            Issue.record("untyped error \(error)")
        }
    }

    @Test func multibaseRoundTrips() throws {
        let bytes: [UInt8] = [0, 0, 1, 2, 3, 250, 251, 252, 253, 254, 255]
        for base in [Multibase.Base.base32, .base58btc, .base16] {
            #expect(try Multibase.decode(Multibase.encode(bytes, as: base)) == bytes)
        }
        #expect(throws: DataError.self) { try Multibase.decode("q123") }
        #expect(throws: DataError.self) { try Multibase.decode("z0OIl") }
    }
}

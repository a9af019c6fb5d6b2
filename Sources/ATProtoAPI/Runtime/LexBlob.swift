import ATData

/// A reference to a blob, as records hold it: `{"$type": "blob", "ref", "mimeType", "size"}`,
/// or the legacy `{"cid", "mimeType"}` form, which is kept as it came.
public struct LexBlob: LexValue {
    /// The blob's CID (raw codec).
    public var ref: CID
    /// The MIME type.
    public var mimeType: String
    /// The size in bytes; `nil` only in the legacy form.
    public var size: Int?
    /// Whether this is the legacy form.
    public var isLegacy: Bool
    /// Fields besides those, kept as they came.
    public var extra: DataMap

    static let knownKeys: Set<String> = ["$type", "ref", "mimeType", "size"]
    static let legacyKeys: Set<String> = ["cid", "mimeType"]

    /// A blob reference in the current form.
    public init(ref: CID, mimeType: String, size: Int) {
        self.ref = ref
        self.mimeType = mimeType
        self.size = size
        self.isLegacy = false
        self.extra = DataMap()
    }

    public init<D: LexDecoder>(from d: inout D) throws(LexError) {
        // Field by field: the current form needs no value tree; anything
        // else falls back to reading the whole object.
        var type: String?, ref: CID?, mime: String?, size: Int64?, cidText: String?
        var extra = DataMap()
        var state = try d.beginMap()
        var key = ""
        do {
            while let k = try d.nextKey(&state) {
                key = k
                switch k {
                case "$type": type = try d.decodeString()
                case "ref": ref = try d.decodeLink()
                case "mimeType": mime = try d.decodeString()
                case "size": size = try d.decodeInt()
                case "cid": cidText = try d.decodeString()
                default: extra[k] = try d.decodeValue()
                }
                key = ""
            }
        } catch {
            throw key.isEmpty ? error : error.at(key)
        }
        var map = extra
        if let type { map["$type"] = .string(type) }
        if let ref { map["ref"] = .link(ref) }
        if let mime { map["mimeType"] = .string(mime) }
        if let size { map["size"] = .int(size) }
        if let cidText { map["cid"] = .string(cidText) }
        if type == "blob", let ref, let mime, let size, size >= 0, let int = Int(exactly: size), cidText == nil {
            self.init(ref: ref, mimeType: mime, size: int)
            self.extra = extra
            return
        }
        try self.init(map: map, validating: d.validating)
    }

    /// Reads a blob from its data model form.
    public init(map: DataMap, validating: Bool = true) throws(LexError) {
        if case .string("blob")? = map["$type"] {
            guard case .link(let ref)? = map["ref"] else { throw LexError(.wrongType, "a blob needs a 'ref' link", path: ["ref"]) }
            guard case .string(let mime)? = map["mimeType"] else { throw LexError(.missingField, "a blob needs 'mimeType'", path: ["mimeType"]) }
            guard case .int(let size)? = map["size"], size >= 0, let int = Int(exactly: size) else {
                throw LexError(.missingField, "a blob needs a non-negative 'size'", path: ["size"])
            }
            self.ref = ref
            self.mimeType = mime
            self.size = int
            self.isLegacy = false
            self.extra = DataMap(map.filter { !Self.knownKeys.contains($0.key) }.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        } else if map["$type"] == nil, case .string(let cidText)? = map["cid"], case .string(let mime)? = map["mimeType"] {
            guard let cid = try? CID(cidText) else { throw LexError(.invalidFormat, "legacy blob 'cid' is not a CID", path: ["cid"]) }
            guard cid.description == cidText else { throw LexError(.invalidFormat, "legacy blob 'cid' is not in base32", path: ["cid"]) }
            self.ref = cid
            self.mimeType = mime
            self.size = nil
            self.isLegacy = true
            self.extra = DataMap(map.filter { !Self.legacyKeys.contains($0.key) }.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        } else {
            throw LexError(.wrongType, "expected a blob: $type 'blob' with ref, mimeType and size")
        }
    }

    public init(decoding d: inout LexCBORDecoder) throws(LexError) { try self.init(from: &d) }
    public init(decoding d: inout LexJSONDecoder) throws(LexError) { try self.init(from: &d) }
    public func encode(into e: inout LexCBOREncoder) { encode(to: &e) }
    public func encode(into e: inout LexJSONEncoder) { encode(to: &e) }

    public func encode<E: LexEncoder>(to e: inout E) {
        if isLegacy {
            var m = e.beginMap(known: 2, extra: extra)
            e.key("cid", &m); e.encodeString(ref.description)
            e.key("mimeType", &m); e.encodeString(mimeType)
            e.endMap(&m)
            return
        }
        var m = e.beginMap(known: 4, extra: extra)
        e.key("ref", &m); e.encodeLink(ref)
        e.key("size", &m); e.encodeInt(Int64(size ?? 0))
        e.key("$type", &m); e.encodeString("blob")
        e.key("mimeType", &m); e.encodeString(mimeType)
        e.endMap(&m)
    }
}

extension LexDecoder {
    /// Reads a blob and checks `rule` when validating.
    public mutating func blob(_ rule: BlobRule? = nil) throws(LexError) -> LexBlob {
        let blob = try LexBlob(from: &self)
        if validating, let rule { try rule.check(blob) }
        return blob
    }
}

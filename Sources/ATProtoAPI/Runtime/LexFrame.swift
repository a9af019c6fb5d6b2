import ATData

/// The message union of a subscription: its members travel as frame bodies
/// named by the header's `t` (`#commit`, …) rather than by `$type`.
public protocol LexMessage: LexValue {
    /// Reads a frame body whose header names it `frameType`.
    init<D: LexDecoder>(frameType: String, from d: inout D) throws(LexError)
    /// The header's `t` for this message; `nil` for an unknown one.
    var frameType: String? { get }
    /// Writes the frame body: the member without `$type`.
    func encodeFrameBody<E: LexEncoder>(to e: inout E)
    /// Reads a frame body from DAG-CBOR (the specialised entry point).
    init(frameType: String, decoding d: inout LexCBORDecoder) throws(LexError)
    /// Writes the frame body as DAG-CBOR (the specialised entry point).
    func encodeFrameBody(into e: inout LexCBOREncoder)
}

/// One frame of an event stream (`subscribeRepos`, `subscribeLabels`): a
/// DAG-CBOR header, `{op: 1, t}` for a message or `{op: -1}` for an error,
/// then a DAG-CBOR body.
public enum LexFrame<Message: LexMessage>: Sendable, Hashable {
    /// A message.
    case message(Message)
    /// An error; the stream ends after it.
    case error(name: String, message: String?)

    /// Reads a frame. With `validating`, the message's lexicon constraints
    /// are checked too; shapes and formats always are.
    public init(frame: [UInt8], validating: Bool = false) throws(LexError) {
        let result: Result<LexFrame, LexError> = frame.withUnsafeBytes { buffer in
            var d = LexCBORDecoder(buffer, validating: validating)
            do throws(LexError) {
                var op: Int64? = nil, type: String? = nil
                var header = try d.beginMap()
                while let key = try d.nextKey(&header) {
                    switch key {
                    case "op": op = try d.decodeInt()
                    case "t": type = try d.decodeString()
                    default: _ = try d.decodeValue()
                    }
                }
                let value: LexFrame
                switch op.map(Int.init) {
                case 1?:
                    guard let type else { throw LexError(.missingField, "a message frame's header needs 't'", path: ["t"]) }
                    value = .message(try Message(frameType: type, decoding: &d))
                case .some(-1):
                    var name: String? = nil, message: String? = nil
                    var body = try d.beginMap()
                    while let key = try d.nextKey(&body) {
                        switch key {
                        case "error": name = try d.decodeString()
                        case "message": message = try d.decodeString()
                        default: _ = try d.decodeValue()
                        }
                    }
                    guard let name else { throw LexError(.missingField, "an error frame needs 'error'", path: ["error"]) }
                    value = .error(name: name, message: message)
                default:
                    throw LexError(.wrongType, "a frame header's 'op' must be 1 or -1", path: ["op"])
                }
                try d.expectEnd()
                return .success(value)
            } catch {
                return .failure(error)
            }
        }
        self = try result.get()
    }

    /// The frame's bytes. An unknown message is written under `fallbackType`.
    public func encode(fallbackType: String = "#unknown") -> [UInt8] {
        var e = LexCBOREncoder()
        switch self {
        case .message(let message):
            var header = e.beginMap(known: 2, extra: DataMap())
            e.key("t", &header); e.encodeString(message.frameType ?? fallbackType)
            e.key("op", &header); e.encodeInt(1)
            e.endMap(&header)
            message.encodeFrameBody(into: &e)
        case .error(let name, let message):
            var header = e.beginMap(known: 1, extra: DataMap())
            e.key("op", &header); e.encodeInt(-1)
            e.endMap(&header)
            var body = e.beginMap(known: message == nil ? 1 : 2, extra: DataMap())
            e.key("error", &body); e.encodeString(name)
            if let message { e.key("message", &body); e.encodeString(message) }
            e.endMap(&body)
        }
        return e.bytes
    }
}

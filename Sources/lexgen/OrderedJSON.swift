import Foundation

/// JSON with object keys in document order, so that generated code follows
/// the order in which lexicons list their fields.
indirect enum JSON {
    case object([(String, JSON)])
    case array([JSON])
    case string(String)
    case number(Double)
    case bool(Bool)
    case null

    subscript(key: String) -> JSON? {
        if case .object(let entries) = self { return entries.first { $0.0 == key }?.1 }
        return nil
    }
    var string: String? { if case .string(let s) = self { s } else { nil } }
    var int: Int? { if case .number(let n) = self { Int(n) } else { nil } }
    var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    var array: [JSON]? { if case .array(let a) = self { a } else { nil } }
    var entries: [(String, JSON)] { if case .object(let e) = self { e } else { [] } }
    var strings: [String]? { array?.compactMap(\.string) }

    static func parse(_ data: Data) throws -> JSON {
        var p = Parser(bytes: [UInt8](data))
        let value = try p.value()
        return value
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private struct Parser {
        let bytes: [UInt8]
        var i = 0

        mutating func space() { while i < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[i]) { i += 1 } }

        mutating func value() throws -> JSON {
            space()
            guard i < bytes.count else { throw Failure(description: "unexpected end") }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1
                var entries = [(String, JSON)]()
                space()
                if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(entries) }
                while true {
                    space()
                    guard case .string(let key) = try value() else { throw Failure(description: "key at \(i)") }
                    space()
                    guard bytes[i] == UInt8(ascii: ":") else { throw Failure(description: "':' at \(i)") }
                    i += 1
                    entries.append((key, try value()))
                    space()
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    guard bytes[i] == UInt8(ascii: "}") else { throw Failure(description: "'}' at \(i)") }
                    i += 1
                    return .object(entries)
                }
            case UInt8(ascii: "["):
                i += 1
                var items = [JSON]()
                space()
                if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                while true {
                    items.append(try value())
                    space()
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    guard bytes[i] == UInt8(ascii: "]") else { throw Failure(description: "']' at \(i)") }
                    i += 1
                    return .array(items)
                }
            case UInt8(ascii: "\""):
                let start = i
                i += 1
                while bytes[i] != UInt8(ascii: "\"") { i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1 }
                i += 1
                let text = try JSONSerialization.jsonObject(with: Data(bytes[start..<i]), options: .fragmentsAllowed)
                return .string(text as! String)
            case UInt8(ascii: "t"): i += 4; return .bool(true)
            case UInt8(ascii: "f"): i += 5; return .bool(false)
            case UInt8(ascii: "n"): i += 4; return .null
            default:
                let start = i
                while i < bytes.count, "-+.eE0123456789".utf8.contains(bytes[i]) { i += 1 }
                guard let n = Double(String(decoding: bytes[start..<i], as: UTF8.self)) else { throw Failure(description: "number at \(start)") }
                return .number(n)
            }
        }
    }
}

import ATData
import ATSyntax

extension LexDecoder {
    /// Reads a string and checks `rule` when validating.
    @inlinable
    public mutating func string(_ rule: StringRule) throws(LexError) -> String {
        let value = try decodeString()
        if validating { try rule.check(value) }
        return value
    }

    /// Reads a string in a lexicon format.
    @inlinable
    public mutating func format<T: SyntaxValue>(_ type: T.Type, _ rule: StringRule? = nil) throws(LexError) -> T {
        let text = try decodeString()
        if validating, let rule { try rule.check(text) }
        do { return try T(text) } catch { throw LexError(.invalidFormat, error.description) }
    }

    /// Reads a CID in its string form.
    public mutating func cidString(_ rule: StringRule? = nil) throws(LexError) -> CID {
        let text = try decodeString()
        if validating, let rule { try rule.check(text) }
        do { return try CID(text) } catch { throw LexError(.invalidFormat, "invalid CID: \(error.message)") }
    }

    /// Reads an integer and checks `rule` when validating.
    @inlinable
    public mutating func integer(_ rule: IntegerRule? = nil) throws(LexError) -> Int {
        let value = try decodeInt()
        if validating, let rule { try rule.check(value) }
        guard let int = Int(exactly: value) else { throw LexError(.wrongType, "integer out of range") }
        return int
    }

    /// Reads a boolean.
    @inlinable
    public mutating func boolean(const: Bool? = nil) throws(LexError) -> Bool {
        let value = try decodeBool()
        if validating, let const, value != const { throw LexError(.constraint, "must be \(const)") }
        return value
    }

    /// Reads bytes and checks their length when validating.
    public mutating func bytes(_ rule: LengthRule? = nil) throws(LexError) -> [UInt8] {
        let value = try decodeBytes()
        if validating, let rule { try rule.check(value.count) }
        return value
    }

    /// Reads an array, element by element, with the index in any error's path.
    @inlinable
    public mutating func array<T>(_ rule: LengthRule? = nil, _ element: (inout Self) throws(LexError) -> T) throws(LexError) -> [T] {
        var state = try beginArray()
        var values = [T]()
        while try nextElement(&state) {
            do { values.append(try element(&self)) } catch { throw error.at(index: values.count) }
        }
        if validating, let rule { try rule.check(values.count) }
        return values
    }

    /// Reads a `nullable` field: `null`, or a value.
    @inlinable
    public mutating func nullable<T>(_ value: (inout Self) throws(LexError) -> T) throws(LexError) -> LexNullable<T> {
        if try decodeNull() { return .null }
        return .value(try value(&self))
    }

    /// Without validation, a `null` where the lexicon does not allow one is
    /// kept with the unknown fields under `key`, and the field stays absent.
    @inlinable
    public mutating func lenientNull(_ key: String, _ extra: inout DataMap) throws(LexError) -> Bool {
        guard !validating, try decodeNull() else { return false }
        extra[key] = .null
        return true
    }

    /// Reads a record's `$type`: it must name `nsid` when validating; a
    /// different name is kept with the unknown fields.
    public mutating func recordType(_ nsid: String, extra: inout DataMap) throws(LexError) {
        let type = try decodeString()
        guard type != nsid else { return }
        if validating { throw LexError(.wrongTypeName, "$type is '\(type)', expected '\(nsid)'") }
        extra["$type"] = .string(type)
    }
}

extension LexEncoder {
    /// Writes an array.
    @inlinable
    public mutating func array<T>(_ values: [T], _ element: (inout Self, T) -> Void) {
        beginArray(count: values.count)
        for (i, value) in values.enumerated() {
            self.element(i)
            element(&self, value)
        }
        endArray()
    }

    /// Writes a `nullable` field.
    @inlinable
    public mutating func nullable<T>(_ value: LexNullable<T>, _ write: (inout Self, T) -> Void) {
        switch value {
        case .null: encodeNull()
        case .value(let v): write(&self, v)
        }
    }
}

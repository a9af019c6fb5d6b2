import Foundation

/// A timestamp in the atproto profile of RFC 3339, such as `1985-04-12T23:20:50.123Z`.
///
/// Uppercase `T` and `Z`, seconds required, optional fractional seconds, and a
/// `Z` or `±hh:mm` offset (`-00:00` is not allowed). The original string is kept
/// exactly, because records must round-trip byte for byte.
public struct Datetime: SyntaxValue, Comparable {
    /// The string as it was parsed.
    public let description: String
    /// The instant, in UTC.
    public let date: Date

    /// The longest datetime accepted, in bytes.
    public static let maxLength = 64

    /// Parses and validates `string`.
    public init(_ string: String) throws(SyntaxError) {
        func fail(_ code: SyntaxError.Code, _ message: String) -> SyntaxError {
            SyntaxError("Datetime", code, message)
        }
        let (seconds, nanos) = try ASCII.withBytes(string) { (b) throws(SyntaxError) -> (Int, Int) in
            guard !b.isEmpty else { throw fail(.empty, "empty string") }
            guard b.count <= Self.maxLength else { throw fail(.tooLong, "longer than \(Self.maxLength) bytes") }
            // YYYY-MM-DDTHH:MM:SS
            guard b.count >= 20, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A else {
                throw fail(.invalidStructure, "expected YYYY-MM-DDTHH:MM:SS followed by a time zone")
            }
            guard let year = ASCII.number(b, 0, 4), let month = ASCII.number(b, 5, 7),
                  let day = ASCII.number(b, 8, 10), let hour = ASCII.number(b, 11, 13),
                  let minute = ASCII.number(b, 14, 16), let second = ASCII.number(b, 17, 19)
            else { throw fail(.invalidCharacter, "date and time fields must be decimal digits") }
            var i = 19
            var nanos = 0
            if b[i] == ASCII.dot {
                i += 1
                let start = i
                while i < b.count, ASCII.isDigit(b[i]) { i += 1 }
                guard i > start else { throw fail(.invalidStructure, "fractional seconds need at least one digit") }
                var scale = 100_000_000
                for c in b[start..<min(i, start + 9)] {
                    nanos += Int(c - 0x30) * scale
                    scale /= 10
                }
            }
            guard i < b.count else { throw fail(.invalidStructure, "missing time zone ('Z' or ±hh:mm)") }
            var offsetSeconds = 0
            if b[i] == 0x5A {
                i += 1
            } else if b[i] == 0x2B || b[i] == 0x2D {
                guard b.count - i == 6, b[i + 3] == ASCII.colon,
                      let oh = ASCII.number(b, i + 1, i + 3), let om = ASCII.number(b, i + 4, i + 6)
                else { throw fail(.invalidStructure, "time zone offset must be ±hh:mm") }
                guard oh <= 23, om <= 59 else { throw fail(.outOfRange, "time zone offset out of range") }
                if b[i] == 0x2D, oh == 0, om == 0 { throw fail(.invalidStructure, "'-00:00' is not allowed") }
                offsetSeconds = (oh * 3600 + om * 60) * (b[i] == 0x2D ? -1 : 1)
                i += 6
            } else {
                throw fail(.invalidStructure, "time zone must be 'Z' or ±hh:mm")
            }
            guard i == b.count else { throw fail(.invalidStructure, "unexpected characters after the time zone") }
            guard (1...12).contains(month) else { throw fail(.outOfRange, "month \(month) out of range") }
            guard (1...Self.daysIn(month: month, year: year)).contains(day) else { throw fail(.outOfRange, "day \(day) out of range") }
            guard hour <= 23, minute <= 59, second <= 59 else { throw fail(.outOfRange, "time of day out of range") }
            let days = Self.daysFromCivil(year: year, month: month, day: day)
            let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
            guard seconds >= Self.daysFromCivil(year: 0, month: 1, day: 1) * 86_400 else {
                throw fail(.outOfRange, "before year 0000 in UTC")
            }
            return (seconds, nanos)
        }
        self.description = string
        self.date = Date(timeIntervalSince1970: Double(seconds) + Double(nanos) / 1e9)
    }

    /// The datetime for `date`, in UTC with millisecond precision, as the spec recommends.
    public init(_ date: Date) {
        let totalMillis = Int((date.timeIntervalSince1970 * 1000).rounded(.down))
        let millis = ((totalMillis % 1000) + 1000) % 1000
        let seconds = (totalMillis - millis) / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secOfDay = seconds - days * 86_400
        let (y, m, d) = Self.civilFromDays(days)
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        self.description = "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(secOfDay / 3600, 2)):\(pad(secOfDay / 60 % 60, 2)):\(pad(secOfDay % 60, 2)).\(pad(millis, 3))Z"
        self.date = Date(timeIntervalSince1970: Double(totalMillis) / 1000)
    }

    /// The current time.
    public static func now() -> Datetime { Datetime(Date()) }

    public static func < (lhs: Datetime, rhs: Datetime) -> Bool { lhs.date < rhs.date }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

//! The column types a where clause can compare, and their values: reading Postgres text (row
//! values from replication, literals and params from the request) into comparable datums, and
//! writing constants back as Postgres text.
//!
//! Dates and timestamps are kept the way Postgres keeps them: days / microseconds since
//! 2000-01-01 in an `i64`, with `-infinity` and `infinity` as the extremes. That spans the whole
//! Postgres range (4713 BC to 294276 AD), which the `time` crate's default range does not.

use crate::server::shapes::schema::ColumnInfo;

/// A comparable column type, by `pg_type.typname`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SqlType {
    Int2,
    Int4,
    Int8,
    /// `text` and `varchar`, which compare alike.
    Text,
    Uuid,
    Bool,
    Timestamptz,
    Timestamp,
    Date,
}

impl SqlType {
    /// The type of a column, or `None` when where clauses cannot compare it (arrays, jsonb,
    /// numeric, bpchar…).
    pub(super) fn of_column(column: &ColumnInfo) -> Option<Self> {
        if column.dims != 0 {
            return None;
        }
        Some(match column.type_name.as_str() {
            "int2" => Self::Int2,
            "int4" => Self::Int4,
            "int8" => Self::Int8,
            "text" | "varchar" => Self::Text,
            "uuid" => Self::Uuid,
            "bool" => Self::Bool,
            "timestamptz" => Self::Timestamptz,
            "timestamp" => Self::Timestamp,
            "date" => Self::Date,
            _ => return None,
        })
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Int2 => "int2",
            Self::Int4 => "int4",
            Self::Int8 => "int8",
            Self::Text => "text",
            Self::Uuid => "uuid",
            Self::Bool => "bool",
            Self::Timestamptz => "timestamptz",
            Self::Timestamp => "timestamp",
            Self::Date => "date",
        }
    }

    /// Whether values of the two types compare with each other: the integer types do (Postgres
    /// has cross-type operators for them); `timestamp`, `timestamptz` and `date` do not, because
    /// Postgres would convert between them through the session time zone.
    pub(super) fn comparable(self, other: Self) -> bool {
        self == other || (self.is_integer() && other.is_integer())
    }

    pub(super) fn is_integer(self) -> bool {
        matches!(self, Self::Int2 | Self::Int4 | Self::Int8)
    }

    /// The type a constant is bound as in the snapshot query. Integers go as `int8`: an integer
    /// literal outside an `int2` column's range is valid SQL that compares as false, and must
    /// not fail a cast to `int2`; Postgres's cross-type integer operators still use the index.
    pub(super) fn bind_name(self) -> &'static str {
        if self.is_integer() {
            "int8"
        } else {
            self.name()
        }
    }

    /// Reads a value of this type from Postgres text: a row value in output form (TimeZone=UTC,
    /// DateStyle=ISO), or a literal or param in the input forms we accept. `None` when it is not
    /// a valid value of the type.
    pub(super) fn parse(self, text: &str) -> Option<Datum<'_>> {
        match self {
            Self::Int2 => parse_int(text)
                .filter(|v| i16::try_from(*v).is_ok())
                .map(Datum::Int),
            Self::Int4 => parse_int(text)
                .filter(|v| i32::try_from(*v).is_ok())
                .map(Datum::Int),
            Self::Int8 => parse_int(text).map(Datum::Int),
            Self::Text => Some(Datum::Text(text)),
            Self::Uuid => uuid::Uuid::try_parse(text.trim())
                .ok()
                .map(|u| Datum::Uuid(u.as_u128())),
            Self::Bool => parse_bool(text).map(Datum::Bool),
            Self::Timestamptz => parse_timestamp(text, true).map(Datum::Timestamptz),
            Self::Timestamp => parse_timestamp(text, false).map(Datum::Timestamp),
            Self::Date => parse_date(text).map(Datum::Date),
        }
    }
}

/// A value read from text, borrowing text values so evaluating a row allocates nothing. Only
/// datums of the same variant are ever compared (the compiler type-checks), so the derived
/// order is the SQL order: integers numerically, text bytewise (the C collation), uuids as
/// their 16 bytes (which is how Postgres orders them), `false < true`, times chronologically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Datum<'a> {
    Int(i64),
    Text(&'a str),
    Uuid(u128),
    Bool(bool),
    /// Microseconds since 2000-01-01 00:00 UTC.
    Timestamptz(i64),
    /// Microseconds since 2000-01-01 00:00, no time zone.
    Timestamp(i64),
    /// Days since 2000-01-01.
    Date(i64),
}

/// A constant of the where clause, parsed once at compile time. Variant for variant the same
/// as [`Datum`], so the derived orders agree (IN lists are sorted by it and searched by datum).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Const {
    Int(i64),
    Text(Box<str>),
    Uuid(u128),
    Bool(bool),
    Timestamptz(i64),
    Timestamp(i64),
    Date(i64),
}

impl Const {
    pub(super) fn from_datum(datum: Datum<'_>) -> Self {
        match datum {
            Datum::Int(v) => Self::Int(v),
            Datum::Text(v) => Self::Text(v.into()),
            Datum::Uuid(v) => Self::Uuid(v),
            Datum::Bool(v) => Self::Bool(v),
            Datum::Timestamptz(v) => Self::Timestamptz(v),
            Datum::Timestamp(v) => Self::Timestamp(v),
            Datum::Date(v) => Self::Date(v),
        }
    }

    pub(super) fn datum(&self) -> Datum<'_> {
        match self {
            Self::Int(v) => Datum::Int(*v),
            Self::Text(v) => Datum::Text(v),
            Self::Uuid(v) => Datum::Uuid(*v),
            Self::Bool(v) => Datum::Bool(*v),
            Self::Timestamptz(v) => Datum::Timestamptz(*v),
            Self::Timestamp(v) => Datum::Timestamp(*v),
            Self::Date(v) => Datum::Date(*v),
        }
    }

    /// The value as Postgres prints it with TimeZone=UTC and DateStyle=ISO. Bound into the
    /// snapshot query as is, so timestamps always carry an explicit offset and do not depend on
    /// the session's time zone.
    pub(super) fn to_pg_text(&self) -> String {
        match self {
            Self::Int(v) => v.to_string(),
            Self::Text(v) => v.to_string(),
            Self::Uuid(v) => uuid::Uuid::from_u128(*v).hyphenated().to_string(),
            Self::Bool(v) => if *v { "t" } else { "f" }.to_string(),
            Self::Timestamptz(v) => format_timestamp(*v, true),
            Self::Timestamp(v) => format_timestamp(*v, false),
            Self::Date(v) => format_date(*v),
        }
    }
}

fn parse_int(text: &str) -> Option<i64> {
    text.trim().parse().ok()
}

/// Postgres's `boolin`: `t`/`f`, `true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0`, any case,
/// and unambiguous prefixes of the words.
pub(super) fn parse_bool(text: &str) -> Option<bool> {
    let t = text.trim();
    let prefix_of = |word: &str| {
        !t.is_empty() && t.len() <= word.len() && word[..t.len()].eq_ignore_ascii_case(t)
    };
    if prefix_of("true") || prefix_of("yes") || t.eq_ignore_ascii_case("on") || t == "1" {
        Some(true)
    } else if prefix_of("false")
        || prefix_of("no")
        || (t.len() >= 2 && prefix_of("off"))
        || t == "0"
    {
        Some(false)
    } else {
        None
    }
}

const MICROS_PER_DAY: i64 = 86_400_000_000;
/// Days from 1970-01-01 (the civil-date algorithm's epoch) to 2000-01-01 (Postgres's).
const DAYS_1970_TO_2000: i64 = 10_957;

fn infinity(text: &str) -> Option<i64> {
    if text.eq_ignore_ascii_case("infinity") || text.eq_ignore_ascii_case("+infinity") {
        Some(i64::MAX)
    } else if text.eq_ignore_ascii_case("-infinity") {
        Some(i64::MIN)
    } else {
        None
    }
}

/// `YYYY-MM-DD[ BC]` or `±infinity`, as days since 2000-01-01.
pub(super) fn parse_date(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Some(v) = infinity(text) {
        return Some(v);
    }
    let mut c = Cursor::new(text);
    let (year, month, day) = c.ymd()?;
    let bc = c.bc();
    c.end()?;
    days_since_2000(year, bc, month, day)
}

/// `YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]]][ ][Z|UTC|±HH[[:]MM[[:]SS]]][ BC]` or `±infinity`, as
/// microseconds since 2000-01-01. With `with_zone` the offset is applied (none means UTC: the
/// service's sessions run with TimeZone=UTC); without, it is ignored, as Postgres ignores an
/// offset given for a `timestamp`.
pub(super) fn parse_timestamp(text: &str, with_zone: bool) -> Option<i64> {
    let text = text.trim();
    if let Some(v) = infinity(text) {
        return Some(v);
    }
    let mut c = Cursor::new(text);
    let (year, month, day) = c.ymd()?;
    let time_follows = matches!(c.peek(0), Some(b'T' | b't'))
        || (c.peek(0) == Some(b' ') && c.peek(1).is_some_and(|b| b.is_ascii_digit()));
    let time = if time_follows {
        c.i += 1;
        c.time()?
    } else {
        0
    };
    let offset = c.zone()?;
    let bc = c.bc();
    c.end()?;
    let local = days_since_2000(year, bc, month, day)?
        .checked_mul(MICROS_PER_DAY)?
        .checked_add(time)?;
    if with_zone {
        local.checked_sub(offset * 1_000_000)
    } else {
        Some(local)
    }
}

/// A byte cursor over an ASCII date/time text.
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            s: text.as_bytes(),
            i: 0,
        }
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.s.get(self.i + ahead).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek(0) == Some(b);
        self.i += usize::from(hit);
        hit
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let end = self.i + word.len();
        let hit = self
            .s
            .get(self.i..end)
            .is_some_and(|s| s.eq_ignore_ascii_case(word.as_bytes()));
        if hit {
            self.i = end;
        }
        hit
    }

    fn skip_spaces(&mut self) {
        while self.eat(b' ') {}
    }

    /// Between `min` and `max` decimal digits.
    fn digits(&mut self, min: usize, max: usize) -> Option<i64> {
        let start = self.i;
        let mut value = 0i64;
        while self.i - start < max {
            match self.peek(0) {
                Some(b @ b'0'..=b'9') => {
                    value = value * 10 + i64::from(b - b'0');
                    self.i += 1;
                }
                _ => break,
            }
        }
        (self.i - start >= min).then_some(value)
    }

    fn ymd(&mut self) -> Option<(i64, i64, i64)> {
        let year = self.digits(4, 7)?;
        self.eat(b'-').then_some(())?;
        let month = self.digits(1, 2)?;
        self.eat(b'-').then_some(())?;
        let day = self.digits(1, 2)?;
        Some((year, month, day))
    }

    /// `HH:MM[:SS[.fraction]]` as microseconds; `24:00:00` is allowed as Postgres allows it.
    fn time(&mut self) -> Option<i64> {
        let hour = self.digits(1, 2)?;
        self.eat(b':').then_some(())?;
        let minute = self.digits(2, 2)?;
        let mut second = 0;
        let mut micros = 0;
        if self.eat(b':') {
            second = self.digits(2, 2)?;
            if self.eat(b'.') {
                micros = self.fraction()?;
            }
        }
        let in_range = minute < 60
            && second <= 60
            && (hour < 24 || (hour == 24 && minute == 0 && second == 0 && micros == 0));
        in_range.then_some(((hour * 60 + minute) * 60 + second) * 1_000_000 + micros)
    }

    /// Decimal fraction digits as microseconds, rounded half up past the sixth digit.
    fn fraction(&mut self) -> Option<i64> {
        let start = self.i;
        let mut micros = 0;
        let mut round_up = false;
        while let Some(b @ b'0'..=b'9') = self.peek(0) {
            let n = self.i - start;
            if n < 6 {
                micros = micros * 10 + i64::from(b - b'0');
            } else if n == 6 {
                round_up = b >= b'5';
            }
            self.i += 1;
        }
        let n = self.i - start;
        if n == 0 {
            return None;
        }
        for _ in n..6 {
            micros *= 10;
        }
        Some(micros + i64::from(round_up))
    }

    /// An optional zone after optional spaces, as seconds east of UTC (0 when absent).
    fn zone(&mut self) -> Option<i64> {
        self.skip_spaces();
        let sign = match self.peek(0) {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => {
                // `Z` and `UTC`; any other zone name is rejected by the end-of-text check.
                let _ = self.eat_word("utc") || self.eat_word("z");
                return Some(0);
            }
        };
        self.i += 1;
        let hours = self.digits(1, 2)?;
        let mut minutes = 0;
        let mut seconds = 0;
        if self.eat(b':') {
            minutes = self.digits(2, 2)?;
            if self.eat(b':') {
                seconds = self.digits(2, 2)?;
            }
        } else if self.peek(0).is_some_and(|b| b.is_ascii_digit()) {
            minutes = self.digits(2, 2)?;
        }
        (hours <= 15 && minutes < 60 && seconds < 60)
            .then_some(sign * ((hours * 60 + minutes) * 60 + seconds))
    }

    fn bc(&mut self) -> bool {
        self.skip_spaces();
        self.eat_word("bc")
    }

    fn end(&self) -> Option<()> {
        (self.i == self.s.len()).then_some(())
    }
}

/// Days since 2000-01-01 of a proleptic Gregorian date (as Postgres uses), validating the day
/// of the month. Years are as written: there is no year 0, `1 BC` is the year before `1`.
fn days_since_2000(year: i64, bc: bool, month: i64, day: i64) -> Option<i64> {
    if year == 0 || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, bc, month) {
        return None;
    }
    let year = if bc { 1 - year } else { year };
    // Howard Hinnant's days_from_civil, on a year that starts in March.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468 - DAYS_1970_TO_2000)
}

fn days_in_month(year: i64, bc: bool, month: i64) -> i64 {
    let year = if bc { 1 - year } else { year };
    let leap = year.rem_euclid(4) == 0 && (year.rem_euclid(100) != 0 || year.rem_euclid(400) == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// (astronomical year, month, day) of a day count since 2000-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + DAYS_1970_TO_2000 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `YYYY-MM-DD` with the ` BC` suffix Postgres appends after everything else.
fn write_ymd(out: &mut String, days: i64) -> bool {
    let (year, month, day) = civil_from_days(days);
    let bc = year <= 0;
    let year = if bc { 1 - year } else { year };
    out.push_str(&format!("{year:04}-{month:02}-{day:02}"));
    bc
}

fn format_date(days: i64) -> String {
    match days {
        i64::MAX => "infinity".into(),
        i64::MIN => "-infinity".into(),
        _ => {
            let mut out = String::new();
            if write_ymd(&mut out, days) {
                out.push_str(" BC");
            }
            out
        }
    }
}

fn format_timestamp(micros: i64, with_zone: bool) -> String {
    match micros {
        i64::MAX => return "infinity".into(),
        i64::MIN => return "-infinity".into(),
        _ => {}
    }
    let mut out = String::new();
    let bc = write_ymd(&mut out, micros.div_euclid(MICROS_PER_DAY));
    let time = micros.rem_euclid(MICROS_PER_DAY);
    let seconds = time / 1_000_000;
    out.push_str(&format!(
        " {:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    ));
    let fraction = time % 1_000_000;
    if fraction != 0 {
        let digits = format!("{fraction:06}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    if with_zone {
        out.push_str("+00");
    }
    if bc {
        out.push_str(" BC");
    }
    out
}

//! Parsing and printing of values like Postgres: bools, timestamps and civil dates.

use crate::server::shapes::where_clause::value::{
    Const, SqlType, parse_bool, parse_date, parse_timestamp,
};

#[test]
fn bools_parse_like_postgres() {
    for t in ["t", "TRUE", "tr", "y", "Yes", "on", "1", " true "] {
        assert_eq!(parse_bool(t), Some(true), "{t}");
    }
    for f in ["f", "False", "n", "NO", "off", "of", "0"] {
        assert_eq!(parse_bool(f), Some(false), "{f}");
    }
    for bad in ["", "o", "2", "truee", "nope"] {
        assert_eq!(parse_bool(bad), None, "{bad}");
    }
}

#[test]
fn timestamps_parse_and_print_like_postgres() {
    let utc = |s| parse_timestamp(s, true);
    assert_eq!(utc("2000-01-01 00:00:00+00"), Some(0));
    assert_eq!(utc("2000-01-01T00:00:01.5Z"), Some(1_500_000));
    assert_eq!(utc("2000-01-01 01:00:00+01"), Some(0));
    assert_eq!(utc("2000-01-01 01:30:00+0130"), Some(0));
    assert_eq!(utc("1999-12-31 23:00:00-01:00"), Some(0));
    assert_eq!(
        utc("2000-01-01 00:00:00.0000005"),
        Some(1),
        "rounded to microseconds"
    );
    assert_eq!(utc("1999-12-31 24:00:00"), Some(0));
    assert_eq!(
        parse_timestamp("2000-01-01 01:00:00+01", false),
        Some(3_600_000_000)
    );
    for bad in [
        "2000-01-01 25:00",
        "2000-02-30",
        "2000-01-01 10",
        "01-01-2000",
        "2000-01-01 PST",
        "0000-01-01",
        "2000-01-01 10:00:00+16",
    ] {
        assert_eq!(utc(bad), None, "{bad}");
    }
    let cases = [
        ("2026-11-25 10:00:00+00", SqlType::Timestamptz),
        ("2026-11-25 10:00:00.123456+00", SqlType::Timestamptz),
        ("2026-11-25 10:00:00.5+00", SqlType::Timestamptz),
        ("0044-03-15 12:00:00+00 BC", SqlType::Timestamptz),
        ("294276-12-31 23:59:59.999999+00", SqlType::Timestamptz),
        ("4714-11-24 00:00:00+00 BC", SqlType::Timestamptz),
        ("infinity", SqlType::Timestamptz),
        ("-infinity", SqlType::Timestamp),
        ("1970-01-01 00:00:00", SqlType::Timestamp),
        ("2024-02-29", SqlType::Date),
        ("0001-01-01 BC", SqlType::Date),
        ("5874897-12-31", SqlType::Date),
    ];
    for (text, ty) in cases {
        let parsed = ty.parse(text).unwrap_or_else(|| panic!("{text}"));
        assert_eq!(Const::from_datum(parsed).to_pg_text(), text);
    }
}

#[test]
fn civil_dates_round_trip_across_the_postgres_range() {
    let mut previous = None;
    for days in (-2_451_545..=2_800_000).step_by(997) {
        let text = Const::Date(days).to_pg_text();
        assert_eq!(parse_date(&text), Some(days), "{text}");
        assert!(previous < Some(days));
        previous = Some(days);
    }
}

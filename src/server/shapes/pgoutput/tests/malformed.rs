//! Malformed input: every truncation, trailing bytes, what and where each error says, huge
//! counts, and random garbage that must never panic.

use bytes::Bytes;

use super::{Msg, all_valid, begin};
use crate::server::shapes::pgoutput::{DecodeError, decode};

#[test]
fn every_truncation_of_every_valid_message_is_an_error() {
    for msg in all_valid() {
        let full = msg.bytes();
        decode(full.clone()).unwrap_or_else(|e| panic!("{e}: {:?}", msg.0));
        for cut in 0..full.len() {
            let result = decode(full.slice(..cut));
            let error = result.expect_err(&format!("prefix of {cut} bytes of {:?}", msg.0));
            let text = error.to_string();
            assert!(text.contains("byte"), "{text}");
        }
    }
}

#[test]
fn trailing_bytes_are_an_error() {
    for msg in all_valid() {
        let len = msg.0.len();
        let error = decode(msg.raw(&[0]).bytes()).unwrap_err();
        assert!(
            matches!(error, DecodeError::TrailingBytes { count: 1, at, .. } if at == len),
            "{error:?}"
        );
    }
    assert_eq!(
        decode(begin().raw(b"xy").bytes()).unwrap_err().to_string(),
        "2 trailing bytes after the begin message at byte 21"
    );
}

#[test]
fn malformed_inputs_say_what_and_where() {
    let cases: Vec<(Msg, &str)> = vec![
        (
            Msg::default(),
            "truncated message tag at byte 0: needs 1 bytes, 0 left",
        ),
        (Msg::tag(b'Z'), "unknown message tag 'Z' at byte 0"),
        (Msg::tag(0x01), "unknown message tag 0x01 at byte 0"),
        (
            Msg::tag(b'I').u32(1).u8(b'N').u16(1).u8(b'x'),
            "unknown tuple value kind 'x' at byte 8",
        ),
        (
            Msg::tag(b'I').u32(1).u8(b'X'),
            "expected 'N' (new tuple) at byte 5, found 'X'",
        ),
        (
            Msg::tag(b'U').u32(1).u8(b'Q'),
            "expected 'K', 'O' or 'N' (update tuple) at byte 5, found 'Q'",
        ),
        (
            Msg::tag(b'U').u32(1).u8(b'O').tuple(&[]).u8(b'K'),
            "expected 'N' (new tuple) at byte 8, found 'K'",
        ),
        (
            Msg::tag(b'D').u32(1).u8(b'N').tuple(&[]),
            "expected 'K' or 'O' (old tuple) at byte 5, found 'N'",
        ),
        (
            Msg::tag(b'I').u32(1).u8(b'N').u16(1).u8(b't').i32(-1),
            "negative text value -1 at byte 9",
        ),
        (
            Msg::tag(b'I')
                .u32(1)
                .u8(b'N')
                .u16(1)
                .u8(b't')
                .i32(10)
                .raw(b"abc"),
            "truncated text value at byte 13: needs 10 bytes, 3 left",
        ),
        (
            Msg::tag(b'T').i32(-2).u8(0),
            "negative truncate relation count -2 at byte 1",
        ),
        (
            Msg::tag(b'T').i32(1_000_000).u8(0).u32(1),
            "truncated truncate relation oids at byte 6: needs 4000000 bytes, 4 left",
        ),
        (
            Msg::tag(b'M').u8(2).u64(1).str("p").i32(0),
            "unknown logical message flags 0x02 at byte 1",
        ),
        (
            Msg::tag(b'M').u8(0).u64(1).str("p").i32(i32::MIN),
            "negative logical message content -2147483648 at byte 12",
        ),
        (
            Msg::tag(b'O').u64(1).raw(b"abc"),
            "unterminated origin name starting at byte 9",
        ),
        (
            Msg::tag(b'Y').u32(1).str("ok").raw(b"ab\xffc\0"),
            "invalid utf-8 in type name at byte 10",
        ),
    ];
    for (msg, expected) in cases {
        let error = decode(msg.bytes()).unwrap_err();
        assert_eq!(error.to_string(), expected, "{:?}", msg.0);
    }
}

#[test]
fn huge_counts_with_little_input_fail_without_preallocating() {
    // 65535 columns claimed, three bytes present: the capacity is capped by the input.
    let tuple = Msg::tag(b'I').u32(1).u8(b'N').u16(u16::MAX).raw(b"nnn");
    assert!(matches!(
        decode(tuple.bytes()),
        Err(DecodeError::Truncated { at: 11, .. })
    ));
    let relation = Msg::tag(b'R')
        .u32(1)
        .str("s")
        .str("t")
        .u8(b'd')
        .u16(u16::MAX)
        .raw(b"\x01");
    assert!(decode(relation.bytes()).is_err());
    let truncate = Msg::tag(b'T').i32(i32::MAX).u8(0);
    assert!(matches!(
        decode(truncate.bytes()),
        Err(DecodeError::Truncated { needed, .. }) if needed == i32::MAX as usize * 4
    ));
    let logical = Msg::tag(b'M').u8(1).u64(1).str("p").i32(i32::MAX).raw(b"x");
    assert!(decode(logical.bytes()).is_err());
}

/// Random bytes, random bytes behind a valid tag, and random mutations of valid messages:
/// none may panic. Deterministic, so a failure reproduces.
#[test]
fn garbage_never_panics() {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    let mut rng = StdRng::seed_from_u64(0x005e_75e7);
    let tags = b"BCORYIUDTM";
    let valid = all_valid();
    let mut decoded_ok = 0;
    for round in 0..6000 {
        let mut bytes: Vec<u8> = match round % 3 {
            0 => (0..rng.random_range(0..48)).map(|_| rng.random()).collect(),
            1 => {
                let mut v = vec![tags[rng.random_range(0..tags.len())]];
                v.extend((0..rng.random_range(0..64)).map(|_| rng.random::<u8>()));
                v
            }
            _ => valid[rng.random_range(0..valid.len())].0.clone(),
        };
        if round % 3 == 2 {
            for _ in 0..rng.random_range(1..4) {
                let at = rng.random_range(0..bytes.len());
                match rng.random_range(0..3) {
                    0 => bytes[at] = rng.random(),
                    1 => {
                        bytes.remove(at);
                        if bytes.is_empty() {
                            break;
                        }
                    }
                    _ => bytes.insert(at, rng.random()),
                }
            }
        }
        if decode(Bytes::from(bytes)).is_ok() {
            decoded_ok += 1;
        }
    }
    // Mutations sometimes still form valid messages (e.g. a changed value byte); the point
    // is that no input panicked, but the generator must not be trivially all-invalid.
    assert!(decoded_ok > 0);
}

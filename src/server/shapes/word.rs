//! Word-at-a-time byte search: eight bytes checked with a few integer operations, for the hot
//! loops that scan row text (COPY rows, JSON escaping). A mask has the high bit set in (at
//! least) the lowest byte that matches, and is zero when no byte matches.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = ONES * 0x80;

/// The eight bytes at `at` as one little-endian word, when there are eight.
pub fn word_at(bytes: &[u8], at: usize) -> Option<u64> {
    let word = bytes.get(at..at + 8)?;
    Some(u64::from_le_bytes(word.try_into().expect("8 bytes")))
}

/// Marks the bytes of `word` equal to `byte`.
pub fn equal(word: u64, byte: u8) -> u64 {
    let x = word ^ (ONES * u64::from(byte));
    x.wrapping_sub(ONES) & !x & HIGH
}

/// Marks the bytes of `word` below `limit` (at most 0x80).
pub fn below(word: u64, limit: u8) -> u64 {
    word.wrapping_sub(ONES * u64::from(limit)) & !word & HIGH
}

/// The index of the lowest marked byte of a non-zero mask.
pub fn first(mask: u64) -> usize {
    mask.trailing_zeros() as usize / 8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_find_the_first_match_exactly() {
        let bytes = b"ab\tc\\d\x01\x7f\xff";
        let word = word_at(bytes, 0).unwrap();
        assert_eq!(first(equal(word, b'\t')), 2);
        assert_eq!(first(equal(word, b'\\')), 4);
        assert_eq!(first(below(word, 0x20)), 2);
        assert_eq!(equal(word, b'"'), 0);
        assert_eq!(first(below(word_at(bytes, 1).unwrap(), 0x09)), 5);
        assert!(word_at(bytes, 2).is_none());
    }
}

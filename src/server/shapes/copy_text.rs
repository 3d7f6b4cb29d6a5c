//! Rows in the text format of Postgres's `COPY … TO STDOUT`, part of its wire protocol: one
//! line per row, fields separated by a tab, `\N` for NULL, and a backslash before a field's
//! tabs, newlines, carriage returns, backslashes and other control characters (`\b \f \n \r
//! \t \v`, `\NNN` octal, `\xHH` hex, or the character itself). See "COPY" in the Postgres
//! documentation.
//!
//! [`Lines`] cuts the `CopyData` chunks into rows, checking UTF-8 once per chunk;
//! [`Fields`] splits a row into its values, reusing its buffers from row to row.

use super::word;

/// Why COPY output could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CopyTextError {
    #[error("a COPY row has {found} fields, expected {expected}")]
    Width { expected: usize, found: usize },
    #[error("COPY output is not UTF-8")]
    NotUtf8,
    #[error("COPY output ended inside a row")]
    Unfinished,
}

/// Assembles rows from `CopyData` chunks, which need not end on a row's end.
#[derive(Debug, Default)]
pub struct Lines {
    /// The start of a row whose end is in a later chunk.
    partial: Vec<u8>,
}

impl Lines {
    /// Hands each whole row of `chunk` (after what earlier chunks left) to `each`, without its
    /// newline.
    pub fn feed<E: From<CopyTextError>>(
        &mut self,
        chunk: &[u8],
        mut each: impl FnMut(&str) -> Result<(), E>,
    ) -> Result<(), E> {
        if self.partial.is_empty() && chunk.last() == Some(&b'\n') {
            return for_each_line(text(chunk)?, &mut each);
        }
        self.partial.extend_from_slice(chunk);
        let Some(end) = self.partial.iter().rposition(|&b| b == b'\n') else {
            return Ok(());
        };
        for_each_line(text(&self.partial[..=end])?, &mut each)?;
        self.partial.drain(..=end);
        Ok(())
    }

    /// Checks that the output ended on a row's end.
    pub fn finish(&self) -> Result<(), CopyTextError> {
        match self.partial.is_empty() {
            true => Ok(()),
            false => Err(CopyTextError::Unfinished),
        }
    }
}

fn text(bytes: &[u8]) -> Result<&str, CopyTextError> {
    std::str::from_utf8(bytes).map_err(|_| CopyTextError::NotUtf8)
}

/// Calls `each` per line of `lines`, which ends with a newline.
fn for_each_line<E>(lines: &str, each: &mut impl FnMut(&str) -> Result<(), E>) -> Result<(), E> {
    lines[..lines.len() - 1].split('\n').try_for_each(each)
}

/// Splits rows into values.
#[derive(Debug, Default)]
pub struct Fields {
    /// Unescaped copies of the fields that held a backslash.
    unescaped: Vec<u8>,
    spans: Vec<Span>,
}

#[derive(Debug, Clone, Copy)]
enum Span {
    Null,
    /// Byte range in the row itself.
    Row(usize, usize),
    /// Byte range in `unescaped`.
    Unescaped(usize, usize),
}

impl Fields {
    /// The `width` values of `row` (one line without its newline), `None` for NULL.
    pub fn split<'a>(
        &'a mut self,
        row: &'a str,
        width: usize,
    ) -> Result<Vec<Option<&'a str>>, CopyTextError> {
        self.unescaped.clear();
        self.spans.clear();
        let bytes = row.as_bytes();
        let (mut start, mut at, mut escaped) = (0, 0, false);
        loop {
            match next_tab_or_backslash(bytes, at) {
                Some(i) if bytes[i] == b'\\' => {
                    // The escaped character is never a field's end.
                    (at, escaped) = ((i + 2).min(bytes.len()), true);
                }
                Some(i) => {
                    self.push(&bytes[start..i], start, escaped);
                    (start, at, escaped) = (i + 1, i + 1, false);
                }
                None => {
                    self.push(&bytes[start..], start, escaped);
                    break;
                }
            }
        }
        if self.spans.len() != width {
            return Err(CopyTextError::Width {
                expected: width,
                found: self.spans.len(),
            });
        }
        let unescaped = text(&self.unescaped)?;
        Ok(self
            .spans
            .iter()
            .map(|span| match *span {
                Span::Null => None,
                Span::Row(from, to) => Some(&row[from..to]),
                Span::Unescaped(from, to) => unescaped.get(from..to),
            })
            .collect())
    }
}

impl Fields {
    /// Records the field `field`, found at `start` in its row, which holds a backslash when
    /// `escaped`.
    fn push(&mut self, field: &[u8], start: usize, escaped: bool) {
        let span = if !escaped {
            Span::Row(start, start + field.len())
        } else if field == b"\\N" {
            Span::Null
        } else {
            let from = self.unescaped.len();
            unescape(field, &mut self.unescaped);
            Span::Unescaped(from, self.unescaped.len())
        };
        self.spans.push(span);
    }
}

/// The position of the first tab or backslash in `bytes` from `at`, checked a word at a time.
fn next_tab_or_backslash(bytes: &[u8], mut at: usize) -> Option<usize> {
    while let Some(w) = word::word_at(bytes, at) {
        let mask = word::equal(w, b'\t') | word::equal(w, b'\\');
        if mask != 0 {
            return Some(at + word::first(mask));
        }
        at += 8;
    }
    let rest = bytes.get(at..)?;
    (rest.iter().position(|&b| b == b'\t' || b == b'\\')).map(|i| at + i)
}

/// Appends `field` to `out` with its backslash escapes resolved.
fn unescape(field: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < field.len() {
        let byte = field[i];
        i += 1;
        if byte != b'\\' || i == field.len() {
            out.push(byte);
            continue;
        }
        let escaped = field[i];
        i += 1;
        let value = match escaped {
            b'b' => 8,
            b'f' => 12,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'v' => 11,
            b'0'..=b'7' => {
                let (value, digits) = number(&field[i - 1..], 8, 3);
                i += digits - 1;
                value
            }
            b'x' => match number(&field[i..], 16, 2) {
                (_, 0) => b'x',
                (value, digits) => {
                    i += digits;
                    value
                }
            },
            other => other,
        };
        out.push(value);
    }
}

/// The value of up to `max` leading digits of `text` in `radix`, and how many there were.
fn number(text: &[u8], radix: u32, max: usize) -> (u8, usize) {
    let mut value = 0_u32;
    let mut digits = 0;
    for digit in text
        .iter()
        .take(max)
        .map_while(|&b| (b as char).to_digit(radix))
    {
        value = value * radix + digit;
        digits += 1;
    }
    (value as u8, digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(chunks: &[&[u8]]) -> Vec<String> {
        let mut lines = Lines::default();
        let mut out = Vec::new();
        for chunk in chunks {
            lines
                .feed::<CopyTextError>(chunk, |row| {
                    out.push(row.to_owned());
                    Ok(())
                })
                .unwrap();
        }
        lines.finish().unwrap();
        out
    }

    #[test]
    fn rows_are_reassembled_across_chunks() {
        assert_eq!(
            rows(&[b"a\tb\n", b"c\td\ne\tf\n"]),
            ["a\tb", "c\td", "e\tf"]
        );
        assert_eq!(rows(&[b"a\t", b"b\nc", b"\td\n"]), ["a\tb", "c\td"]);
        // A multi-byte character split between chunks.
        assert_eq!(rows(&[b"\xc3", b"\xa9\n"]), ["é"]);
        let mut lines = Lines::default();
        lines.feed::<CopyTextError>(b"a\tb", |_| Ok(())).unwrap();
        assert_eq!(lines.finish(), Err(CopyTextError::Unfinished));
    }

    #[test]
    fn fields_are_split_and_unescaped() {
        let mut fields = Fields::default();
        let row = "1\t\\N\ta\\tb\\\\c\\nd\t\\101\\x42\\q\té\t";
        assert_eq!(
            fields.split(row, 6).unwrap(),
            [
                Some("1"),
                None,
                Some("a\tb\\c\nd"),
                Some("ABq"),
                Some("é"),
                Some("")
            ]
        );
        assert_eq!(
            fields.split("1\t2", 3),
            Err(CopyTextError::Width {
                expected: 3,
                found: 2
            })
        );
        assert_eq!(
            fields.split("\\b\\f\\v\\r", 1).unwrap(),
            [Some("\x08\x0c\x0b\r")]
        );
    }
}

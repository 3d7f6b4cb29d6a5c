//! Positions in a shape log, written `<tx>_<op>` as Electric does.
//!
//! Snapshot rows have `tx = 0` and count up from `0_0`; replicated changes use the commit LSN
//! of their transaction and their position in it (`27344208_4`). Offsets order as `(tx, op)`,
//! with `inf` above every number; `-1` (before everything) and `now` are request-only forms.

use std::fmt;
use std::str::FromStr;

use crate::protocol;

/// A position in a shape log. Entries with a larger offset come later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct LogOffset {
    pub tx: u64,
    pub op: u64,
}

impl LogOffset {
    /// The `op` value written as `inf`.
    pub const INF_OP: u64 = u64::MAX;

    pub const fn new(tx: u64, op: u64) -> Self {
        Self { tx, op }
    }

    /// The first snapshot position, `0_0`.
    pub const ZERO: Self = Self::new(0, 0);
}

impl fmt::Display for LogOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.op == Self::INF_OP {
            write!(f, "{}_inf", self.tx)
        } else {
            write!(f, "{}_{}", self.tx, self.op)
        }
    }
}

/// The `offset` a client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOffset {
    /// `-1`: from the very beginning, snapshot included.
    Start,
    /// `now`: skip history, start at the log's end.
    Now,
    /// After this position.
    After(LogOffset),
}

/// An offset that is not `-1`, `now` or `<int>_<int|inf>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("has invalid format")]
pub struct InvalidOffset;

impl FromStr for RequestOffset {
    type Err = InvalidOffset;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            protocol::START_OFFSET => return Ok(Self::Start),
            "now" => return Ok(Self::Now),
            _ => {}
        }
        let (tx, op) = text.split_once('_').ok_or(InvalidOffset)?;
        let number = |part: &str| {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(InvalidOffset);
            }
            part.parse::<u64>().map_err(|_| InvalidOffset)
        };
        let tx = number(tx)?;
        let op = if op == "inf" {
            LogOffset::INF_OP
        } else {
            number(op)?
        };
        Ok(Self::After(LogOffset::new(tx, op)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!("-1".parse(), Ok(RequestOffset::Start));
        assert_eq!("now".parse(), Ok(RequestOffset::Now));
        assert_eq!("0_0".parse(), Ok(RequestOffset::After(LogOffset::ZERO)));
        assert_eq!(
            "27344208_4".parse(),
            Ok(RequestOffset::After(LogOffset::new(27344208, 4)))
        );
        assert_eq!(
            "0_02".parse(),
            Ok(RequestOffset::After(LogOffset::new(0, 2)))
        );
        assert_eq!(
            "5_inf".parse(),
            Ok(RequestOffset::After(LogOffset::new(5, LogOffset::INF_OP)))
        );
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "_",
            "1_",
            "_1",
            "-2",
            "1_-1",
            "a_b",
            "1_2_3",
            "99999999999999999999_0",
            " 1_0",
        ] {
            assert_eq!(bad.parse::<RequestOffset>(), Err(InvalidOffset), "{bad:?}");
        }
    }

    #[test]
    fn orders_and_prints_like_electric() {
        assert!(LogOffset::new(0, 5) < LogOffset::new(1, 0));
        assert!(LogOffset::new(7, 3) < LogOffset::new(7, LogOffset::INF_OP));
        assert_eq!(LogOffset::new(7, LogOffset::INF_OP).to_string(), "7_inf");
        assert_eq!(LogOffset::new(27344208, 4).to_string(), "27344208_4");
    }
}

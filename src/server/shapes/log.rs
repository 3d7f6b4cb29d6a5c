//! One shape's log on disk: its messages, already encoded as JSON, in offset order.
//!
//! `data` holds the messages back to back, each followed by a comma, so a response body is
//! `[` + one contiguous byte range (minus its last comma) + `]`: serving is a `pread`, with no
//! parsing or re-encoding. `index` holds a fixed 24-byte record per message (tx, op, end
//! position). Appends collect in memory and reach the files on [`ShapeLog::commit`], which
//! makes them visible to readers; [`ShapeLog::sync`] makes them durable. On open, a torn tail
//! (a crash mid-write) is cut back to the last whole record.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::Arc;

use super::offset::LogOffset;
use super::positional;

const RECORD: usize = 24;

#[derive(Debug, Clone, Copy)]
struct Entry {
    offset: LogOffset,
    /// End of this message's bytes (and its comma) in `data`.
    end: u64,
}

/// A contiguous run of messages to serve.
#[derive(Debug, Clone)]
pub struct Slice {
    /// Byte range in the data file, trailing comma included.
    pub start: u64,
    pub end: u64,
    /// Offset of the last message in the run: the response's `electric-offset`.
    pub last: LogOffset,
    /// Where each message ends within `start..end` (for SSE, which sends them one by one).
    pub boundaries: Vec<u64>,
    /// True when the run reaches the last visible message.
    pub reaches_end: bool,
}

/// Messages encoded back to back, each followed by its comma, with their offsets: appended to
/// a log in one write by [`ShapeLog::commit_batch`].
#[derive(Debug, Default)]
pub struct Batch {
    data: Vec<u8>,
    /// Each message's offset and the end of its bytes (and comma) in `data`.
    entries: Vec<(LogOffset, usize)>,
}

impl Batch {
    /// Adds the message that `encode` writes, at `offset` (above every earlier one).
    pub fn push(&mut self, offset: LogOffset, encode: impl FnOnce(&mut Vec<u8>)) {
        encode(&mut self.data);
        self.data.push(b',');
        self.entries.push((offset, self.data.len()));
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Empties the batch, keeping its buffers.
    pub fn clear(&mut self) {
        self.data.clear();
        self.entries.clear();
    }
}

#[derive(Debug)]
pub struct ShapeLog {
    data: Arc<File>,
    index: File,
    entries: Vec<Entry>,
    pending_data: Vec<u8>,
    pending_entries: Vec<Entry>,
    data_len: u64,
    unsynced: bool,
}

impl ShapeLog {
    /// Creates an empty log in `dir` (which must exist), replacing any old files.
    pub fn create(dir: &Path) -> io::Result<Self> {
        let data = open_rw(&dir.join("data"), true)?;
        let index = open_rw(&dir.join("index"), true)?;
        Ok(Self {
            data: Arc::new(data),
            index,
            entries: Vec::new(),
            pending_data: Vec::new(),
            pending_entries: Vec::new(),
            data_len: 0,
            unsynced: true,
        })
    }

    /// Opens the log in `dir`, cutting a torn tail back to the last whole message.
    pub fn open(dir: &Path) -> io::Result<Self> {
        let mut index = open_rw(&dir.join("index"), false)?;
        let data = open_rw(&dir.join("data"), false)?;
        let mut raw = Vec::new();
        index.read_to_end(&mut raw)?;
        let data_len = data.metadata()?.len();
        let mut entries = Vec::with_capacity(raw.len() / RECORD);
        let mut previous = None;
        for record in raw.chunks_exact(RECORD) {
            let field = |i: usize| {
                u64::from_le_bytes(record[i * 8..i * 8 + 8].try_into().expect("8 bytes"))
            };
            let entry = Entry {
                offset: LogOffset::new(field(0), field(1)),
                end: field(2),
            };
            let in_order =
                previous.is_none_or(|p: Entry| p.offset < entry.offset && p.end < entry.end);
            if entry.end > data_len || !in_order {
                break;
            }
            entries.push(entry);
            previous = Some(entry);
        }
        let kept_data = entries.last().map_or(0, |e| e.end);
        data.set_len(kept_data)?;
        index.set_len((entries.len() * RECORD) as u64)?;
        Ok(Self {
            data: Arc::new(data),
            index,
            entries,
            pending_data: Vec::new(),
            pending_entries: Vec::new(),
            data_len: kept_data,
            unsynced: true,
        })
    }

    /// Queues one encoded message at `offset` (which must exceed every earlier offset).
    pub fn append(&mut self, offset: LogOffset, message: &[u8]) {
        debug_assert!(self.last_offset_any().is_none_or(|last| last < offset));
        self.pending_data.extend_from_slice(message);
        self.pending_data.push(b',');
        let end = self.data_len + self.pending_data.len() as u64;
        self.pending_entries.push(Entry { offset, end });
    }

    fn last_offset_any(&self) -> Option<LogOffset> {
        self.pending_entries
            .last()
            .or(self.entries.last())
            .map(|e| e.offset)
    }

    /// Writes queued messages to the files and makes them visible to readers.
    pub fn commit(&mut self) -> io::Result<()> {
        if self.pending_entries.is_empty() {
            return Ok(());
        }
        let data = std::mem::take(&mut self.pending_data);
        let entries = std::mem::take(&mut self.pending_entries);
        let written = self.write(&data, entries.iter().copied());
        (self.pending_data, self.pending_entries) = (data, entries);
        written?;
        self.pending_data.clear();
        self.pending_entries.clear();
        Ok(())
    }

    /// Writes `batch` after everything queued and makes it visible to readers, without copying
    /// its bytes into the queue first.
    pub fn commit_batch(&mut self, batch: &Batch) -> io::Result<()> {
        self.commit()?;
        debug_assert!(
            (batch.entries.first())
                .is_none_or(|(first, _)| self.latest().is_none_or(|l| l < *first))
        );
        let base = self.data_len;
        let entries = batch.entries.iter().map(|&(offset, end)| Entry {
            offset,
            end: base + end as u64,
        });
        self.write(&batch.data, entries)
    }

    /// Appends `data` and the index records of `new_entries` (whose ends count from the current
    /// end of the data) to the files.
    fn write(
        &mut self,
        data: &[u8],
        new_entries: impl ExactSizeIterator<Item = Entry>,
    ) -> io::Result<()> {
        positional::write_all_at(&self.data, data, self.data_len)?;
        let first = self.entries.len();
        self.entries.extend(new_entries);
        let mut records = Vec::with_capacity((self.entries.len() - first) * RECORD);
        for entry in &self.entries[first..] {
            records.extend_from_slice(&entry.offset.tx.to_le_bytes());
            records.extend_from_slice(&entry.offset.op.to_le_bytes());
            records.extend_from_slice(&entry.end.to_le_bytes());
        }
        if let Err(error) = self.index.write_all(&records) {
            self.entries.truncate(first);
            return Err(error);
        }
        self.data_len += data.len() as u64;
        self.unsynced = true;
        Ok(())
    }

    /// Flushes committed messages to stable storage (a no-op when nothing changed).
    pub fn sync(&mut self) -> io::Result<()> {
        if self.unsynced {
            self.data.sync_data()?;
            self.index.sync_data()?;
            self.unsynced = false;
        }
        Ok(())
    }

    /// The offset of the last visible message.
    pub fn latest(&self) -> Option<LogOffset> {
        self.entries.last().map(|e| e.offset)
    }

    /// The visible messages after `after` (all of them for `None`), at most `max_bytes` of them
    /// (but always at least one), or `None` when there are none.
    pub fn slice_after(&self, after: Option<LogOffset>, max_bytes: u64) -> Option<Slice> {
        let first = match after {
            None => 0,
            Some(after) => self.entries.partition_point(|e| e.offset <= after),
        };
        let first_entry = self.entries.get(first)?;
        let start = if first == 0 {
            0
        } else {
            self.entries[first - 1].end
        };
        let mut boundaries = vec![first_entry.end];
        let mut last_index = first;
        for (i, entry) in self.entries.iter().enumerate().skip(first + 1) {
            if entry.end - start > max_bytes {
                break;
            }
            boundaries.push(entry.end);
            last_index = i;
        }
        Some(Slice {
            start,
            end: self.entries[last_index].end,
            last: self.entries[last_index].offset,
            boundaries,
            reaches_end: last_index + 1 == self.entries.len(),
        })
    }

    /// A handle for reading message bytes without holding the log.
    pub fn reader(&self) -> Arc<File> {
        Arc::clone(&self.data)
    }

    /// Number of visible messages.
    /// Bytes the log takes on disk (data and index).
    pub fn disk_bytes(&self) -> u64 {
        self.data_len + (self.entries.len() * RECORD) as u64
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Reads `start..end` of a log's data file.
pub fn read_range(file: &File, start: u64, end: u64) -> io::Result<Vec<u8>> {
    let mut buffer = Vec::new();
    read_range_into(file, start, end, &mut buffer)?;
    Ok(buffer)
}

/// Appends `start..end` of a log's data file to `out` (one allocation, no second copy).
pub fn read_range_into(file: &File, start: u64, end: u64, out: &mut Vec<u8>) -> io::Result<()> {
    let at = out.len();
    out.resize(at + (end - start) as usize, 0);
    positional::read_exact_at(file, &mut out[at..], start)
}

fn open_rw(path: &Path, truncate: bool) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(truncate)
        .open(path)
}

/// Deletes a log folder; a missing folder is not an error.
pub fn remove(dir: &Path) -> io::Result<()> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(log: &ShapeLog, slice: &Slice) -> String {
        String::from_utf8(read_range(&log.reader(), slice.start, slice.end).unwrap()).unwrap()
    }

    #[test]
    fn appends_become_visible_on_commit_and_slice_by_offset() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = ShapeLog::create(dir.path()).unwrap();
        log.append(LogOffset::new(0, 0), b"{\"a\":1}");
        log.append(LogOffset::new(0, 1), b"{\"b\":2}");
        assert!(
            log.slice_after(None, 1 << 20).is_none(),
            "not visible before commit"
        );
        log.commit().unwrap();
        let all = log.slice_after(None, 1 << 20).unwrap();
        assert_eq!(read(&log, &all), "{\"a\":1},{\"b\":2},");
        assert_eq!(all.last, LogOffset::new(0, 1));
        assert!(all.reaches_end);
        let rest = log
            .slice_after(Some(LogOffset::new(0, 0)), 1 << 20)
            .unwrap();
        assert_eq!(read(&log, &rest), "{\"b\":2},");
        assert!(
            log.slice_after(Some(LogOffset::new(0, 1)), 1 << 20)
                .is_none()
        );
    }

    #[test]
    fn slices_are_bounded_but_never_empty() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = ShapeLog::create(dir.path()).unwrap();
        for i in 0..10 {
            log.append(LogOffset::new(1, i), b"0123456789");
        }
        log.commit().unwrap();
        let first = log.slice_after(None, 25).unwrap();
        assert_eq!(first.boundaries.len(), 2);
        assert!(!first.reaches_end);
        let tiny = log.slice_after(None, 1).unwrap();
        assert_eq!(
            tiny.boundaries.len(),
            1,
            "one message even when it exceeds the limit"
        );
    }

    #[test]
    fn reopening_keeps_whole_messages_and_cuts_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut log = ShapeLog::create(dir.path()).unwrap();
            log.append(LogOffset::new(5, 0), b"{\"x\":1}");
            log.append(LogOffset::new(5, 2), b"{\"x\":2}");
            log.commit().unwrap();
            log.sync().unwrap();
        }
        // A crash mid-commit: half an index record and stray data bytes.
        {
            let mut index = OpenOptions::new()
                .append(true)
                .open(dir.path().join("index"))
                .unwrap();
            index.write_all(&[1, 2, 3]).unwrap();
            let mut data = OpenOptions::new()
                .append(true)
                .open(dir.path().join("data"))
                .unwrap();
            data.write_all(b"{\"torn").unwrap();
        }
        let mut log = ShapeLog::open(dir.path()).unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(log.latest(), Some(LogOffset::new(5, 2)));
        log.append(LogOffset::new(6, 0), b"{\"x\":3}");
        log.commit().unwrap();
        let all = log.slice_after(None, 1 << 20).unwrap();
        assert_eq!(read(&log, &all), "{\"x\":1},{\"x\":2},{\"x\":3},");
    }
}

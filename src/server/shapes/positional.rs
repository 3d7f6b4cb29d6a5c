//! Reading and writing a file at a byte position, with no shared cursor to race on: many
//! readers of a shape log serve from one open file while its writer appends. Unix has `pread`
//! and `pwrite` (`FileExt::read_exact_at`, `write_all_at`); Windows has `seek_read` and
//! `seek_write`, which may move fewer bytes than asked (so they are looped here) and leave the
//! file's cursor moved — which nothing here uses.

use std::fs::File;
use std::io;

/// Writes all of `buf` at `offset`.
#[cfg(unix)]
pub fn write_all_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, buf, offset)
}

/// Fills `buf` from `offset`; reaching the end of the file first is an error.
#[cfg(unix)]
pub fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

/// Writes all of `buf` at `offset`.
#[cfg(windows)]
pub fn write_all_at(file: &File, mut buf: &[u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_write(buf, offset) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                buf = &buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Fills `buf` from `offset`; reaching the end of the file first is an error.
#[cfg(windows)]
pub fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_written_at_a_position_is_read_back_there_and_past_the_end_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(dir.path().join("data"))
            .unwrap();
        write_all_at(&file, b"hello", 0).unwrap();
        write_all_at(&file, b", world", 5).unwrap();
        write_all_at(&file, b"W", 7).unwrap();
        let mut read = [0u8; 5];
        read_exact_at(&file, &mut read, 7).unwrap();
        assert_eq!(&read, b"World");
        let mut too_much = [0u8; 4];
        let error = read_exact_at(&file, &mut too_much, 10).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
    }
}

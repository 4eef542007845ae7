//! Reserving a segment's whole size on disk when it is created.
//!
//! An fdatasync after an append that grew the file must also commit the
//! new size and block allocation through the filesystem journal; writing
//! inside space reserved in advance only commits the data. On this
//! machine's ext4 that is 126 µs against 89 µs per fdatasync of a 200-byte
//! write, and every acknowledged write waits for one (etcd reserves its
//! 64 MiB segments the same way). The reserved space reads as zeros, which
//! `segment_scan` takes for the end of the data.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

/// Reserves `[from, to)` of `file` and sets its size to at least `to`.
/// Returns false, changing nothing, where the filesystem cannot do it (the
/// log then simply grows as it is written); other errors are returned.
pub fn reserve(file: &File, from: u64, to: u64) -> io::Result<bool> {
    if to <= from {
        return Ok(true);
    }
    let (Ok(offset), Ok(len)) = (i64::try_from(from), i64::try_from(to - from)) else {
        return Ok(false);
    };
    // SAFETY: fallocate only reads its integer arguments; the descriptor
    // belongs to `file`, open for writing, for the whole call.
    let rc = unsafe { libc::fallocate(file.as_raw_fd(), 0, offset, len) };
    if rc == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EOPNOTSUPP) | Some(libc::ENOSYS) | Some(libc::EINVAL) => Ok(false),
        _ => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn the_reserved_space_is_the_file_size_and_reads_as_zeros() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg");
        let file = File::create(&path).unwrap();
        if !reserve(&file, 0, 64 * 1024).unwrap() {
            return; // a filesystem without fallocate: nothing to check
        }
        assert_eq!(file.metadata().unwrap().len(), 64 * 1024);
        let mut bytes = Vec::new();
        File::open(&path).unwrap().read_to_end(&mut bytes).unwrap();
        assert!(bytes.iter().all(|b| *b == 0));
        assert!(
            reserve(&file, 64 * 1024, 64 * 1024).unwrap(),
            "an empty range"
        );
    }
}

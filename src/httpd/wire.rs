//! Buffered, deadline-aware reading of HTTP messages from a `Stream`.
//!
//! Shared by the server and the client: it knows lines, heads and byte
//! counts, never what a header means.

use super::stream::Stream;
use crossbeam_channel::{Receiver, Sender, bounded};
use std::io;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Smallest read issued to the stream; also the buffer a fresh connection gets.
const READ_CHUNK: usize = 8 * 1024;
/// A buffer grown past this by a big head is given back once it empties, so
/// thousands of idle keep-alive connections stay cheap.
const KEEP_BUFFER: usize = 16 * 1024;

/// Why a message could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The peer closed cleanly before sending the first byte of a message.
    Closed,
    /// The peer closed in the middle of a message.
    Truncated,
    /// The deadline passed or the socket timeout fired.
    TimedOut,
    /// A size cap was exceeded (the caller knows which one).
    TooLarge,
    /// The bytes do not follow HTTP/1.1 framing.
    Malformed(&'static str),
    /// Well-formed but not something we implement (e.g. gzip transfer coding).
    Unsupported(&'static str),
    Io(io::Error),
}

impl ReadError {
    pub(crate) fn into_io(self) -> io::Error {
        use io::ErrorKind as K;
        match self {
            ReadError::Io(e) => e,
            ReadError::Closed => io::Error::new(K::UnexpectedEof, "connection closed"),
            ReadError::Truncated => io::Error::new(K::UnexpectedEof, "message truncated"),
            ReadError::TimedOut => io::Error::new(K::TimedOut, "read timed out"),
            ReadError::TooLarge => io::Error::new(K::InvalidData, "message exceeds size cap"),
            ReadError::Malformed(m) | ReadError::Unsupported(m) => {
                io::Error::new(K::InvalidData, m)
            }
        }
    }
}

/// A stream plus the bytes read from it but not yet consumed.
pub(crate) struct Wire {
    pub(crate) stream: Box<dyn Stream>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// When set, every read is bounded by the time left until it.
    deadline: Option<Instant>,
    /// The socket's read timeout as last set here (None: not known).
    armed: Option<Duration>,
}

/// Read buffers given back by connections that went to wait in a handler
/// (or closed), taken by the next connection that reads. Without them every
/// request on a keep-alive connection allocated, zeroed and freed 8 KiB:
/// too big for glibc's per-thread cache, so each took the lock of a malloc
/// arena shared by dozens of connection threads. At most `SPARE_BUFFERS`
/// wait here (512 KiB), however many connections there are.
static SPARES: OnceLock<Spares> = OnceLock::new();
const SPARE_BUFFERS: usize = 64;
type Spares = (Sender<Vec<u8>>, Receiver<Vec<u8>>);

fn spares() -> &'static Spares {
    SPARES.get_or_init(|| bounded(SPARE_BUFFERS))
}

/// A buffer of `READ_CHUNK` bytes (their content is whatever was read last).
fn take_buffer() -> Vec<u8> {
    spares()
        .1
        .try_recv()
        .unwrap_or_else(|_| vec![0; READ_CHUNK])
}

/// Keeps `buf` for another connection if it has the usual size and there is
/// room; frees it otherwise.
fn give_back(buf: Vec<u8>) {
    if buf.len() == READ_CHUNK {
        let _ = spares().0.try_send(buf);
    }
}

/// How far from the deadline a read may end (before or after), so that the
/// socket timeout is not set again before each read: a keep-alive request
/// arms 30 s, and the next one needs 30 s give or take a few microseconds.
/// Each `setsockopt` was a quarter of a connection thread's system calls
/// per request.
const ARM_SLACK: Duration = Duration::from_millis(10);

impl Drop for Wire {
    fn drop(&mut self) {
        give_back(std::mem::take(&mut self.buf));
    }
}

impl Wire {
    pub(crate) fn new(stream: Box<dyn Stream>) -> Wire {
        Wire {
            stream,
            buf: take_buffer(),
            start: 0,
            end: 0,
            deadline: None,
            armed: None,
        }
    }

    pub(crate) fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// Gives the read buffer back if it holds nothing unread, so a handler
    /// that waits for long (a watch) keeps no buffer; the next read takes
    /// one from the spares (see `SPARES`).
    pub(crate) fn shed_buffer(&mut self) {
        if self.start == self.end {
            give_back(std::mem::take(&mut self.buf));
            self.start = 0;
            self.end = 0;
        }
    }

    fn buffered(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if self.buf.len() > KEEP_BUFFER {
                self.buf = take_buffer();
            }
        }
    }

    /// Arms the socket timeout for the time left before the deadline.
    fn arm_timeout(&mut self) -> Result<(), ReadError> {
        if let Some(deadline) = self.deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ReadError::TimedOut);
            }
            let close_enough = self
                .armed
                .is_some_and(|armed| armed.abs_diff(left) <= ARM_SLACK);
            if !close_enough {
                self.armed = None;
                self.stream
                    .set_read_timeout(Some(left))
                    .map_err(ReadError::Io)?;
                self.armed = Some(left);
            }
        }
        Ok(())
    }

    /// One read into `dst`, retrying interrupts and mapping timeouts.
    fn read_some(&mut self, out: &mut [u8]) -> Result<usize, ReadError> {
        loop {
            self.arm_timeout()?;
            match self.stream.read(out) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if is_timeout(&e) => return Err(ReadError::TimedOut),
                Err(e) => return Err(ReadError::Io(e)),
            }
        }
    }

    /// Reads more bytes into the buffer; `Ok(0)` means end of stream.
    fn fill(&mut self) -> Result<usize, ReadError> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.is_empty() {
            self.buf = take_buffer();
        }
        if self.buf.len() - self.end < READ_CHUNK {
            self.buf.resize(self.end + READ_CHUNK, 0);
        }
        let mut spare = std::mem::take(&mut self.buf);
        let got = self.read_some(&mut spare[self.end..]);
        self.buf = spare;
        let n = got?;
        self.end += n;
        Ok(n)
    }

    /// Reads a message head: everything up to and including the first empty
    /// line, after skipping empty lines a client may send between messages.
    /// More than `max` bytes without an end is `TooLarge`.
    pub(crate) fn read_head(&mut self, max: usize) -> Result<Vec<u8>, ReadError> {
        let mut seen_any = false;
        let mut scanned = 0;
        loop {
            let skip = self
                .buffered()
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
            if skip > 0 {
                seen_any = true;
                self.consume(skip);
                scanned = 0;
            }
            if let Some(end) = find_blank_line(self.buffered(), scanned) {
                if end > max {
                    return Err(ReadError::TooLarge);
                }
                let head = self.buffered()[..end].to_vec();
                self.consume(end);
                return Ok(head);
            }
            if self.buffered().len() > max {
                return Err(ReadError::TooLarge);
            }
            scanned = self.buffered().len();
            if self.fill()? == 0 {
                let nothing = self.buffered().is_empty() && !seen_any;
                return Err(if nothing {
                    ReadError::Closed
                } else {
                    ReadError::Truncated
                });
            }
        }
    }

    /// Reads one line of at most `max` bytes, without its line ending.
    /// The cap is on the line itself, however its bytes arrive: a line
    /// found whole in the buffer is measured too, and a `\r` still waiting
    /// for its `\n` does not count against it.
    pub(crate) fn read_line(&mut self, max: usize) -> Result<Vec<u8>, ReadError> {
        let mut scanned = 0;
        loop {
            if let Some(i) = self.buffered()[scanned..].iter().position(|&b| b == b'\n') {
                let end = scanned + i;
                let mut line = self.buffered()[..end].to_vec();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if line.len() > max {
                    return Err(ReadError::TooLarge);
                }
                self.consume(end + 1);
                return Ok(line);
            }
            scanned = self.buffered().len();
            if scanned > max.saturating_add(1) {
                return Err(ReadError::TooLarge);
            }
            if self.fill()? == 0 {
                return Err(ReadError::Truncated);
            }
        }
    }

    /// Appends exactly `n` bytes of the stream to `out`.
    pub(crate) fn read_exact_into(&mut self, out: &mut Vec<u8>, n: usize) -> Result<(), ReadError> {
        let mut left = n;
        while left > 0 {
            match self.read_into(out, left)? {
                0 => return Err(ReadError::Truncated),
                got => left -= got,
            }
        }
        Ok(())
    }

    /// Appends at most `max` bytes to `out`, from the buffer first, then with
    /// one read straight into `out`. Returns how many; 0 = end of stream.
    pub(crate) fn read_into(&mut self, out: &mut Vec<u8>, max: usize) -> Result<usize, ReadError> {
        if max == 0 {
            return Ok(0);
        }
        let have = self.buffered().len().min(max);
        if have > 0 {
            out.extend_from_slice(&self.buffered()[..have]);
            self.consume(have);
            return Ok(have);
        }
        let old = out.len();
        let want = max.min(64 * 1024);
        out.resize(old + want, 0);
        let got = self.read_some(&mut out[old..]);
        let n = *got.as_ref().unwrap_or(&0);
        out.truncate(old + n);
        got
    }

    /// Appends everything until the peer closes; more than `cap` bytes in
    /// `out` is `TooLarge`.
    pub(crate) fn read_to_close(&mut self, out: &mut Vec<u8>, cap: usize) -> Result<(), ReadError> {
        loop {
            let room = cap.saturating_sub(out.len()) + 1;
            if self.read_into(out, room)? == 0 {
                return Ok(());
            }
            if out.len() > cap {
                return Err(ReadError::TooLarge);
            }
        }
    }
}

pub(crate) fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// End (exclusive) of the first empty line in `bytes`, searching from about
/// `from` so that a head arriving byte by byte is not rescanned each time.
/// A line is empty when a `\n` is followed by `\n` or `\r\n`.
fn find_blank_line(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from.saturating_sub(2);
    while i < bytes.len() {
        if bytes[i] == b'\n' {
            match (bytes.get(i + 1), bytes.get(i + 2)) {
                (Some(b'\n'), _) => return Some(i + 2),
                (Some(b'\r'), Some(b'\n')) => return Some(i + 3),
                _ => {}
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::httpd::memory::wire;

    #[test]
    fn a_buffer_handed_on_carries_nothing_of_its_last_connection_into_the_next() {
        let (mut first, _) = wire(b"PUT /first-connection HTTP/1.1\r\nX: yyyyyyyy\r\n\r\n", 64);
        first.read_head(1000).unwrap();
        first.shed_buffer();
        assert!(first.buf.is_empty(), "shed while waiting");
        // Every later connection may get that buffer, stale bytes and all.
        let mut later: Vec<Wire> = (0..SPARE_BUFFERS + 1)
            .map(|_| wire(b"GET /b HTTP/1.1\r\n\r\nrest", 3).0)
            .collect();
        for w in &mut later {
            assert_eq!(w.read_head(1000).unwrap(), b"GET /b HTTP/1.1\r\n\r\n");
            let mut rest = Vec::new();
            w.read_exact_into(&mut rest, 4).unwrap();
            assert_eq!(rest, b"rest");
        }
        // And the first connection reads its next request into a buffer again.
        assert!(matches!(first.read_head(1000), Err(ReadError::Closed)));
        assert_eq!(first.buf.len(), READ_CHUNK);
    }

    #[test]
    fn head_ends_at_the_first_empty_line_and_the_rest_stays_buffered() {
        let (mut w, _) = wire(b"GET / HTTP/1.1\r\nA: b\r\n\r\nbody", 1);
        assert_eq!(
            w.read_head(1000).unwrap(),
            b"GET / HTTP/1.1\r\nA: b\r\n\r\n"
        );
        let mut rest = Vec::new();
        w.read_exact_into(&mut rest, 4).unwrap();
        assert_eq!(rest, b"body");
    }

    #[test]
    fn the_read_timeout_is_set_again_only_when_the_deadline_is_nearer_than_it_allows() {
        let (mut w, _, timeouts) = crate::httpd::memory::wire_noting_timeouts(
            b"GET / HTTP/1.1\r\n\r\n".repeat(3).as_slice(),
            4,
        );
        let long = Duration::from_secs(30);
        w.set_deadline(Some(Instant::now() + long));
        w.read_head(1000).unwrap();
        // The next request's budget is within the slack of what is armed.
        w.set_deadline(Some(Instant::now() + long));
        w.read_head(1000).unwrap();
        // A much nearer deadline must bound the read: armed again.
        w.set_deadline(Some(Instant::now() + Duration::from_secs(2)));
        w.read_head(1000).unwrap();
        let set: Vec<Duration> = timeouts
            .lock()
            .unwrap()
            .iter()
            .filter_map(|t| t.1)
            .collect();
        assert_eq!(set.len(), 2, "{set:?}");
        assert!(set[0] > long - ARM_SLACK && set[0] <= long, "{set:?}");
        assert!(set[1] <= Duration::from_secs(2), "{set:?}");
    }

    #[test]
    fn empty_lines_before_a_head_are_skipped() {
        let (mut w, _) = wire(b"\r\n\r\nGET / HTTP/1.1\n\n", 3);
        assert_eq!(w.read_head(1000).unwrap(), b"GET / HTTP/1.1\n\n");
    }

    #[test]
    fn head_longer_than_the_cap_is_too_large() {
        let mut long = b"GET /".to_vec();
        long.extend(std::iter::repeat_n(b'a', 5000));
        long.extend_from_slice(b" HTTP/1.1\r\n\r\n");
        let (mut w, _) = wire(&long, 4096);
        assert!(matches!(w.read_head(1024), Err(ReadError::TooLarge)));
    }

    #[test]
    fn complete_head_just_over_the_cap_is_too_large() {
        let (mut w, _) = wire(b"GET /aaaaaaaaaa HTTP/1.1\r\n\r\n", 100);
        assert!(matches!(w.read_head(20), Err(ReadError::TooLarge)));
    }

    #[test]
    fn close_before_any_byte_is_a_clean_close_and_mid_head_is_truncation() {
        let (mut w, _) = wire(b"", 1);
        assert!(matches!(w.read_head(100), Err(ReadError::Closed)));
        let (mut w, _) = wire(b"GET / HT", 1);
        assert!(matches!(w.read_head(100), Err(ReadError::Truncated)));
    }

    #[test]
    fn a_line_s_cap_does_not_depend_on_how_its_bytes_arrive() {
        // Found by the `http_request` fuzz target: read one byte at a time,
        // the `\r` of a line exactly at the cap counted against it (and a
        // line over the cap passed when it arrived in one read).
        for step in [1, 2, 3, 100] {
            let (mut w, _) = wire(b"abc\r\nabcd\r\n", step);
            assert_eq!(w.read_line(3).unwrap(), b"abc", "step {step}");
            assert!(
                matches!(w.read_line(3), Err(ReadError::TooLarge)),
                "step {step}"
            );
            let (mut w, _) = wire(b"\r\n", step);
            assert_eq!(w.read_line(0).unwrap(), b"", "step {step}");
        }
    }

    #[test]
    fn a_passed_deadline_times_out_without_reading() {
        let (mut w, _) = wire(b"GET / HTTP/1.1\r\n\r\n", 1);
        w.set_deadline(Some(Instant::now()));
        assert!(matches!(w.read_head(100), Err(ReadError::TimedOut)));
    }
}

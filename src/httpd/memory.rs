//! An in-memory `Stream`: scripted input, captured output. Used by tests
//! and by `call_in_memory`.

use super::stream::Stream;
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Delivers `input` at most `step` bytes per read, then end of stream;
/// everything written lands in `output`.
pub(crate) struct MemoryStream {
    input: Vec<u8>,
    pos: usize,
    step: usize,
    /// Whether `peer_closed` reports the peer gone once input is drained.
    hangs_up: bool,
    pub(crate) output: Arc<Mutex<Vec<u8>>>,
    /// Every timeout set on it, in order: ("read" or "write", value).
    pub(crate) timeouts: TimeoutLog,
}

pub(crate) type TimeoutSet = (&'static str, Option<Duration>);

/// The timeouts set on a stream so far, shared with the test that reads it.
pub(crate) type TimeoutLog = Arc<Mutex<Vec<TimeoutSet>>>;

impl MemoryStream {
    pub(crate) fn new(input: &[u8], step: usize) -> MemoryStream {
        MemoryStream {
            input: input.to_vec(),
            pos: 0,
            step: step.max(1),
            hangs_up: true,
            output: Arc::default(),
            timeouts: Arc::default(),
        }
    }

    /// A peer that sends nothing and never leaves.
    pub(crate) fn patient() -> MemoryStream {
        MemoryStream {
            hangs_up: false,
            ..MemoryStream::new(b"", 1)
        }
    }

    /// Everything written so far.
    pub(crate) fn written(&self) -> Vec<u8> {
        self.output.lock().map(|o| o.clone()).unwrap_or_default()
    }

    fn note_timeout(&self, which: &'static str, d: Option<Duration>) -> io::Result<()> {
        if let Ok(mut t) = self.timeouts.lock() {
            t.push((which, d));
        }
        Ok(())
    }
}

impl Read for MemoryStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.step).min(self.input.len() - self.pos);
        buf[..n].copy_from_slice(&self.input[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Write for MemoryStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut out = self
            .output
            .lock()
            .map_err(|_| io::Error::other("output lock poisoned"))?;
        out.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Stream for MemoryStream {
    fn peer_closed(&self) -> bool {
        self.hangs_up && self.pos >= self.input.len()
    }
    fn set_read_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        self.note_timeout("read", d)
    }
    fn set_write_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        self.note_timeout("write", d)
    }
    fn shutdown(&self) {}
}

/// A `Wire` reading `input` in pieces of `step` bytes, plus its output.
#[cfg(test)]
pub(crate) fn wire(input: &[u8], step: usize) -> (super::wire::Wire, Arc<Mutex<Vec<u8>>>) {
    let (w, out, _) = wire_noting_timeouts(input, step);
    (w, out)
}

/// `wire`, plus the log of the timeouts set on its stream.
#[cfg(test)]
pub(crate) fn wire_noting_timeouts(
    input: &[u8],
    step: usize,
) -> (super::wire::Wire, Arc<Mutex<Vec<u8>>>, TimeoutLog) {
    let s = MemoryStream::new(input, step);
    let (out, timeouts) = (Arc::clone(&s.output), Arc::clone(&s.timeouts));
    (super::wire::Wire::new(Box::new(s)), out, timeouts)
}

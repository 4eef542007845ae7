//! Writing one response: whole (`send`) or streamed in chunks.

use super::hangup::{HangupGuard, OnHangup, notify_on_hangup};
use super::head::{Version, has_token};
use super::response::{Response, reason_phrase};
use super::stream::Stream;
use std::io;
use std::time::Duration;

/// Bodies up to this size go out in the same write as the head.
pub(crate) const COALESCE_LIMIT: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Fresh,
    Sent,
    Streaming,
    Finished,
    /// A write failed; the connection is unusable.
    Broken,
}

/// What the connection does after the handler returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum After {
    KeepAlive,
    Close,
}

/// The handler's way to answer. Exactly one of `send` or
/// `start_stream` … `finish_stream` per request.
pub struct Responder<'a> {
    stream: &'a mut dyn Stream,
    version: Version,
    head_request: bool,
    /// False when the request asked to close or a response forced it.
    keep_alive: bool,
    state: State,
    /// HTTP/1.0 cannot take chunks: the stream is delimited by closing.
    raw_stream: bool,
    /// The handler replaced the write timeout (the connection restores it).
    write_timeout_changed: bool,
}

impl<'a> Responder<'a> {
    pub(crate) fn new(
        stream: &'a mut dyn Stream,
        version: Version,
        head_request: bool,
        keep_alive: bool,
    ) -> Responder<'a> {
        Responder {
            stream,
            version,
            head_request,
            keep_alive,
            state: State::Fresh,
            raw_stream: false,
            write_timeout_changed: false,
        }
    }

    /// Writes a complete response with its `Content-Length`. For HEAD
    /// requests the length of `resp.body` is announced and no body is sent.
    pub fn send(&mut self, resp: Response) -> io::Result<()> {
        self.expect_state(State::Fresh)?;
        let bodiless = !status_has_body(resp.status);
        let mut buf = self.head(resp.status, &resp.headers);
        if resp.status != 204 && !(100..200).contains(&resp.status) {
            push_header(&mut buf, "Content-Length", &resp.body.len().to_string());
        }
        buf.extend_from_slice(b"\r\n");
        let with_body = !self.head_request && !bodiless && !resp.body.is_empty();
        let result = if with_body && resp.body.len() <= COALESCE_LIMIT {
            buf.extend_from_slice(&resp.body);
            self.write(&[&buf])
        } else if with_body {
            self.write(&[&buf, &resp.body])
        } else {
            self.write(&[&buf])
        };
        self.settle(result, State::Sent)
    }

    /// Writes the head of a streamed response (chunked transfer coding) and
    /// flushes it at once, so a client sees the status before any data.
    pub fn start_stream(&mut self, status: u16, headers: Vec<(String, String)>) -> io::Result<()> {
        self.expect_state(State::Fresh)?;
        if self.version == Version::Http10 {
            self.raw_stream = true;
            self.keep_alive = false;
        }
        let mut buf = self.head(status, &headers);
        if !self.raw_stream && status_has_body(status) {
            push_header(&mut buf, "Transfer-Encoding", "chunked");
        }
        buf.extend_from_slice(b"\r\n");
        let result = self.write(&[&buf]);
        self.settle(result, State::Streaming)
    }

    /// Sends one chunk and flushes it. Empty data is a no-op (an empty chunk
    /// would end the stream).
    pub fn send_chunk(&mut self, data: &[u8]) -> io::Result<()> {
        self.expect_state(State::Streaming)?;
        if data.is_empty() || self.head_request {
            return Ok(());
        }
        let result = if self.raw_stream {
            self.write(&[data])
        } else {
            let size = format!("{:x}\r\n", data.len());
            self.write(&[size.as_bytes(), data, b"\r\n"])
        };
        self.settle(result, State::Streaming)
    }

    /// Ends a streamed response.
    pub fn finish_stream(&mut self) -> io::Result<()> {
        self.expect_state(State::Streaming)?;
        let result = if self.raw_stream || self.head_request {
            Ok(())
        } else {
            self.write(&[b"0\r\n\r\n"])
        };
        self.settle(result, State::Finished)
    }

    /// True once the client has gone away. Long-poll handlers check it
    /// every few hundred milliseconds while they wait.
    pub fn peer_closed(&self) -> bool {
        self.stream.peer_closed()
    }

    /// Runs `on_hangup` (on another thread) once the client closes the
    /// connection, for as long as the guard lives; drop the guard before
    /// returning. None when the stream has no socket or hang-ups cannot be
    /// watched here: poll `peer_closed` instead.
    pub fn notify_on_hangup(&self, on_hangup: OnHangup) -> Option<HangupGuard> {
        notify_on_hangup(self.stream.raw_fd()?, on_hangup)
    }

    /// Replaces the write timeout for the rest of this response (`None` for
    /// watches, whose client may read slowly for a long time).
    pub fn set_write_timeout(&mut self, d: Option<Duration>) {
        self.write_timeout_changed = true;
        if let Err(e) = self.stream.set_write_timeout(d) {
            log::debug!("httpd: cannot set write timeout: {e}");
        }
    }

    pub(crate) fn write_timeout_changed(&self) -> bool {
        self.write_timeout_changed
    }

    /// Called by the connection after the handler returned: answers 500 if
    /// the handler answered nothing, and says whether the connection lives on.
    pub(crate) fn complete(mut self) -> After {
        if self.state == State::Fresh {
            log::error!("httpd: handler returned without answering; sending 500");
            self.keep_alive = false;
            let _ = self.send(Response::text(500, "500 Internal Server Error\n"));
        }
        match self.state {
            State::Sent | State::Finished if self.keep_alive => After::KeepAlive,
            // A stream left unfinished cannot be delimited any more.
            _ => After::Close,
        }
    }

    fn expect_state(&self, want: State) -> io::Result<()> {
        if self.state == want {
            return Ok(());
        }
        let msg = match self.state {
            State::Broken => "connection broken by an earlier write error",
            State::Fresh => "no streamed response was started",
            _ => "response already sent",
        };
        Err(io::Error::other(msg))
    }

    fn settle(&mut self, result: io::Result<()>, next: State) -> io::Result<()> {
        self.state = if result.is_ok() { next } else { State::Broken };
        result
    }

    fn write(&mut self, parts: &[&[u8]]) -> io::Result<()> {
        for part in parts {
            self.stream.write_all(part)?;
        }
        self.stream.flush()
    }

    /// Status line and the handler's headers; framing headers from the
    /// handler are dropped (the layer owns framing), and a `Connection:
    /// close` from the handler closes the connection after this response.
    fn head(&mut self, status: u16, headers: &[(String, String)]) -> Vec<u8> {
        if has_token(headers, "connection", "close") {
            self.keep_alive = false;
        }
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(
            format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status)).as_bytes(),
        );
        for (name, value) in headers {
            let framing = ["content-length", "transfer-encoding", "connection"]
                .iter()
                .any(|h| name.eq_ignore_ascii_case(h));
            if !framing && is_safe_header(name, value) {
                push_header(&mut buf, name, value);
            }
        }
        if !self.keep_alive {
            push_header(&mut buf, "Connection", "close");
        } else if self.version == Version::Http10 {
            push_header(&mut buf, "Connection", "keep-alive");
        }
        buf
    }
}

fn status_has_body(status: u16) -> bool {
    !(100..200).contains(&status) && status != 204 && status != 304
}

/// A header with a line break in it would let a value forge more headers.
fn is_safe_header(name: &str, value: &str) -> bool {
    let ok = !name.is_empty()
        && !name
            .bytes()
            .chain(value.bytes())
            .any(|b| b == b'\r' || b == b'\n');
    if !ok {
        log::warn!("httpd: dropping response header with a line break: {name:?}");
    }
    ok
}

fn push_header(buf: &mut Vec<u8>, name: &str, value: &str) {
    buf.extend_from_slice(name.as_bytes());
    buf.extend_from_slice(b": ");
    buf.extend_from_slice(value.as_bytes());
    buf.extend_from_slice(b"\r\n");
}

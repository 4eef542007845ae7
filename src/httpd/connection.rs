//! One server-side connection: read a request, call the handler, repeat
//! while keep-alive holds; answer framing errors and close.

use super::body::{Framing, read_body, request_framing};
use super::head::{HeadError, Version, has_token, parse_request_head};
use super::request::Request;
use super::responder::{After, Responder};
use super::response::reason_phrase;
use super::server::{Handler, ServerConfig};
use super::wire::{ReadError, Wire};
use std::io::Write;
use std::net::SocketAddr;
use std::time::Instant;

/// A request ready for the handler plus what the connection must remember.
struct Incoming {
    request: Request,
    version: Version,
    keep_alive: bool,
}

/// Why no request could be read; `Some(status)` ones get an answer first.
struct Refusal(Option<u16>);

/// Serves requests on `wire` until the client closes, a timeout fires, a
/// request is refused or a response closes the connection.
pub(crate) fn serve_connection(
    mut wire: Wire,
    remote: Option<SocketAddr>,
    cfg: &ServerConfig,
    handler: &dyn Handler,
) {
    // The server set the write timeout before the first request; it is set
    // again only after a handler changed it (a syscall per request saved).
    let mut restore_write_timeout = false;
    loop {
        // One deadline for the whole request; an idle keep-alive connection
        // waiting for its next request is bounded by the same budget.
        wire.set_deadline(Some(Instant::now() + cfg.read_timeout));
        match read_request(&mut wire, remote, cfg) {
            Ok(incoming) => {
                // Thousands of watchers wait in handlers: none keeps a buffer.
                wire.shed_buffer();
                if restore_write_timeout
                    && let Err(e) = wire.stream.set_write_timeout(Some(cfg.write_timeout))
                {
                    log::debug!("httpd: cannot set write timeout: {e}");
                }
                let head_request = incoming.request.method == "HEAD";
                let mut out = Responder::new(
                    &mut *wire.stream,
                    incoming.version,
                    head_request,
                    incoming.keep_alive,
                );
                handler.handle(incoming.request, &mut out);
                restore_write_timeout = out.write_timeout_changed();
                if out.complete() == After::Close {
                    break;
                }
            }
            Err(Refusal(status)) => {
                if let Some(status) = status {
                    refuse(&mut wire, status);
                }
                break;
            }
        }
    }
    wire.stream.shutdown();
}

/// Writes a short plain-text error that closes the connection.
#[cold]
#[inline(never)]
pub(crate) fn refuse(wire: &mut Wire, status: u16) {
    let reason = reason_phrase(status);
    let body = format!("{status} {reason}\n");
    let msg = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = wire
        .stream
        .write_all(msg.as_bytes())
        .and_then(|_| wire.stream.flush());
}

// Not inlined: its parsing locals would otherwise widen the frame that
// every waiting watcher keeps on its stack (see `stack.rs`).
#[inline(never)]
fn read_request(
    wire: &mut Wire,
    remote: Option<SocketAddr>,
    cfg: &ServerConfig,
) -> Result<Incoming, Refusal> {
    let raw = wire
        .read_head(cfg.max_header_bytes)
        .map_err(|e| refusal(e, 431))?;
    let head = parse_request_head(&raw).map_err(|e| match e {
        HeadError::Malformed(why) => {
            log::debug!("httpd: bad request from {remote:?}: {why}");
            Refusal(Some(400))
        }
        HeadError::UnsupportedVersion => Refusal(Some(505)),
    })?;
    let framing = request_framing(&head.headers).map_err(|e| refusal(e, 413))?;
    if let Framing::Length(n) = framing
        && n > cfg.max_body_bytes as u64
    {
        return Err(Refusal(Some(413)));
    }
    if head.version == Version::Http11 {
        expect_continue(wire, &head.headers, framing)?;
    }
    let body = read_body(wire, framing, cfg.max_body_bytes, cfg.max_header_bytes)
        .map_err(|e| refusal(e, 413))?;
    let keep_alive = match head.version {
        Version::Http11 => !has_token(&head.headers, "connection", "close"),
        Version::Http10 => has_token(&head.headers, "connection", "keep-alive"),
    };
    let mut request = Request::new(&head.method, &head.target, head.headers, body);
    request.remote = remote;
    Ok(Incoming {
        request,
        version: head.version,
        keep_alive,
    })
}

/// Answers `Expect: 100-continue` before the body is read (curl waits for
/// it on bodies over 1 KiB); any other expectation is refused with 417.
fn expect_continue(
    wire: &mut Wire,
    headers: &[(String, String)],
    framing: Framing,
) -> Result<(), Refusal> {
    let Some(expect) = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("expect"))
        .map(|(_, v)| v)
    else {
        return Ok(());
    };
    if !expect.eq_ignore_ascii_case("100-continue") {
        return Err(Refusal(Some(417)));
    }
    if matches!(framing, Framing::Empty | Framing::Length(0)) {
        return Ok(());
    }
    let sent = wire
        .stream
        .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
        .and_then(|_| wire.stream.flush());
    sent.map_err(|_| Refusal(None))
}

/// Maps a read failure to its answer; `too_large` is the status for a cap
/// (431 for the head, 413 for the body). Timeouts and closes get none.
fn refusal(e: ReadError, too_large: u16) -> Refusal {
    match e {
        ReadError::TooLarge => Refusal(Some(too_large)),
        ReadError::Malformed(why) => {
            log::debug!("httpd: malformed request: {why}");
            Refusal(Some(400))
        }
        ReadError::Unsupported(_) => Refusal(Some(501)),
        ReadError::Closed | ReadError::Truncated | ReadError::TimedOut | ReadError::Io(_) => {
            Refusal(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::httpd::memory::{TimeoutSet, wire};
    use crate::httpd::response::Response;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn echo(req: Request, out: &mut Responder) {
        let body = format!(
            "{} {} {}",
            req.method,
            req.path,
            String::from_utf8_lossy(&req.body)
        );
        out.send(Response::text(200, &body)).unwrap();
    }

    fn cfg() -> ServerConfig {
        ServerConfig {
            max_header_bytes: 1024,
            max_body_bytes: 100,
            ..ServerConfig::default()
        }
    }

    /// Runs a connection over `input` (delivered `step` bytes per read).
    fn run_with(input: &[u8], step: usize, cfg: &ServerConfig, handler: &dyn Handler) -> String {
        let (w, out) = wire(input, step);
        serve_connection(w, None, cfg, handler);
        String::from_utf8_lossy(&out.lock().unwrap()).into_owned()
    }

    fn run(input: &str) -> String {
        run_with(input.as_bytes(), 7, &cfg(), &echo)
    }

    fn statuses(out: &str) -> Vec<&str> {
        out.split("HTTP/1.1 ").skip(1).map(|s| &s[..3]).collect()
    }

    #[test]
    fn pipelined_keep_alive_requests_are_answered_in_order() {
        let out = run(
            "GET /a HTTP/1.1\r\n\r\nPUT /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyzDELETE /c HTTP/1.1\r\n\r\n",
        );
        assert_eq!(statuses(&out), ["200", "200", "200"]);
        let a = out.find("GET /a ").unwrap();
        let b = out.find("PUT /b xyz").unwrap();
        let c = out.find("DELETE /c ").unwrap();
        assert!(a < b && b < c, "{out}");
    }

    #[test]
    fn timeouts_are_set_once_per_connection_unless_a_handler_changes_them() {
        let input = "GET /a HTTP/1.1\r\n\r\nGET /lift HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n";
        let h = |req: Request, o: &mut Responder| {
            if req.path == "/lift" {
                o.set_write_timeout(None);
            }
            echo(req, o)
        };
        let (w, out, timeouts) = crate::httpd::memory::wire_noting_timeouts(input.as_bytes(), 5);
        serve_connection(w, None, &cfg(), &h);
        let out = String::from_utf8_lossy(&out.lock().unwrap()).into_owned();
        assert_eq!(statuses(&out), ["200", "200", "200", "200"]);
        let timeouts = timeouts.lock().unwrap().clone();
        let (reads, writes): (Vec<&TimeoutSet>, Vec<&TimeoutSet>) =
            timeouts.iter().partition(|(w, _)| *w == "read");
        // Dozens of reads of 5 bytes, each within the 30 s budget: one arming.
        assert_eq!(reads.len(), 1, "{timeouts:?}");
        assert!(reads[0].1.is_some_and(|d| d <= cfg().read_timeout));
        // Lifted by /lift, restored before /b, and left alone for /c.
        assert_eq!(
            writes,
            [&("write", None), &("write", Some(cfg().write_timeout))],
            "{timeouts:?}"
        );
    }

    #[test]
    fn connection_close_ends_after_that_response() {
        let out = run("GET /a HTTP/1.1\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
        assert_eq!(statuses(&out), ["200"]);
        assert!(out.contains("Connection: close\r\n"));
    }

    #[test]
    fn http10_closes_unless_keep_alive_is_asked() {
        assert_eq!(
            statuses(&run("GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\n\r\n")),
            ["200"]
        );
        let out = run("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n");
        assert_eq!(statuses(&out), ["200", "200"]);
        assert!(out.contains("Connection: keep-alive\r\n"));
    }

    #[test]
    fn response_carries_content_length_and_reason() {
        let out = run("GET /x HTTP/1.1\r\n\r\n");
        assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
        assert!(out.contains("Content-Length: 7\r\n"), "{out}");
        assert!(out.ends_with("\r\n\r\nGET /x "), "{out}");
    }

    #[test]
    fn chunked_request_body_reaches_the_handler_whole() {
        let out = run(
            "POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n",
        );
        assert!(out.contains("POST /p abc"), "{out}");
    }

    #[test]
    fn malformed_head_gets_400_and_close() {
        for bad in [
            "GET\r\n\r\n",
            "GET / HTTP/1.1\r\n folded\r\n\r\n",
            "GET / HTTP/1.1\r\nA\r\n\r\n",
        ] {
            let out = run(bad);
            assert_eq!(statuses(&out), ["400"], "{bad:?}");
            assert!(out.contains("Connection: close"));
        }
    }

    #[test]
    fn bad_chunk_framing_gets_400() {
        let out = run("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
        assert_eq!(statuses(&out), ["400"]);
    }

    #[test]
    fn unsupported_transfer_coding_gets_501() {
        assert_eq!(
            statuses(&run("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n")),
            ["501"]
        );
    }

    #[test]
    fn unsupported_version_gets_505() {
        assert_eq!(statuses(&run("GET / HTTP/2.0\r\n\r\n")), ["505"]);
    }

    #[test]
    fn oversized_content_length_gets_413_before_the_handler() {
        let calls = AtomicUsize::new(0);
        let h = |r: Request, o: &mut Responder| {
            calls.fetch_add(1, Ordering::SeqCst);
            echo(r, o)
        };
        let out = run_with(
            b"PUT / HTTP/1.1\r\nContent-Length: 101\r\n\r\n",
            64,
            &cfg(),
            &h,
        );
        assert_eq!(statuses(&out), ["413"]);
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn oversized_chunked_body_gets_413() {
        let big = "a".repeat(60);
        let input = format!(
            "PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3c\r\n{big}\r\n3c\r\n{big}\r\n0\r\n\r\n"
        );
        assert_eq!(statuses(&run(&input)), ["413"]);
    }

    #[test]
    fn oversized_head_gets_431() {
        let input = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(2000));
        assert_eq!(statuses(&run(&input)), ["431"]);
    }

    #[test]
    fn expect_100_continue_is_answered_before_the_body_is_read() {
        let out = run("PUT /k HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi");
        assert!(
            out.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"),
            "{out}"
        );
        assert!(out.ends_with("PUT /k hi"));
    }

    #[test]
    fn expect_100_continue_with_oversized_body_gets_413_without_100() {
        let out = run("PUT /k HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n");
        assert_eq!(statuses(&out), ["413"]);
    }

    #[test]
    fn unknown_expectation_gets_417() {
        assert_eq!(
            statuses(&run("PUT / HTTP/1.1\r\nExpect: magic\r\n\r\n")),
            ["417"]
        );
    }

    #[test]
    fn unknown_methods_reach_the_handler() {
        assert!(run("PATCH /x HTTP/1.1\r\n\r\n").contains("PATCH /x"));
    }

    #[test]
    fn handler_that_answers_nothing_yields_500_and_close() {
        let out = run_with(
            b"GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n",
            64,
            &cfg(),
            &|_: Request, _: &mut Responder| {},
        );
        assert_eq!(statuses(&out), ["500"]);
    }

    #[test]
    fn head_announces_the_length_but_sends_no_body() {
        let out = run("HEAD /x HTTP/1.1\r\n\r\n");
        assert!(out.contains("Content-Length: 8\r\n"), "{out}");
        assert!(out.ends_with("\r\n\r\n"), "{out}");
    }

    #[test]
    fn handler_connection_close_closes_and_framing_headers_are_the_layers() {
        let h = |_: Request, o: &mut Responder| {
            let r = Response::text(200, "x")
                .with_header("Connection", "close")
                .with_header("Content-Length", "99");
            o.send(r).unwrap();
        };
        let out = run_with(
            b"GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n",
            64,
            &cfg(),
            &h,
        );
        assert_eq!(statuses(&out), ["200"]);
        assert!(
            out.contains("Content-Length: 1\r\n") && !out.contains("99"),
            "{out}"
        );
        assert!(out.contains("Connection: close\r\n"));
    }

    #[test]
    fn second_send_is_an_error() {
        let h = |_: Request, o: &mut Responder| {
            o.send(Response::new(200)).unwrap();
            assert!(o.send(Response::new(200)).is_err());
            assert!(o.send_chunk(b"x").is_err());
        };
        assert_eq!(
            statuses(&run_with(b"GET / HTTP/1.1\r\n\r\n", 64, &cfg(), &h)),
            ["200"]
        );
    }

    fn streamer(_: Request, o: &mut Responder) {
        o.start_stream(200, vec![("X-Etcd-Index".into(), "5".into())])
            .unwrap();
        o.send_chunk(b"hello").unwrap();
        o.send_chunk(b"").unwrap();
        o.send_chunk(b"0123456789abcdef!").unwrap();
        o.finish_stream().unwrap();
    }

    #[test]
    fn streamed_response_is_chunked_and_keeps_the_connection() {
        let out = run_with(
            b"GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n",
            64,
            &cfg(),
            &streamer,
        );
        let one = "HTTP/1.1 200 OK\r\nX-Etcd-Index: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n11\r\n0123456789abcdef!\r\n0\r\n\r\n";
        assert_eq!(out, one.repeat(2));
    }

    #[test]
    fn streamed_response_to_http10_is_raw_and_closes() {
        let out = run_with(
            b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            64,
            &cfg(),
            &streamer,
        );
        assert_eq!(
            out,
            "HTTP/1.1 200 OK\r\nX-Etcd-Index: 5\r\nConnection: close\r\n\r\nhello0123456789abcdef!"
        );
    }

    #[test]
    fn unfinished_stream_closes_the_connection() {
        let h = |_: Request, o: &mut Responder| o.start_stream(200, vec![]).unwrap();
        let out = run_with(
            b"GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n",
            64,
            &cfg(),
            &h,
        );
        assert_eq!(statuses(&out), ["200"]);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A small xorshift generator: deterministic, no dependency.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let alphabet = b"GETPOST /?%:\r\n \t0123456789abcdefHTP.1chunkedContent-Length\x00\xff";
        for _ in 0..3000 {
            let len = (next() % 200) as usize;
            let mut input: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            if next() % 2 == 0 {
                input.splice(0..0, b"POST / HTTP/1.1\r\n".iter().copied());
            }
            run_with(&input, 1 + (next() % 5) as usize, &cfg(), &echo);
        }
    }
}

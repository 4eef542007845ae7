//! `http_request`: the bytes a client sends on one connection, read by the
//! server exactly as a socket would deliver them (request heads, chunked
//! and Content-Length bodies, keep-alive, `Expect`, the size caps).
//!
//! Checked: the handler never sees a head or a body over the caps; the
//! same bytes delivered one at a time or all at once give the same
//! requests and the same answers; everything the server writes reads back
//! with our client as one answer per request (plain or chunked, echoing
//! the body); and every request handed to the handler, written out again
//! in canonical form, parses back to the same request.

use std::sync::{Arc, Mutex};

use crate::httpd::{
    ClientConfig, MemoryStream, Request, Responder, Response, ServerConfig, Wire, read_response,
    serve_connection,
};

/// Small caps, so that the fuzzer reaches them with short inputs.
const MAX_HEAD: usize = 512;
const MAX_BODY: usize = 128;

/// What the handler saw of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Serves `input` (delivered `step` bytes per read) with `cfg`; returns
/// the requests the handler got and every byte written back.
fn serve(input: &[u8], step: usize, cfg: &ServerConfig) -> (Vec<Seen>, Vec<u8>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let handler = move |req: Request, out: &mut Responder| {
        let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
        let n = log.len();
        log.push(Seen {
            method: req.method.clone(),
            target: req.target.clone(),
            headers: req.headers.clone(),
            body: req.body.clone(),
        });
        drop(log);
        // Every other answer is streamed, so the chunked writer and the
        // client's chunked reader meet too.
        if n % 2 == 0 {
            let _ = out.send(Response::new(200).with_body(req.body));
        } else {
            let _ = out.start_stream(200, Vec::new()).and_then(|()| {
                for piece in req.body.chunks(7) {
                    out.send_chunk(piece)?;
                }
                out.finish_stream()
            });
        }
    };
    let stream = MemoryStream::new(input, step);
    let output = Arc::clone(&stream.output);
    serve_connection(Wire::new(Box::new(stream)), None, cfg, &handler);
    let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
    let written = output.lock().map(|o| o.clone()).unwrap_or_default();
    (seen, written)
}

/// The request as a well-behaved client would send it: HTTP/1.1, the
/// body framed by Content-Length, no hop-by-hop headers.
fn canonical(seen: &Seen) -> (Vec<u8>, Seen) {
    let framing = [
        "content-length",
        "transfer-encoding",
        "expect",
        "connection",
    ];
    let headers: Vec<(String, String)> = seen
        .headers
        .iter()
        .filter(|(n, _)| !framing.iter().any(|f| n.eq_ignore_ascii_case(f)))
        .cloned()
        .collect();
    let mut out = format!("{} {} HTTP/1.1\r\n", seen.method, seen.target).into_bytes();
    for (name, value) in &headers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", seen.body.len()).as_bytes());
    out.extend_from_slice(&seen.body);
    let mut expected = seen.clone();
    expected.headers = headers;
    expected
        .headers
        .push(("Content-Length".to_string(), seen.body.len().to_string()));
    (out, expected)
}

pub fn http_request(data: &[u8]) {
    let cfg = ServerConfig {
        max_header_bytes: MAX_HEAD,
        max_body_bytes: MAX_BODY,
        ..ServerConfig::default()
    };
    let (seen, written) = serve(data, usize::MAX, &cfg);
    for s in &seen {
        assert!(
            s.body.len() <= MAX_BODY,
            "body over the cap: {}",
            s.body.len()
        );
        // Values count in characters: a byte that is not UTF-8 arrives as
        // one U+FFFD, three bytes long.
        let head: usize = s.method.len()
            + s.target.len()
            + s.headers
                .iter()
                .map(|(n, v)| n.len() + v.chars().count())
                .sum::<usize>();
        assert!(head <= MAX_HEAD, "head over the cap: {head}");
    }

    // Framing must not depend on how the bytes arrive.
    let (seen_bytewise, written_bytewise) = serve(data, 1, &cfg);
    assert_eq!(
        seen, seen_bytewise,
        "requests differ when read byte by byte"
    );
    assert_eq!(
        written, written_bytewise,
        "answers differ when read byte by byte"
    );

    // One answer per request, each echoing its body, then at most a refusal.
    let mut wire = Wire::new(Box::new(MemoryStream::new(&written, usize::MAX)));
    let client = ClientConfig::default();
    for s in &seen {
        let answer = read_response(&mut wire, &client, s.method == "HEAD");
        let (resp, _) = answer.unwrap_or_else(|f| panic!("answer unreadable: {}", f.error));
        assert_eq!(resp.status, 200);
        if s.method != "HEAD" {
            assert_eq!(resp.body, s.body, "echoed body differs");
        }
    }
    if let Ok((resp, _)) = read_response(&mut wire, &client, false) {
        assert!(
            resp.status >= 400,
            "an answer nobody asked for: {}",
            resp.status
        );
        assert!(read_response(&mut wire, &client, false).is_err());
    }

    // Parse → write → parse gives the same requests.
    let mut again = Vec::new();
    let mut expected = Vec::new();
    for s in &seen {
        let (bytes, exp) = canonical(s);
        again.extend_from_slice(&bytes);
        expected.push(exp);
    }
    let (reparsed, _) = serve(&again, usize::MAX, &ServerConfig::default());
    assert_eq!(reparsed, expected, "canonical requests parse differently");
}

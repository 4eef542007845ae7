//! Running a handler without sockets, for the unit tests of handlers.

use super::client::read_response;
use super::head::Version;
use super::memory::MemoryStream;
use super::responder::Responder;
use super::server::Handler;
use super::wire::Wire;
use super::{ClientConfig, ClientResponse, Request};
use std::io;

/// Runs `handler` on `req` as a keep-alive HTTP/1.1 connection would and
/// returns what a client would read (a streamed body arrives de-chunked).
/// The client never hangs up, so a handler that streams forever blocks here;
/// test those over a real socket.
///
/// ```ignore
/// use etcd::httpd::{call_in_memory, Request, Responder, Response};
/// let handler = |req: Request, out: &mut Responder| {
///     let _ = out.send(Response::text(200, &req.path));
/// };
/// let resp = call_in_memory(&handler, Request::new("GET", "/v2/keys/a?x=1", vec![], vec![])).unwrap();
/// assert_eq!((resp.status, resp.body.as_slice()), (200, &b"/v2/keys/a"[..]));
/// ```
pub fn call_in_memory(handler: &dyn Handler, req: Request) -> io::Result<ClientResponse> {
    let head_request = req.method == "HEAD";
    let mut stream = MemoryStream::patient();
    let mut out = Responder::new(&mut stream, Version::Http11, head_request, true);
    handler.handle(req, &mut out);
    out.complete();
    let written = MemoryStream::new(&stream.written(), usize::MAX);
    let mut wire = Wire::new(Box::new(written));
    let cfg = ClientConfig::default();
    read_response(&mut wire, &cfg, head_request)
        .map(|(resp, _)| resp)
        .map_err(|f| f.error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::httpd::Response;

    #[test]
    fn a_sent_response_comes_back_parsed() {
        let h = |_: Request, out: &mut Responder| {
            out.send(Response::json(201, "{}").with_header("X-Etcd-Index", "3"))
                .unwrap();
        };
        let r = call_in_memory(&h, Request::new("PUT", "/k", vec![], b"value=1".to_vec())).unwrap();
        assert_eq!(
            (r.status, r.header("x-etcd-index"), r.body.as_slice()),
            (201, Some("3"), &b"{}"[..])
        );
    }

    #[test]
    fn a_finished_stream_comes_back_whole_and_the_peer_stays() {
        let h = |_: Request, out: &mut Responder| {
            assert!(!out.peer_closed());
            out.start_stream(200, vec![]).unwrap();
            out.send_chunk(b"ab").unwrap();
            out.send_chunk(b"c").unwrap();
            out.finish_stream().unwrap();
        };
        let r = call_in_memory(&h, Request::new("GET", "/", vec![], vec![])).unwrap();
        assert_eq!(r.body, b"abc");
    }

    #[test]
    fn a_silent_handler_shows_as_500() {
        let r = call_in_memory(
            &|_: Request, _: &mut Responder| {},
            Request::new("GET", "/", vec![], vec![]),
        );
        assert_eq!(r.unwrap().status, 500);
    }

    #[test]
    fn head_shows_headers_without_body() {
        let h = |_: Request, out: &mut Responder| out.send(Response::text(200, "abc")).unwrap();
        let r = call_in_memory(&h, Request::new("HEAD", "/", vec![], vec![])).unwrap();
        assert_eq!((r.header("content-length"), r.body.len()), (Some("3"), 0));
    }
}

//! Turning the state thread's answers into HTTP responses with etcd's
//! headers and bodies.

use crate::httpd::Response;
use crate::server::requests::Position;
use crate::store::{ErrorCode, EtcdError, Event};

pub const JSON: &str = "application/json";
pub const TEXT: &str = "text/plain; charset=utf-8";

pub fn position_headers(at: &Position) -> Vec<(String, String)> {
    vec![
        ("Content-Type".into(), JSON.into()),
        ("X-Etcd-Index".into(), at.etcd_index.to_string()),
        ("X-Raft-Index".into(), at.raft_index.to_string()),
        ("X-Raft-Term".into(), at.raft_term.to_string()),
    ]
}

/// 201 for a write that created a node, 200 otherwise.
pub fn event(event: &Event, at: &Position) -> Response {
    let status = if event.is_created() { 201 } else { 200 };
    Response {
        status,
        headers: position_headers(at),
        body: event.to_json().into_bytes(),
    }
}

/// An etcd error: JSON body ending with a newline, status from the code.
pub fn error(err: &EtcdError) -> Response {
    Response {
        status: err.code.http_status(),
        headers: vec![
            ("Content-Type".into(), JSON.into()),
            ("X-Etcd-Index".into(), err.index.to_string()),
        ],
        body: err.to_json().into_bytes(),
    }
}

/// 300 "Raft Internal Error": the state thread did not answer in time.
pub fn internal(index: u64) -> Response {
    error(&EtcdError::new(ErrorCode::RaftInternal, "", index))
}

/// 503 for a connection past `-max-connections`: the etcd error shape
/// with errorCode 300 (the server side's "try again", as for a request
/// that could not commit), a message of its own and the limit in `cause`.
pub fn too_many_connections(limit: usize, index: u64) -> Response {
    let body = serde_json::json!({
        "errorCode": ErrorCode::RaftInternal as u16,
        "message": "Too many connections",
        "cause": format!(
            "this member holds its limit of {limit} client connections (-max-connections); \
             retry later or ask another member"
        ),
        "index": index,
    });
    Response {
        status: 503,
        headers: vec![
            ("Content-Type".into(), JSON.into()),
            ("X-Etcd-Index".into(), index.to_string()),
        ],
        body: format!("{body}\n").into_bytes(),
    }
}

/// 307 to the same path and query on another machine.
pub fn redirect(base_url: &str, target: &str) -> Response {
    Response {
        status: 307,
        headers: vec![("Location".into(), format!("{base_url}{target}"))],
        body: Vec::new(),
    }
}

pub fn text(status: u16, body: impl Into<String>) -> Response {
    Response {
        status,
        headers: vec![("Content-Type".into(), TEXT.into())],
        body: body.into().into_bytes(),
    }
}

pub fn json(status: u16, body: impl Into<String>) -> Response {
    Response {
        status,
        headers: vec![("Content-Type".into(), JSON.into())],
        body: body.into().into_bytes(),
    }
}

/// Go's mux answer to an unknown route.
pub fn not_found() -> Response {
    text(404, "404 page not found\n")
}

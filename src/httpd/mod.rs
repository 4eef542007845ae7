//! A small HTTP/1.1 layer over any byte stream (plain TCP now, TLS later):
//! a thread-per-connection server with timeouts and size caps, a keep-alive
//! client for peer traffic, and form/percent decoding for the API layer.
//!
//! It owns framing (heads, Content-Length, chunked bodies, keep-alive,
//! `100-continue`) and the limits that protect the process from slow or
//! hostile clients. It never routes, never interprets paths or bodies, and
//! never knows about etcd: handlers decide everything above the wire.

mod body;
mod client;
mod connection;
mod form;
mod hangup;
mod harness;
mod head;
mod listen;
mod request;
mod responder;
mod response;
mod server;
mod stack;
mod stream;
mod throttle;
mod wire;

mod memory;
#[cfg(test)]
mod tests;

pub use client::{ClientConfig, ClientResponse, Connect, HttpClient};
pub use form::{FormError, parse_form, percent_decode};
pub use hangup::{HangupGuard, OnHangup};
pub use harness::call_in_memory;
pub use listen::{listen, set_backlog, system_backlog};
pub use request::Request;
pub use responder::Responder;
pub use response::{Response, reason_phrase};
pub use server::{BusyReply, Handler, REFUSING_AT_ONCE, ServerConfig, Wrap, serve};
pub use stack::release_unused_stack;
pub use stream::{Stream, plain, tcp_peer_closed};

// What the fuzz targets drive directly (`crate::fuzzing`): a connection
// over an in-memory stream, and our client reading what it wrote.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) use {
    client::read_response, connection::serve_connection, memory::MemoryStream, wire::Wire,
};

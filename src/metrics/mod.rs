//! Prometheus metrics: lock-free counters, gauges and histograms that the
//! hot paths bump with one or two atomic additions, and their rendering in
//! the Prometheus text format (0.0.4) for `GET /metrics`.
//!
//! One registry per process ([`global`]), as Prometheus client libraries
//! have: the state thread, the WAL thread, the snapshot thread, the peer
//! senders and the HTTP handlers each record into it without knowing of one
//! another. Names follow etcd 2.3's metric documentation, and etcd 3's where
//! 2.3 has none. Never: locks on a recording path (labels with values known
//! only at run time — peers, HTTP status codes — take a short lock the first
//! time a label value is seen, never across IO), or IO of its own beyond
//! reading `/proc/self` when rendered.

mod families;
mod primitives;
mod process;
mod text;

pub use families::{Metrics, PeerMetrics, global};
pub use primitives::{Counter, Gauge, Histogram};
pub use text::render;

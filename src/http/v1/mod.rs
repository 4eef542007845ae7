//! etcd 0.4.6's v1 API, a thin layer over the same typed commands, store
//! and index as v2: a key written through one API reads the same through
//! the other, and a v1 watch sees v2 writes.
//!
//! - `keys`: `/v1/keys/<key>` (GET/HEAD read, PUT/POST set or
//!   test-and-set with `value`, `ttl`, `prevValue`; DELETE);
//! - `watch`: `/v1/watch/<prefix>` (GET/HEAD, or POST with `index`);
//! - `body`: the flat v1 JSON built from a v2 event.
//!
//! `/v1/leader`, `/v1/machines`, `/v1/peers` and `/v1/stats/*` answer
//! exactly as their v2 twins, so `client_api` routes them there.
//!
//! v1 clients get 0.4.6's answers: 200 for every success, v1 bodies, the
//! v2 error bodies and statuses unchanged (0.4.6 shared its error writer),
//! no etcd headers on a success (0.4.6 set them only on errors), and 307
//! to the leader for a write on a follower. Key paths, parameter transport,
//! reserved keys, redirects and watch waiting are v2's own (`keyspace`,
//! `params`). This module never touches the store itself.

mod body;
pub mod keys;
pub mod watch;

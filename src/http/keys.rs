//! `/v2/keys/<path>`: where a client request enters. Parameters are
//! validated here (on whichever machine receives the request, before any
//! redirect), turned into a typed command and handed to the state thread.
//! What the v1 API shares with it (key parsing, the membership guard, the
//! round trips to the state thread, waiting watches) is in `keyspace`; the
//! v2 body shape and the v2 parameter rules stay here. With auth on, a
//! request must be allowed by `auth::guard` first (etcd 2.x's check: the
//! key as the URL names it, recursive when `recursive=true`).

use crate::auth::Access;
use crate::httpd::{Request, Responder};
use crate::server::requests::Reply;
use crate::store::{ErrorCode, EtcdError, KeyPath, StoreCommand};

use super::auth::guard::KeyPass;
use super::gateway::Gateway;
use super::keyspace::{
    self, WatchNext, WatchRefused, ask_read, ask_write, check_not_reserved, parse_key,
};
use super::params::Params;
use super::reply;

pub fn handle(gw: &Gateway, req: &Request, out: &mut Responder, raw_key: &str) {
    // Decided in a frame of its own: a watch then waits with only this
    // small frame and its own above it (httpd/stack.rs).
    match decide(gw, req, raw_key) {
        Decision::Answer(response) => gw.send(req, out, response),
        Decision::Watch(spec) => watch(gw, req, out, spec),
    }
}

/// What a request comes to: an answer now, or a watch to wait on.
enum Decision {
    Answer(crate::httpd::Response),
    Watch(WatchSpec),
}

/// A long-poll watch as the request asked for it.
struct WatchSpec {
    key: KeyPath,
    recursive: bool,
    stream: bool,
    since: Option<u64>,
    /// What the caller may see (auth).
    filter: keyspace::EventFilter,
}

/// Validates the request and answers it, unless it is a watch.
#[inline(never)]
fn decide(gw: &Gateway, req: &Request, raw_key: &str) -> Decision {
    let index = gw.store_index();
    let response = match parse_key(raw_key, index) {
        Err(e) => reply::error(&e),
        Ok(key) => match Params::from_request(req, index) {
            Err(e) => reply::error(&e),
            Ok(params) => {
                let access = match req.method.as_str() {
                    "GET" | "HEAD" => Access::Read,
                    "PUT" | "POST" | "DELETE" => Access::Write,
                    _ => return Decision::Answer(reply::not_found()),
                };
                // A bad `recursive` is 209 from the handler below.
                let recursive = params.flag("recursive", index).unwrap_or(false);
                match gw.guard().keys(req, &key, raw_key, access, recursive) {
                    Err(refused) => refused,
                    Ok(pass) => match req.method.as_str() {
                        "GET" | "HEAD" => return read(gw, req, key, &params, index, &pass),
                        "PUT" => write(gw, req, put_command(key, &params, index)),
                        "POST" => write(gw, req, post_command(key, &params, index)),
                        _ => write(gw, req, delete_command(key, &params, index)),
                    },
                }
            }
        },
    };
    Decision::Answer(response)
}

fn put_command(key: KeyPath, p: &Params, index: u64) -> Result<StoreCommand, EtcdError> {
    let ttl = p.ttl("Update", index)?;
    check_not_reserved(&key, false, index)?;
    let value = p.get("value").unwrap_or("").to_string();
    let dir = p.flag("dir", index)?;
    let prev_exist = p.optional_flag("prevExist", index)?;
    let (has_prev_value, has_prev_index) = (p.has("prevValue"), p.has("prevIndex"));
    if prev_exist.is_none() && !has_prev_value && !has_prev_index {
        return Ok(StoreCommand::Set {
            key,
            value,
            dir,
            ttl,
        });
    }
    if prev_exist == Some(false) {
        return Ok(StoreCommand::Create {
            key,
            value,
            dir,
            ttl,
            in_order: false,
        });
    }
    if prev_exist == Some(true) && !has_prev_value && !has_prev_index {
        if value.is_empty() && ttl.is_none() {
            return Err(EtcdError::new(
                ErrorCode::ValueOrTtlRequired,
                "Update",
                index,
            ));
        }
        return Ok(StoreCommand::Update { key, value, ttl });
    }
    let prev_index = p.index("prevIndex", "CompareAndSwap", index)?.unwrap_or(0);
    let prev_value = p.get("prevValue").map(str::to_string);
    if prev_value.as_deref() == Some("") {
        return Err(EtcdError::new(
            ErrorCode::PrevValueRequired,
            "CompareAndSwap",
            index,
        ));
    }
    Ok(StoreCommand::CompareAndSwap {
        key,
        value,
        ttl,
        prev_value,
        prev_index,
    })
}

fn post_command(key: KeyPath, p: &Params, index: u64) -> Result<StoreCommand, EtcdError> {
    let ttl = p.ttl("Create", index)?;
    check_not_reserved(&key, false, index)?;
    Ok(StoreCommand::Create {
        key,
        value: p.get("value").unwrap_or("").to_string(),
        dir: p.flag("dir", index)?,
        ttl,
        in_order: true,
    })
}

fn delete_command(key: KeyPath, p: &Params, index: u64) -> Result<StoreCommand, EtcdError> {
    if p.has("prevValue") || p.has("prevIndex") {
        let prev_index = p
            .index("prevIndex", "CompareAndDelete", index)?
            .unwrap_or(0);
        let prev_value = p.get("prevValue").map(str::to_string);
        if prev_value.as_deref() == Some("") {
            return Err(EtcdError::new(
                ErrorCode::PrevValueRequired,
                "CompareAndDelete",
                index,
            ));
        }
        check_not_reserved(&key, true, index)?;
        return Ok(StoreCommand::CompareAndDelete {
            key,
            prev_value,
            prev_index,
        });
    }
    let dir = p.flag("dir", index)?;
    let recursive = p.flag("recursive", index)?;
    check_not_reserved(&key, true, index)?;
    Ok(StoreCommand::Delete {
        key,
        dir,
        recursive,
    })
}

fn write(
    gw: &Gateway,
    req: &Request,
    cmd: Result<StoreCommand, EtcdError>,
) -> crate::httpd::Response {
    match cmd {
        Err(e) => reply::error(&e),
        Ok(cmd) => render(gw, req, ask_write(gw, cmd)),
    }
}

fn render(gw: &Gateway, req: &Request, answer: Option<Reply>) -> crate::httpd::Response {
    keyspace::respond(gw, req, answer, reply::event)
}

/// The parameters of a GET.
struct ReadFlags {
    /// `quorum=true` or `consistent=true`.
    linearizable: bool,
    wait: bool,
    recursive: bool,
    sorted: bool,
    stream: bool,
    since: Option<u64>,
}

impl ReadFlags {
    fn parse(p: &Params, index: u64) -> Result<ReadFlags, EtcdError> {
        Ok(ReadFlags {
            linearizable: p.flag("quorum", index)? | p.flag("consistent", index)?,
            wait: p.flag("wait", index)?,
            recursive: p.flag("recursive", index)?,
            sorted: p.flag("sorted", index)?,
            stream: p.flag("stream", index)?,
            since: p.index("waitIndex", "Watch From Index", index)?,
        })
    }
}

/// GET/HEAD: a quorum read first (it ignores `wait`), then a watch, else a
/// local read.
fn read(
    gw: &Gateway,
    req: &Request,
    key: KeyPath,
    p: &Params,
    index: u64,
    pass: &KeyPass,
) -> Decision {
    let flags = match ReadFlags::parse(p, index) {
        Ok(v) => v,
        Err(e) => return Decision::Answer(reply::error(&e)),
    };
    let ReadFlags {
        linearizable,
        wait,
        recursive,
        sorted,
        stream,
        since,
    } = flags;
    if wait && !linearizable {
        let filter = gw.guard().watch_filter(pass, &key, recursive);
        return Decision::Watch(WatchSpec {
            key,
            recursive,
            stream,
            since,
            filter,
        });
    }
    let answer = ask_read(gw, key, recursive, sorted, linearizable);
    Decision::Answer(render(gw, req, answer))
}

/// A long-poll watch. Headers go out at once; the body is the first
/// matching event (or every one, with `stream=true`). A client that
/// disconnects cancels the watch.
#[inline(never)]
fn watch(gw: &Gateway, req: &Request, out: &mut Responder, spec: WatchSpec) {
    let WatchSpec {
        key,
        recursive,
        stream,
        since,
        filter,
    } = spec;
    let mut watching = match keyspace::start_watch(gw, key, recursive, stream, since, Some(filter))
    {
        Ok(w) => w,
        Err(WatchRefused::Store(e)) => return gw.send(req, out, reply::error(&e)),
        Err(WatchRefused::NoAnswer) => {
            return gw.send(req, out, reply::internal(gw.store_index()));
        }
    };
    out.set_write_timeout(None);
    let mut headers = reply::position_headers(&watching.at);
    headers.extend(gw.cors_headers(req));
    if out.start_stream(200, headers).is_err() {
        watching.cancel(gw);
        return;
    }
    let head_only = req.method == "HEAD";
    loop {
        match watching.next(gw, out) {
            WatchNext::Event(event) => {
                let written = head_only || send_event(out, &event);
                if !written {
                    watching.cancel(gw);
                    return;
                }
                if !stream {
                    let _ = out.finish_stream();
                    return;
                }
            }
            WatchNext::ClientGone => return,
            WatchNext::Ended => {
                let _ = out.finish_stream();
                return;
            }
        }
    }
}

/// One event as a chunk. Out of line: rendering JSON takes more stack than
/// the whole wait, and an idle watcher keeps its wait's frames (httpd/stack.rs).
#[inline(never)]
fn send_event(out: &mut Responder, event: &crate::store::Event) -> bool {
    out.send_chunk(event.to_json().as_bytes()).is_ok()
}

//! `/v1/keys/<key>`: read (GET, HEAD), set or test-and-set (PUT, POST —
//! the same in v1) and delete (DELETE), as etcd 0.4.6 answered them.
//!
//! Parameters are validated here, on whichever machine receives the
//! request (a follower answers 200/202 itself), then the write becomes the
//! same typed command the v2 API sends; 0.4.6 did the same. It never
//! reads v2's parameters (`dir`, `prevExist`, `prevIndex`, `recursive`, …):
//! a v1 client could not send them. With auth on, each request is checked
//! as a v2 request on the same key would be (never recursive: v1 reads
//! and deletes name one key).

use crate::auth::Access;
use crate::http::gateway::Gateway;
use crate::http::keyspace::{self, ask_read, ask_write, check_not_reserved, parse_key};
use crate::http::params::Params;
use crate::http::reply;
use crate::httpd::{Request, Responder, Response};
use crate::server::requests::Reply;
use crate::store::{ErrorCode, EtcdError, KeyPath, StoreCommand};

use super::body;

/// The cause 0.4.6 put in the errors of a v1 set.
const SET_CAUSE: &str = "Set";

// Out of line: not in the frames a waiting watch keeps (httpd/stack.rs).
#[inline(never)]
pub fn handle(gw: &Gateway, req: &Request, out: &mut Responder, raw_key: &str) {
    let index = gw.store_index();
    let access = match req.method.as_str() {
        "GET" | "HEAD" => Access::Read,
        "PUT" | "POST" | "DELETE" => Access::Write,
        _ => return gw.send(req, out, reply::not_found()),
    };
    if let Ok(key) = parse_key(raw_key, index)
        && let Err(refused) = gw.guard().keys(req, &key, raw_key, access, false)
    {
        return gw.send(req, out, refused);
    }
    let response = match req.method.as_str() {
        "GET" | "HEAD" => match parse_key(raw_key, index) {
            // A plain local read of the node, as v1 had no other kind; a
            // directory comes back as the array of its children.
            Ok(key) => render(gw, req, ask_read(gw, key, false, false, false)),
            Err(e) => reply::error(&e),
        },
        "PUT" | "POST" => {
            let command = parse_key(raw_key, index).and_then(|key| {
                let params = Params::from_request(req, index)?;
                set_command(key, &params, index)
            });
            write(gw, req, command)
        }
        "DELETE" => {
            let command = parse_key(raw_key, index).and_then(|key| delete_command(key, index));
            write(gw, req, command)
        }
        _ => reply::not_found(),
    };
    gw.send(req, out, response);
}

/// A v1 set: `value` is required (200); `ttl` must be a number (202);
/// `prevValue` makes it a test-and-set: against that value, or, when it is
/// given empty, against the key not existing yet (a create).
fn set_command(key: KeyPath, p: &Params, index: u64) -> Result<StoreCommand, EtcdError> {
    let value = match p.get("value") {
        Some(v) if !v.is_empty() => v.to_string(),
        _ => return Err(EtcdError::new(ErrorCode::ValueRequired, SET_CAUSE, index)),
    };
    // The v2 rule (ruling 16) holds here too: a negative ttl is 202.
    let ttl = p.ttl(SET_CAUSE, index)?;
    check_not_reserved(&key, false, index)?;
    Ok(match p.get("prevValue") {
        None => StoreCommand::Set {
            key,
            value,
            dir: false,
            ttl,
        },
        Some("") => StoreCommand::Create {
            key,
            value,
            dir: false,
            ttl,
            in_order: false,
        },
        Some(prev) => StoreCommand::CompareAndSwap {
            key,
            value,
            ttl,
            prev_value: Some(prev.to_string()),
            prev_index: 0,
        },
    })
}

/// A v1 delete removes a file only: a directory is 102, as in 0.4.6.
fn delete_command(key: KeyPath, index: u64) -> Result<StoreCommand, EtcdError> {
    check_not_reserved(&key, true, index)?;
    Ok(StoreCommand::Delete {
        key,
        dir: false,
        recursive: false,
    })
}

fn write(gw: &Gateway, req: &Request, command: Result<StoreCommand, EtcdError>) -> Response {
    match command {
        Ok(cmd) => render(gw, req, ask_write(gw, cmd)),
        Err(e) => reply::error(&e),
    }
}

fn render(gw: &Gateway, req: &Request, answer: Option<Reply>) -> Response {
    keyspace::respond(gw, req, answer, |event, _| body::success(event))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(form: &str) -> Params {
        let req = Request::new(
            "PUT",
            "/v1/keys/k",
            vec![(
                "Content-Type".to_string(),
                "application/x-www-form-urlencoded".to_string(),
            )],
            form.as_bytes().to_vec(),
        );
        Params::from_request(&req, 7).unwrap()
    }

    fn set(form: &str) -> Result<StoreCommand, EtcdError> {
        set_command(KeyPath::parse("/k"), &params(form), 7)
    }

    fn error(form: &str) -> (u32, String, u64) {
        let e = set(form).unwrap_err();
        (e.code.number(), e.cause, e.index)
    }

    #[test]
    fn a_plain_set_with_a_ttl() {
        assert_eq!(
            set("value=v&ttl=20"),
            Ok(StoreCommand::Set {
                key: KeyPath::parse("/k"),
                value: "v".into(),
                dir: false,
                ttl: Some(20),
            })
        );
    }

    #[test]
    fn prev_value_is_test_and_set_and_empty_prev_value_is_create() {
        assert_eq!(
            set("value=new&prevValue=old"),
            Ok(StoreCommand::CompareAndSwap {
                key: KeyPath::parse("/k"),
                value: "new".into(),
                ttl: None,
                prev_value: Some("old".into()),
                prev_index: 0,
            })
        );
        assert_eq!(
            set("value=v&prevValue="),
            Ok(StoreCommand::Create {
                key: KeyPath::parse("/k"),
                value: "v".into(),
                dir: false,
                ttl: None,
                in_order: false,
            })
        );
    }

    #[test]
    fn a_missing_or_empty_value_is_200_before_a_bad_ttl() {
        assert_eq!(error(""), (200, "Set".to_string(), 7));
        assert_eq!(error("value=&ttl=x"), (200, "Set".to_string(), 7));
    }

    #[test]
    fn a_bad_or_negative_ttl_is_202_set() {
        assert_eq!(error("value=v&ttl=bad_ttl"), (202, "Set".to_string(), 7));
        assert_eq!(error("value=v&ttl=-1"), (202, "Set".to_string(), 7));
    }

    #[test]
    fn membership_keys_cannot_be_written_or_deleted() {
        let key = KeyPath::parse("/_etcd/machines/m1");
        let e = set_command(key.clone(), &params("value=v"), 7).unwrap_err();
        assert_eq!(e.code, ErrorCode::KeyIsPreserved);
        assert_eq!(
            delete_command(key, 7).unwrap_err().code,
            ErrorCode::KeyIsPreserved
        );
    }

    #[test]
    fn a_delete_is_of_a_file_only() {
        assert_eq!(
            delete_command(KeyPath::parse("/k"), 7),
            Ok(StoreCommand::Delete {
                key: KeyPath::parse("/k"),
                dir: false,
                recursive: false,
            })
        );
    }
}

//! The wall clock, read only by the state thread when it stamps a proposal
//! and by the HTTP threads when they render remaining TTLs.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::store::UnixNanos;

pub fn now_nanos() -> UnixNanos {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

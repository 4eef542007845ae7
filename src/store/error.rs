//! etcd's numbered errors: codes, exact 0.4.6 messages, HTTP statuses, body.

use super::json::{push_member_name, push_string};
use std::fmt;

/// Every error code of etcd 0.4.6 (`error/error.go`), with its number, and
/// etcd 2.x's 110 for a keys request its credentials do not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    KeyNotFound = 100,
    TestFailed = 101,
    NotFile = 102,
    NoMorePeer = 103,
    NotDir = 104,
    NodeExist = 105,
    KeyIsPreserved = 106,
    RootReadOnly = 107,
    DirNotEmpty = 108,
    ExistingPeerAddr = 109,
    Unauthorized = 110,
    ValueRequired = 200,
    PrevValueRequired = 201,
    TtlNaN = 202,
    IndexNaN = 203,
    ValueOrTtlRequired = 204,
    TimeoutNaN = 205,
    NameRequired = 206,
    IndexOrValueRequired = 207,
    IndexValueMutex = 208,
    InvalidField = 209,
    RaftInternal = 300,
    LeaderElect = 301,
    WatcherCleared = 400,
    EventIndexCleared = 401,
    StandbyInternal = 402,
    InvalidActiveSize = 403,
    InvalidRemoveDelay = 404,
    ClientInternal = 500,
}

impl ErrorCode {
    pub fn number(self) -> u32 {
        self as u32
    }

    /// The message string exactly as 0.4.6 sends it (not the older spellings
    /// of its documentation).
    pub fn message(self) -> &'static str {
        match self {
            ErrorCode::KeyNotFound => "Key not found",
            ErrorCode::TestFailed => "Compare failed",
            ErrorCode::NotFile => "Not a file",
            ErrorCode::NoMorePeer => "Reached the max number of peers in the cluster",
            ErrorCode::NotDir => "Not a directory",
            ErrorCode::NodeExist => "Key already exists",
            ErrorCode::KeyIsPreserved => "The prefix of given key is a keyword in etcd",
            ErrorCode::RootReadOnly => "Root is read only",
            ErrorCode::DirNotEmpty => "Directory not empty",
            ErrorCode::ExistingPeerAddr => "Peer address has existed",
            ErrorCode::Unauthorized => "The request requires user authentication",
            ErrorCode::ValueRequired => "Value is Required in POST form",
            ErrorCode::PrevValueRequired => "PrevValue is Required in POST form",
            ErrorCode::TtlNaN => "The given TTL in POST form is not a number",
            ErrorCode::IndexNaN => "The given index in POST form is not a number",
            ErrorCode::ValueOrTtlRequired => "Value or TTL is required in POST form",
            ErrorCode::TimeoutNaN => "The given timeout in POST form is not a number",
            ErrorCode::NameRequired => "Name is required in POST form",
            ErrorCode::IndexOrValueRequired => "Index or value is required",
            ErrorCode::IndexValueMutex => "Index and value cannot both be specified",
            ErrorCode::InvalidField => "Invalid field",
            ErrorCode::RaftInternal => "Raft Internal Error",
            ErrorCode::LeaderElect => "During Leader Election",
            ErrorCode::WatcherCleared => "watcher is cleared due to etcd recovery",
            ErrorCode::EventIndexCleared => "The event in requested index is outdated and cleared",
            ErrorCode::StandbyInternal => "Standby Internal Error",
            ErrorCode::InvalidActiveSize => "Invalid active size",
            ErrorCode::InvalidRemoveDelay => "Standby remove delay",
            ErrorCode::ClientInternal => "Client Internal Error",
        }
    }

    /// 100 → 404; 101, 105 → 412; 102, 108 → 403; 110 → 401; 3xx → 500;
    /// all else → 400.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::KeyNotFound => 404,
            ErrorCode::Unauthorized => 401,
            ErrorCode::TestFailed | ErrorCode::NodeExist => 412,
            ErrorCode::NotFile | ErrorCode::DirNotEmpty => 403,
            ErrorCode::RaftInternal | ErrorCode::LeaderElect => 500,
            _ => 400,
        }
    }
}

/// An etcd error as sent to clients; `index` is the store index at failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtcdError {
    pub code: ErrorCode,
    pub cause: String,
    pub index: u64,
}

impl EtcdError {
    pub fn new(code: ErrorCode, cause: impl Into<String>, index: u64) -> Self {
        EtcdError {
            code,
            cause: cause.into(),
            index,
        }
    }

    /// `{"errorCode":N,"message":"…","cause":"…","index":I}` plus a newline
    /// (0.4.6 error bodies end with one, success bodies do not); `cause` is
    /// left out when empty.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(96 + self.cause.len());
        out.push('{');
        push_member_name(&mut out, "errorCode");
        out.push_str(&self.code.number().to_string());
        out.push(',');
        push_member_name(&mut out, "message");
        push_string(&mut out, self.code.message());
        if !self.cause.is_empty() {
            out.push(',');
            push_member_name(&mut out, "cause");
            push_string(&mut out, &self.cause);
        }
        out.push(',');
        push_member_name(&mut out, "index");
        out.push_str(&self.index.to_string());
        out.push_str("}\n");
        out
    }
}

impl fmt::Display for EtcdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.number(), self.code.message())?;
        if !self.cause.is_empty() {
            write!(f, " ({})", self.cause)?;
        }
        write!(f, " [{}]", self.index)
    }
}

impl std::error::Error for EtcdError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_mapping_follows_the_spec_table() {
        assert_eq!(ErrorCode::KeyNotFound.http_status(), 404);
        assert_eq!(ErrorCode::TestFailed.http_status(), 412);
        assert_eq!(ErrorCode::NodeExist.http_status(), 412);
        assert_eq!(ErrorCode::NotFile.http_status(), 403);
        assert_eq!(ErrorCode::DirNotEmpty.http_status(), 403);
        assert_eq!(ErrorCode::RaftInternal.http_status(), 500);
        assert_eq!(ErrorCode::LeaderElect.http_status(), 500);
        assert_eq!(ErrorCode::NotDir.http_status(), 400);
        assert_eq!(ErrorCode::RootReadOnly.http_status(), 400);
        assert_eq!(ErrorCode::EventIndexCleared.http_status(), 400);
        assert_eq!(ErrorCode::ClientInternal.http_status(), 400);
        assert_eq!(ErrorCode::Unauthorized.http_status(), 401);
    }

    #[test]
    fn numbers_match_the_046_table() {
        assert_eq!(ErrorCode::KeyNotFound.number(), 100);
        assert_eq!(ErrorCode::ExistingPeerAddr.number(), 109);
        assert_eq!(ErrorCode::InvalidField.number(), 209);
        assert_eq!(ErrorCode::LeaderElect.number(), 301);
        assert_eq!(ErrorCode::InvalidRemoveDelay.number(), 404);
        assert_eq!(ErrorCode::ClientInternal.number(), 500);
    }

    #[test]
    fn error_bodies_match_observed_046_bytes() {
        let cases = [
            (
                EtcdError::new(ErrorCode::KeyNotFound, "/missing", 13),
                "{\"errorCode\":100,\"message\":\"Key not found\",\"cause\":\"/missing\",\"index\":13}\n",
            ),
            (
                EtcdError::new(ErrorCode::TestFailed, "[x != bar] [1 != 3]", 8),
                "{\"errorCode\":101,\"message\":\"Compare failed\",\"cause\":\"[x != bar] [1 != 3]\",\"index\":8}\n",
            ),
            (
                // etcd 2.x / 3.4 with --enable-v2, observed.
                EtcdError::new(ErrorCode::Unauthorized, "Insufficient credentials", 0),
                "{\"errorCode\":110,\"message\":\"The request requires user authentication\",\"cause\":\"Insufficient credentials\",\"index\":0}\n",
            ),
            (
                EtcdError::new(ErrorCode::PrevValueRequired, "CompareAndSwap", 8),
                "{\"errorCode\":201,\"message\":\"PrevValue is Required in POST form\",\"cause\":\"CompareAndSwap\",\"index\":8}\n",
            ),
            (
                EtcdError::new(ErrorCode::TtlNaN, "Update", 13),
                "{\"errorCode\":202,\"message\":\"The given TTL in POST form is not a number\",\"cause\":\"Update\",\"index\":13}\n",
            ),
            (
                EtcdError::new(ErrorCode::IndexNaN, "Watch From Index", 24),
                "{\"errorCode\":203,\"message\":\"The given index in POST form is not a number\",\"cause\":\"Watch From Index\",\"index\":24}\n",
            ),
            (
                EtcdError::new(ErrorCode::ValueOrTtlRequired, "Update", 13),
                "{\"errorCode\":204,\"message\":\"Value or TTL is required in POST form\",\"cause\":\"Update\",\"index\":13}\n",
            ),
            (
                EtcdError::new(
                    ErrorCode::EventIndexCleared,
                    "the requested history has been cleared [36/5]",
                    1035,
                ),
                "{\"errorCode\":401,\"message\":\"The event in requested index is outdated and cleared\",\"cause\":\"the requested history has been cleared [36/5]\",\"index\":1035}\n",
            ),
        ];
        for (error, body) in cases {
            assert_eq!(error.to_json(), body);
        }
    }

    #[test]
    fn empty_cause_is_omitted_from_error_body() {
        assert_eq!(
            EtcdError::new(ErrorCode::RaftInternal, "", 4).to_json(),
            "{\"errorCode\":300,\"message\":\"Raft Internal Error\",\"index\":4}\n"
        );
        assert_eq!(
            EtcdError::new(ErrorCode::LeaderElect, "", 4).to_json(),
            "{\"errorCode\":301,\"message\":\"During Leader Election\",\"index\":4}\n"
        );
    }

    #[test]
    fn display_names_code_message_and_cause() {
        let error = EtcdError::new(ErrorCode::NotDir, "/foo", 13);
        assert_eq!(error.to_string(), "104: Not a directory (/foo) [13]");
    }
}

//! Short reasons for TLS and connection failures. OpenSSL's own messages
//! carry error codes, function names and source lines; an operator reading
//! a log needs only the reason ("certificate verify failed") and the
//! verification detail ("unable to get local issuer certificate").

use std::io;

use openssl::error::ErrorStack;
use openssl::ssl::{self, ErrorCode};

/// What went wrong on a connection, in a few words. TLS failures start with
/// `TLS: ` so callers can tell them from plain network trouble.
pub fn describe(e: &io::Error) -> String {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<ssl::Error>())
    {
        Some(tls) => format!("TLS: {}", of_ssl(tls)),
        None => io_reason(e),
    }
}

/// `No such file or directory (os error 2)` → `No such file or directory`.
pub(crate) fn io_reason(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// The reason of an OpenSSL session error.
pub(crate) fn of_ssl(e: &ssl::Error) -> String {
    if let Some(stack) = e.ssl_error() {
        return of_stack(stack);
    }
    if let Some(io) = e.io_error() {
        return io_reason(io);
    }
    match e.code() {
        ErrorCode::ZERO_RETURN => "the other side closed the TLS session".to_string(),
        // SYSCALL without an OS error: the TCP connection ended mid-handshake.
        ErrorCode::SYSCALL => "connection closed during the TLS handshake".to_string(),
        _ => e.to_string(),
    }
}

/// The first reason on OpenSSL's error stack, with a hint where the usual
/// cause is a TLS client talking to a plain port.
pub(crate) fn of_stack(stack: &ErrorStack) -> String {
    let reason = stack
        .errors()
        .iter()
        .find_map(|e| e.reason())
        .unwrap_or("unknown TLS error");
    if matches!(reason, "wrong version number" | "packet length too long") {
        format!("{reason} (the other side does not speak TLS)")
    } else {
        reason.to_string()
    }
}

/// The reason of a native-tls failure; native-tls adds the certificate
/// verification result in parentheses, which is kept.
pub(crate) fn of_native(e: &native_tls::Error) -> String {
    let source = std::error::Error::source(e);
    let base = if let Some(stack) = source.and_then(|s| s.downcast_ref::<ErrorStack>()) {
        of_stack(stack)
    } else if let Some(io) = source.and_then(|s| s.downcast_ref::<io::Error>()) {
        io_reason(io)
    } else {
        return e.to_string();
    };
    let full = e.to_string();
    match (full.ends_with(')'), full.rfind(" (")) {
        (true, Some(at)) if base == "certificate verify failed" => format!("{base}{}", &full[at..]),
        _ => base,
    }
}

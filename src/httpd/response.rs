//! The response a handler hands to `Responder::send`, and reason phrases.

use super::head::find_header;

/// A complete response. The layer adds `Content-Length` (and `Connection`
/// when it closes); handlers set everything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// A response with no headers and an empty body.
    ///
    /// ```ignore
    /// use etcd::httpd::Response;
    /// let r = Response::new(307).with_header("Location", "http://10.0.0.2:4001/v2/keys/a");
    /// assert_eq!(r.header("location"), Some("http://10.0.0.2:4001/v2/keys/a"));
    /// ```
    pub fn new(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// `text/plain; charset=utf-8` with the given body.
    pub fn text(status: u16, body: &str) -> Response {
        Response::new(status)
            .with_header("Content-Type", "text/plain; charset=utf-8")
            .with_body(body)
    }

    /// `application/json` with the given, already serialized, body.
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response::new(status)
            .with_header("Content-Type", "application/json")
            .with_body(body)
    }

    /// Appends a header (repeats allowed, order kept).
    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Response {
        self.body = body.into();
        self
    }

    /// First value of the header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// The standard reason phrase, or `"Unknown"` for codes we never send.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        417 => "Expectation Failed",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_statuses_have_their_reason_phrases() {
        assert_eq!(reason_phrase(200), "OK");
        assert_eq!(reason_phrase(201), "Created");
        assert_eq!(reason_phrase(301), "Moved Permanently");
        assert_eq!(reason_phrase(307), "Temporary Redirect");
        assert_eq!(reason_phrase(412), "Precondition Failed");
        assert_eq!(reason_phrase(413), "Payload Too Large");
        assert_eq!(reason_phrase(431), "Request Header Fields Too Large");
        assert_eq!(reason_phrase(503), "Service Unavailable");
        assert_eq!(reason_phrase(799), "Unknown");
    }

    #[test]
    fn text_sets_plain_utf8_content_type() {
        let r = Response::text(404, "404 page not found\n");
        assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
        assert_eq!(r.body, b"404 page not found\n");
    }
}

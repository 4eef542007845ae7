//! One request to the registry's etcd v2 keys API, following redirects (a
//! follower sends writes and consistent reads to its leader), and the answer
//! sorted into etcd's two shapes — a node, or an error — or the reason it is
//! neither.
//!
//! Over HTTPS the connector checks every server against the URL's host, so
//! a redirect to another host is followed only if that host's certificate
//! names the URL's host too (a hosted service does not redirect; a cluster
//! whose members share one certificate works).
//!
//! Owns the wire-level conversation. Never decides what an answer means for
//! discovery (the discoverer does) and never retries.

use std::time::Duration;

use serde_json::{Map, Value};

use super::error::{DiscoveryError, snippet};
use super::url::{DiscoveryUrl, Location, scheme_name};
use crate::httpd::{ClientResponse, HttpClient};
use crate::transport::Connector;

/// Redirects followed for one request before giving up.
pub(crate) const MAX_REDIRECTS: usize = 5;

/// Largest answer read: a registry listing is a few KiB; a service that
/// sends more is not one.
const MAX_ANSWER_BYTES: usize = 4 << 20;

/// Characters of a foreign body quoted in an error.
const SNIPPET_CHARS: usize = 80;

const FORM: &str = "application/x-www-form-urlencoded";

/// The registry as requests see it.
pub(crate) struct Registry<'a> {
    pub(crate) url: &'a DiscoveryUrl,
    pub(crate) connector: &'a Connector,
    pub(crate) timeout: Duration,
}

/// A request and the final answer to it.
pub(crate) struct Exchange {
    /// `PUT http://host:port/path?query` of the request answered (the last
    /// hop after redirects), for messages.
    pub(crate) request: String,
    pub(crate) resp: ClientResponse,
}

/// What etcd answers, in one of its two shapes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reply {
    /// `{"action": …, "node": {…}}`; `action` is absent in some proxies'
    /// answers, so the caller decides whether it is needed.
    Node {
        status: u16,
        action: Option<String>,
        node: Map<String, Value>,
    },
    /// `{"errorCode": …, "message": …, "cause": …}`.
    Error {
        status: u16,
        code: u64,
        message: String,
        cause: String,
    },
}

/// A keep-alive client to `host_port` with discovery's timeout and cap.
pub(crate) fn client(host_port: &str, connector: &Connector, timeout: Duration) -> HttpClient {
    let mut client = HttpClient::new(host_port, connector.clone(), timeout);
    client.config_mut().max_body_bytes = MAX_ANSWER_BYTES;
    client
}

impl Registry<'_> {
    /// Sends `method target` with `body` (form data when not empty) through
    /// `first`, the client to the URL's own host, and follows up to
    /// [`MAX_REDIRECTS`] redirects with the same method and body.
    pub(crate) fn send(
        &self,
        first: &mut HttpClient,
        method: &'static str,
        target: &str,
        body: &[u8],
    ) -> Result<Exchange, DiscoveryError> {
        let url = self.url.as_str();
        let https = self.url.is_https();
        let mut host_port = self.url.host_port().to_string();
        let mut target = target.to_string();
        // The client to a host redirected to, when not the URL's own.
        let mut elsewhere: Option<HttpClient> = None;
        for hop in 0..=MAX_REDIRECTS {
            let request = format!("{method} {}://{host_port}{target}", scheme_name(https));
            let client = match elsewhere.as_mut() {
                Some(c) => c,
                None => &mut *first,
            };
            let mut headers = vec![("Host", host_port.as_str()), ("Accept", "application/json")];
            if !body.is_empty() {
                headers.push(("Content-Type", FORM));
            }
            let resp = client
                .request(method, &target, &headers, body)
                .map_err(|e| DiscoveryError::of_io(url, &host_port, self.timeout, &e))?;
            log::debug!("discovery: {request} answered {}", resp.status);
            if !matches!(resp.status, 301 | 302 | 307 | 308) {
                return Ok(Exchange { request, resp });
            }
            if hop == MAX_REDIRECTS {
                break;
            }
            let bad_redirect = |location: &str, reason: String| DiscoveryError::BadRedirect {
                url: url.to_string(),
                request: request.clone(),
                location: location.to_string(),
                reason,
            };
            let Some(location) = resp.header("location") else {
                return Err(bad_redirect("", "the answer has no Location header".into()));
            };
            let next = Location::parse(location, https, &host_port)
                .map_err(|why| bad_redirect(location, why))?;
            if next.https != https {
                return Err(bad_redirect(
                    location,
                    format!(
                        "it switches from {} to {}",
                        scheme_name(https),
                        scheme_name(next.https)
                    ),
                ));
            }
            log::debug!("discovery: {request} redirected to {location}");
            if next.host_port == self.url.host_port() {
                elsewhere = None;
            } else if next.host_port != host_port {
                elsewhere = Some(client_to(&next.host_port, self));
            }
            host_port = next.host_port;
            target = next.target;
        }
        Err(DiscoveryError::TooManyRedirects {
            url: url.to_string(),
            hops: MAX_REDIRECTS,
            last: format!("{}://{host_port}{target}", scheme_name(https)),
        })
    }

    /// Sorts an answer into etcd's shapes; a 404 and anything that is not
    /// etcd's JSON are errors already.
    pub(crate) fn reply(&self, ex: &Exchange) -> Result<Reply, DiscoveryError> {
        let status = ex.resp.status;
        if status == 404 {
            return Err(DiscoveryError::NotFound {
                url: self.url.as_str().to_string(),
                request: ex.request.clone(),
            });
        }
        let Ok(Value::Object(mut body)) = serde_json::from_slice::<Value>(&ex.resp.body) else {
            return Err(self.not_etcd(ex));
        };
        if let Some(code) = body.get("errorCode").and_then(Value::as_u64) {
            let text = |field: &str| {
                body.get(field)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            return Ok(Reply::Error {
                status,
                code,
                message: text("message"),
                cause: text("cause"),
            });
        }
        let action = body
            .get("action")
            .and_then(Value::as_str)
            .map(str::to_string);
        match body.remove("node") {
            Some(Value::Object(node)) => Ok(Reply::Node {
                status,
                action,
                node,
            }),
            _ => Err(self.not_etcd(ex)),
        }
    }

    /// The answer to `ex` is not what an etcd keys API says.
    pub(crate) fn not_etcd(&self, ex: &Exchange) -> DiscoveryError {
        DiscoveryError::NotEtcd {
            url: self.url.as_str().to_string(),
            request: ex.request.clone(),
            status: ex.resp.status,
            content_type: snippet(
                ex.resp
                    .header("content-type")
                    .unwrap_or_default()
                    .as_bytes(),
                SNIPPET_CHARS,
            ),
            snippet: snippet(&ex.resp.body, SNIPPET_CHARS),
        }
    }

    /// etcd answered `ex` in a way this request does not expect: its
    /// error, or a node with an odd status.
    pub(crate) fn unexpected(&self, ex: &Exchange, reply: Reply) -> DiscoveryError {
        let url = self.url.as_str().to_string();
        let request = ex.request.clone();
        match reply {
            Reply::Error {
                code,
                message,
                cause,
                ..
            } => DiscoveryError::EtcdError {
                url,
                request,
                code,
                message,
                cause,
            },
            Reply::Node { status, .. } => DiscoveryError::UnexpectedStatus {
                url,
                request,
                status,
            },
        }
    }
}

fn client_to(host_port: &str, registry: &Registry) -> HttpClient {
    client(host_port, registry.connector, registry.timeout)
}

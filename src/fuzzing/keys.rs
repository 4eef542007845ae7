//! What a client writes in a URL and a form body: `form_query` (form and
//! query decoding, percent-escapes, the parameters the keys API reads) and
//! `key_path` (turning the path of a URL into the one spelling of a key
//! the store sees).

use crate::http::keyspace::parse_key;
use crate::http::params::Params;
use crate::httpd::{Request, parse_form, percent_decode};
use crate::store::KeyPath;

/// Percent-encodes everything but RFC 3986's unreserved characters; a
/// space becomes `+` in forms.
fn encode(text: &[u8], form: bool) -> String {
    let mut out = String::new();
    for &b in text {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' if form => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub fn form_query(data: &[u8]) {
    // Decode → encode → decode gives the same pairs.
    if let Ok(pairs) = parse_form(data) {
        let encoded: Vec<String> = pairs
            .iter()
            .map(|(n, v)| {
                format!(
                    "{}={}",
                    encode(n.as_bytes(), true),
                    encode(v.as_bytes(), true)
                )
            })
            .collect();
        let back = parse_form(encoded.join("&").as_bytes());
        assert_eq!(back.as_ref(), Ok(&pairs), "form round trip");
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(bytes) = percent_decode(text) {
        assert_eq!(percent_decode(&encode(&bytes, false)), Some(bytes));
    }

    // The target splits into path and query without losing a byte.
    let req = Request::new("PUT", text, Vec::new(), Vec::new());
    if text.starts_with('/') && !text.contains('#') {
        let joined = match text.contains('?') {
            true => format!("{}?{}", req.path, req.query),
            false => req.path.clone(),
        };
        assert_eq!(joined, text, "path and query do not add up to the target");
    }

    // The keys API's parameters, from the query and a form body at once.
    let form = vec![(
        "Content-Type".to_string(),
        "application/x-www-form-urlencoded".to_string(),
    )];
    let query: String = text.chars().filter(|c| *c != '#').collect();
    let req = Request::new("PUT", &format!("/v2/keys/k?{query}"), form, data.to_vec());
    if let Ok(params) = Params::from_request(&req, 7) {
        for name in ["recursive", "sorted", "wait", "dir", "prevExist", "stream"] {
            let _ = params.flag(name, 7);
            let _ = params.optional_flag(name, 7);
        }
        if let Ok(Some(ttl)) = params.ttl("Update", 7) {
            assert!(ttl >= 0);
        }
        let _ = params.index("waitIndex", "Watch", 7);
        let first_value = parse_form(data)
            .ok()
            .and_then(|p| p.into_iter().find(|(n, _)| n == "value"))
            .map(|(_, v)| v);
        if let Some(v) = first_value {
            assert_eq!(
                params.get("value"),
                Some(v.as_str()),
                "the body comes first"
            );
        }
    }
}

/// The invariants of a cleaned path.
fn check_canonical(key: &KeyPath) {
    let text = key.as_str();
    assert!(text.starts_with('/'), "{text:?}");
    assert_eq!(key.is_root(), text == "/");
    if !key.is_root() {
        assert!(!text.ends_with('/'), "{text:?}");
        for segment in text[1..].split('/') {
            assert!(!matches!(segment, "" | "." | ".."), "{text:?}");
        }
    }
    assert_eq!(&KeyPath::parse(text), key, "cleaning is not idempotent");
}

pub fn key_path(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (first, second) = text.split_once('\n').unwrap_or((&text, ""));
    let key = KeyPath::parse(first);
    check_canonical(&key);
    assert_eq!(KeyPath::root().join(first), key);
    let count = key.segments().count();
    assert_eq!(key.prefix(count), key);
    assert_eq!(key.is_hidden(), key.name().starts_with('_'));
    let hidden_segment = key.segments().any(|s| s.starts_with('_'));
    assert_eq!(
        key.has_hidden_segment_below(&KeyPath::root()),
        hidden_segment
    );
    match key.parent() {
        None => assert!(key.is_root()),
        Some(parent) => {
            check_canonical(&parent);
            assert_eq!(parent.child(key.name()), key);
            assert!(key.is_below(&parent));
            assert_eq!(parent.segments().count() + 1, count);
        }
    }
    let json = serde_json::to_string(&key).unwrap_or_default();
    assert_eq!(
        serde_json::from_str::<KeyPath>(&json).ok(),
        Some(key.clone())
    );

    // A second path: "below" means a whole-segment prefix.
    let other = KeyPath::parse(second);
    let below = match key.is_root() {
        true => !other.is_root(),
        false => other.as_str().starts_with(&format!("{key}/")),
    };
    assert_eq!(other.is_below(&key), below);
    check_canonical(&key.join(second));

    // What the keys API does with the raw path of a URL.
    if let Ok(parsed) = parse_key(first, 0) {
        check_canonical(&parsed);
        let decoded = percent_decode(first).map(String::from_utf8);
        assert_eq!(
            Some(Ok(parsed)),
            decoded.map(|d| d.map(|t| KeyPath::parse(&t)))
        );
    }
}

//! Hand-written JSON output for the bodies whose bytes clients see.
//!
//! serde_json cannot reproduce 0.4.6's member order with omissions and its
//! HTML-safe escaping at once, so the wire bodies are written here.

use std::fmt::Write;

/// Appends `text` as a JSON string literal, escaped the way etcd 0.4.6
/// (Go's encoding/json) does: `<`, `>`, `&`, U+2028 and U+2029 as `\uXXXX`,
/// `\n`/`\r` short, every other control character as `\u00XX`.
pub fn push_string(out: &mut String, text: &str) {
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => push_unicode_escape(out, ch),
            c if (c as u32) < 0x20 => push_unicode_escape(out, c),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_unicode_escape(out: &mut String, ch: char) {
    // Writing to a String cannot fail.
    let _ = write!(out, "\\u{:04x}", ch as u32);
}

/// Appends `"name":` — member names are fixed ASCII, no escaping needed.
pub fn push_member_name(out: &mut String, name: &str) {
    out.push('"');
    out.push_str(name);
    out.push_str("\":");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(text: &str) -> String {
        let mut out = String::new();
        push_string(&mut out, text);
        out
    }

    #[test]
    fn html_characters_are_escaped_like_go() {
        assert_eq!(
            quoted("etcd=a&raft=<b>"),
            "\"etcd=a\\u0026raft=\\u003cb\\u003e\""
        );
    }

    #[test]
    fn quotes_backslashes_and_controls_are_escaped() {
        assert_eq!(quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quoted("l1\nl2\r\t"), "\"l1\\nl2\\r\\u0009\"");
        assert_eq!(quoted("\u{2028}"), "\"\\u2028\"");
    }

    #[test]
    fn escaped_output_is_valid_json_for_the_same_text() {
        let text = "ü <&> \u{1} \"x\" \\ \u{2029} 日本";
        let parsed: String = serde_json::from_str(&quoted(text)).unwrap();
        assert_eq!(parsed, text);
    }
}

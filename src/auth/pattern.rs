//! The key patterns of a role's permission lists, matched as etcd 2.x
//! matches them: a pattern ending in `*` is a prefix (`/foo*` covers
//! `/foo`, `/foobar` and `/foo/x`; `/foo/*` covers `/foo/`, and everything
//! under `/foo`), any other pattern is exactly one key. `*` alone (or
//! `/*`) covers the whole key space.
//!
//! Plain string comparisons, no path logic: the caller passes the key as
//! the request named it (cleaned, keeping a trailing slash it had, since
//! 2.x checked the path as written and `/foo/*` is meant to cover the
//! directory listed as `/foo/`). An empty pattern matches nothing (2.x
//! crashed the request on one).

/// True when `pattern` grants access to the single key `key`.
pub fn matches_key(pattern: &str, key: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => key.starts_with(prefix),
        None => !pattern.is_empty() && key == pattern,
    }
}

/// True when `pattern` grants access to `key` and everything below it (a
/// recursive read, delete or watch): only a prefix pattern can.
pub fn matches_subtree(pattern: &str, key: &str) -> bool {
    pattern
        .strip_suffix('*')
        .is_some_and(|prefix| key.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pattern shape against every key shape, for both checks:
    /// (pattern, key, one key, subtree).
    #[test]
    fn the_whole_table() {
        let cases = [
            // exact patterns cover one key, never a subtree
            ("/foo", "/foo", true, false),
            ("/foo", "/foo/", false, false),
            ("/foo", "/foo/bar", false, false),
            ("/foo", "/foobar", false, false),
            ("/foo", "/fo", false, false),
            ("/foo", "/", false, false),
            // `/foo*`: the key, its subtree and its siblings by prefix
            ("/foo*", "/foo", true, true),
            ("/foo*", "/foo/", true, true),
            ("/foo*", "/foo/bar", true, true),
            ("/foo*", "/foobar", true, true),
            ("/foo*", "/fo", false, false),
            ("/foo*", "/bar/foo", false, false),
            // `/foo/*`: what is under /foo (and the dir spelled `/foo/`)
            ("/foo/*", "/foo", false, false),
            ("/foo/*", "/foo/", true, true),
            ("/foo/*", "/foo/bar", true, true),
            ("/foo/*", "/foo/bar/baz", true, true),
            ("/foo/*", "/foobar", false, false),
            // the whole key space
            ("/*", "/", true, true),
            ("/*", "/anything/at/all", true, true),
            ("*", "/", true, true),
            ("*", "/x", true, true),
            // the root itself, exactly
            ("/", "/", true, false),
            ("/", "/x", false, false),
            // nothing matches an empty pattern
            ("", "", false, false),
            ("", "/", false, false),
            // `*` is only special at the end
            ("/a*b", "/a*b", true, false),
            ("/a*b", "/axb", false, false),
            // case matters, as in keys
            ("/Foo*", "/foo", false, false),
        ];
        for (pattern, key, one, subtree) in cases {
            assert_eq!(
                matches_key(pattern, key),
                one,
                "key: {pattern:?} on {key:?}"
            );
            assert_eq!(
                matches_subtree(pattern, key),
                subtree,
                "subtree: {pattern:?} on {key:?}"
            );
        }
    }

    #[test]
    fn a_subtree_grant_always_covers_the_key_itself() {
        for pattern in ["/a*", "/a/*", "*", "/*", "/", "/a", ""] {
            for key in ["/", "/a", "/a/", "/a/b", "/ab", "/b"] {
                if matches_subtree(pattern, key) {
                    assert!(matches_key(pattern, key), "{pattern:?} {key:?}");
                }
            }
        }
    }
}

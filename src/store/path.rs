//! Canonical key paths: the only spelling of a key the store ever sees.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A cleaned, absolute key path: leading `/`, no trailing `/`, no empty,
/// `.` or `..` segments. The root is `/`.
///
/// Every constructor goes through [`KeyPath::parse`], so two spellings of the
/// same key (`a//b/`, `/a/./b`, `/x/../a/b`) always compare equal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyPath(String);

impl KeyPath {
    /// Cleans any raw path. `..` climbs one level but never above the root,
    /// so no input can produce a path outside the tree.
    pub fn parse(raw: &str) -> KeyPath {
        let mut segments: Vec<&str> = Vec::new();
        for segment in raw.split('/') {
            match segment {
                "" | "." => {}
                ".." => {
                    segments.pop();
                }
                name => segments.push(name),
            }
        }
        let mut cleaned = String::with_capacity(raw.len() + 1);
        for segment in &segments {
            cleaned.push('/');
            cleaned.push_str(segment);
        }
        if cleaned.is_empty() {
            cleaned.push('/');
        }
        KeyPath(cleaned)
    }

    /// The root directory `/`.
    pub fn root() -> KeyPath {
        KeyPath("/".to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    /// The containing directory; `None` only for the root.
    pub fn parent(&self) -> Option<KeyPath> {
        if self.is_root() {
            return None;
        }
        match self.0.rfind('/') {
            Some(0) | None => Some(KeyPath::root()),
            Some(cut) => Some(KeyPath(self.0[..cut].to_string())),
        }
    }

    /// The child `name` of this path; `name` is cleaned like any raw path,
    /// so a name with slashes descends several levels.
    pub fn join(&self, name: &str) -> KeyPath {
        KeyPath::parse(&format!("{}/{}", self.0, name))
    }

    /// The child called `name`, where `name` is a single segment taken from
    /// the tree (so it needs no cleaning); anything else is cleaned by `join`.
    pub fn child(&self, name: &str) -> KeyPath {
        if name.is_empty() || name == "." || name == ".." || name.contains('/') {
            return self.join(name);
        }
        let mut text = String::with_capacity(self.0.len() + 1 + name.len());
        if !self.is_root() {
            text.push_str(&self.0);
        }
        text.push('/');
        text.push_str(name);
        KeyPath(text)
    }

    /// The path made of the first `count` segments (the root for 0).
    pub fn prefix(&self, count: usize) -> KeyPath {
        let mut text = String::new();
        for segment in self.segments().take(count) {
            text.push('/');
            text.push_str(segment);
        }
        if text.is_empty() {
            text.push('/');
        }
        KeyPath(text)
    }

    /// The last segment (empty for the root).
    pub fn name(&self) -> &str {
        match self.0.rfind('/') {
            Some(cut) => &self.0[cut + 1..],
            None => &self.0,
        }
    }

    /// Hidden keys are those whose own name starts with `_`: they are left
    /// out of listings but stay readable by exact path.
    pub fn is_hidden(&self) -> bool {
        self.name().starts_with('_')
    }

    /// The segments below the root, in order (none for the root).
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|segment| !segment.is_empty())
    }

    /// True when `self` lies strictly inside the directory `dir`.
    pub fn is_below(&self, dir: &KeyPath) -> bool {
        if dir.is_root() {
            return !self.is_root();
        }
        self.0.len() > dir.0.len()
            && self.0.starts_with(&dir.0)
            && self.0.as_bytes()[dir.0.len()] == b'/'
    }

    /// True when `self` is below `dir` and some segment between them starts
    /// with `_`: recursive watchers of `dir` must not be told about it.
    pub fn has_hidden_segment_below(&self, dir: &KeyPath) -> bool {
        if !self.is_below(dir) {
            return false;
        }
        let rest = if dir.is_root() {
            &self.0[..]
        } else {
            &self.0[dir.0.len()..]
        };
        rest.split('/').any(|segment| segment.starts_with('_'))
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for KeyPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for KeyPath {
    /// Re-cleans on the way in, so a hand-edited log cannot smuggle in a
    /// non-canonical key.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Ok(KeyPath::parse(&raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_slash_added_and_trailing_slash_ignored() {
        assert_eq!(KeyPath::parse("foo/").as_str(), "/foo");
        assert_eq!(KeyPath::parse("/foo/bar/").as_str(), "/foo/bar");
    }

    #[test]
    fn double_slash_and_dot_segments_are_cleaned() {
        assert_eq!(KeyPath::parse("//a//./b").as_str(), "/a/b");
        assert_eq!(KeyPath::parse("/a/../foo").as_str(), "/foo");
    }

    #[test]
    fn dot_dot_never_climbs_above_root() {
        assert_eq!(KeyPath::parse("/../../x").as_str(), "/x");
        assert_eq!(KeyPath::parse("..").as_str(), "/");
    }

    #[test]
    fn empty_path_is_root() {
        let root = KeyPath::parse("");
        assert!(root.is_root());
        assert_eq!(root.as_str(), "/");
        assert_eq!(root.parent(), None);
        assert_eq!(root.segments().count(), 0);
    }

    #[test]
    fn parent_of_top_level_key_is_root() {
        assert_eq!(KeyPath::parse("/a").parent(), Some(KeyPath::root()));
        assert_eq!(
            KeyPath::parse("/a/b/c").parent(),
            Some(KeyPath::parse("/a/b"))
        );
    }

    #[test]
    fn join_appends_a_cleaned_name() {
        assert_eq!(KeyPath::root().join("x").as_str(), "/x");
        assert_eq!(KeyPath::parse("/q").join("7").as_str(), "/q/7");
        assert_eq!(KeyPath::parse("/q").join("a/b/").as_str(), "/q/a/b");
    }

    #[test]
    fn child_and_prefix_build_canonical_paths() {
        assert_eq!(KeyPath::root().child("a").as_str(), "/a");
        assert_eq!(KeyPath::parse("/a").child("b").as_str(), "/a/b");
        assert_eq!(KeyPath::parse("/a").child("..").as_str(), "/");
        let deep = KeyPath::parse("/a/b/c");
        assert_eq!(deep.prefix(0).as_str(), "/");
        assert_eq!(deep.prefix(2).as_str(), "/a/b");
        assert_eq!(deep.prefix(9), deep);
    }

    #[test]
    fn hidden_means_last_segment_starts_with_underscore() {
        assert!(KeyPath::parse("/_etcd").is_hidden());
        assert!(KeyPath::parse("/a/_b").is_hidden());
        assert!(!KeyPath::parse("/_etcd/machines").is_hidden());
        assert!(!KeyPath::root().is_hidden());
    }

    #[test]
    fn below_requires_a_segment_boundary() {
        let foo = KeyPath::parse("/foo");
        assert!(KeyPath::parse("/foo/bar").is_below(&foo));
        assert!(!KeyPath::parse("/foobar").is_below(&foo));
        assert!(!foo.is_below(&foo));
        assert!(foo.is_below(&KeyPath::root()));
    }

    #[test]
    fn hidden_segment_counts_only_below_the_directory() {
        let dir = KeyPath::parse("/_foo/bar");
        assert!(!KeyPath::parse("/_foo/bar/baz").has_hidden_segment_below(&dir));
        assert!(KeyPath::parse("/_foo/bar/_baz/x").has_hidden_segment_below(&dir));
        assert!(KeyPath::parse("/_etcd/machines/m1").has_hidden_segment_below(&KeyPath::root()));
    }

    #[test]
    fn serde_round_trip_is_a_plain_string_and_recleans() {
        let key = KeyPath::parse("/a/b");
        assert_eq!(serde_json::to_string(&key).unwrap(), "\"/a/b\"");
        let back: KeyPath = serde_json::from_str("\"a//b/\"").unwrap();
        assert_eq!(back, key);
    }
}

//! `Text`: an immutable string for child names and values that keeps up to
//! 22 bytes inside itself and longer ones in one exact-size allocation.
//!
//! Most names are short (`123`, `machines`, an in-order key's 20 digits),
//! and so are many values (addresses, flags). A `String` costs 24 bytes
//! plus a heap block of at least 32 for each; a `Text` is 24 bytes, with no
//! heap block at all when short and no spare capacity when long. It orders,
//! compares and hashes exactly as the `str` it holds, so a map keyed by
//! `Text` is looked up with a `&str` and iterates in byte order.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const INLINE: usize = 22;

#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    /// `bytes[..len]` is the string; always valid UTF-8 (copied from a `str`).
    Inline {
        len: u8,
        bytes: [u8; INLINE],
    },
    Heap(Box<str>),
}

impl Text {
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline { len, bytes } => {
                // SAFETY: the bytes were copied whole from a `str` (see
                // `From<&str>`), and `len` is that string's length.
                unsafe { std::str::from_utf8_unchecked(&bytes[..usize::from(*len)]) }
            }
            Repr::Heap(text) => text,
        }
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Text {
        if text.len() <= INLINE {
            let mut bytes = [0u8; INLINE];
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            Text(Repr::Inline {
                len: text.len() as u8,
                bytes,
            })
        } else {
            Text(Repr::Heap(text.into()))
        }
    }
}

impl From<String> for Text {
    fn from(text: String) -> Text {
        if text.len() <= INLINE {
            Text::from(text.as_str())
        } else {
            Text(Repr::Heap(text.into_boxed_str()))
        }
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text, D::Error> {
        String::deserialize(deserializer).map(Text::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn is_as_small_as_a_string_and_keeps_every_length() {
        assert_eq!(std::mem::size_of::<Text>(), 24);
        for len in [0, 1, 21, 22, 23, 100] {
            let s = "é".repeat(len / 2) + &"x".repeat(len % 2);
            assert_eq!(Text::from(s.as_str()).as_str(), s);
            assert_eq!(Text::from(s.clone()).as_str(), s);
        }
    }

    #[test]
    fn orders_as_its_bytes_and_is_found_by_str() {
        let names = [
            "b",
            "a",
            "",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "aa",
            "Z",
            "é",
            "_h",
        ];
        let map: BTreeMap<Text, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (Text::from(*n), i))
            .collect();
        let mut sorted = names.to_vec();
        sorted.sort();
        let keys: Vec<&str> = map.keys().map(|k| k.as_str()).collect();
        assert_eq!(keys, sorted);
        assert_eq!(map.get("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), Some(&3));
        assert_eq!(map.get("é"), Some(&6));
    }

    #[test]
    fn serialises_as_a_plain_string() {
        let text = Text::from("a\"b");
        let json = serde_json::to_string(&text).unwrap();
        assert_eq!(json, r#""a\"b""#);
        let back: Text = serde_json::from_str(&json).unwrap();
        assert_eq!(back, text);
    }
}

//! Password hashes: PBKDF2-HMAC-SHA256 (OpenSSL's) over a random 16-byte
//! salt per password, kept in a versioned text form that names the
//! algorithm and the iteration count:
//!
//! `pbkdf2-sha256$100000$<salt, base64>$<derived key, base64>`
//!
//! so the cost can be raised later while every older hash still verifies
//! with the count written in it. Both hashing and verifying are slow on
//! purpose (about 40 ms each at 100 000 iterations on the development
//! machine); they run on an HTTP connection's thread, never on the state
//! thread, and the comparison of derived keys is constant-time
//! (`openssl::memcmp::eq`).

use std::fmt;

use openssl::hash::MessageDigest;
use openssl::pkcs5::pbkdf2_hmac;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The cost of every new hash.
pub const DEFAULT_ITERATIONS: u32 = 100_000;
/// Counts outside these bounds are damage, not a hash we wrote; refusing
/// them also keeps a bad record from costing minutes per login.
const MIN_ITERATIONS: u32 = 1;
const MAX_ITERATIONS: u32 = 10_000_000;
const SALT_LEN: usize = 16;
const KEY_LEN: usize = 32;
const ALGORITHM: &str = "pbkdf2-sha256";

/// A salted slow hash of a password. Never holds the password.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash {
    iterations: u32,
    salt: Vec<u8>,
    key: Vec<u8>,
}

/// OpenSSL could not produce randomness or derive the key.
#[derive(Debug)]
pub struct HashError(pub openssl::error::ErrorStack);

impl fmt::Display for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot hash a password: {}", self.0)
    }
}

impl std::error::Error for HashError {}

/// Why a stored hash's text does not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordHashParseError {
    /// Not four `$`-separated fields.
    Shape,
    UnknownAlgorithm(String),
    BadIterations(String),
    BadBase64,
    BadLengths,
}

impl fmt::Display for PasswordHashParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordHashParseError::Shape => {
                f.write_str("a password hash is algorithm$iterations$salt$key")
            }
            PasswordHashParseError::UnknownAlgorithm(a) => {
                write!(f, "unknown password hash algorithm {a:?}")
            }
            PasswordHashParseError::BadIterations(i) => {
                write!(f, "bad password hash iteration count {i:?}")
            }
            PasswordHashParseError::BadBase64 => f.write_str("password hash: bad base64"),
            PasswordHashParseError::BadLengths => {
                f.write_str("password hash: wrong salt or key length")
            }
        }
    }
}

impl std::error::Error for PasswordHashParseError {}

impl PasswordHash {
    /// Hashes `password` at the default cost with a fresh random salt.
    pub fn new(password: &str) -> Result<PasswordHash, HashError> {
        PasswordHash::with_iterations(password, DEFAULT_ITERATIONS)
    }

    /// Hashes at another cost (tests use a cheap one).
    pub fn with_iterations(password: &str, iterations: u32) -> Result<PasswordHash, HashError> {
        let mut salt = vec![0u8; SALT_LEN];
        openssl::rand::rand_bytes(&mut salt).map_err(HashError)?;
        let key = derive(password, &salt, iterations, KEY_LEN).map_err(HashError)?;
        Ok(PasswordHash {
            iterations,
            salt,
            key,
        })
    }

    /// A cheap hash for unit tests elsewhere in this module.
    #[cfg(test)]
    pub(crate) fn for_tests(password: &str) -> PasswordHash {
        PasswordHash::with_iterations(password, 2).expect("hash")
    }

    /// True when `password` is the one hashed: the key is derived again
    /// with this hash's own salt and count, and compared in constant time.
    pub fn verify(&self, password: &str) -> bool {
        match derive(password, &self.salt, self.iterations, self.key.len()) {
            Ok(key) => constant_time_eq(&key, &self.key),
            Err(_) => false,
        }
    }

    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    pub fn parse(text: &str) -> Result<PasswordHash, PasswordHashParseError> {
        let fields: Vec<&str> = text.split('$').collect();
        let [algorithm, iterations, salt, key] = fields[..] else {
            return Err(PasswordHashParseError::Shape);
        };
        if algorithm != ALGORITHM {
            return Err(PasswordHashParseError::UnknownAlgorithm(algorithm.into()));
        }
        let iterations = iterations
            .parse::<u32>()
            .ok()
            .filter(|i| (MIN_ITERATIONS..=MAX_ITERATIONS).contains(i))
            .ok_or_else(|| PasswordHashParseError::BadIterations(iterations.into()))?;
        let decode = |s: &str| {
            openssl::base64::decode_block(s).map_err(|_| PasswordHashParseError::BadBase64)
        };
        let (salt, key) = (decode(salt)?, decode(key)?);
        if salt.len() != SALT_LEN || key.len() != KEY_LEN {
            return Err(PasswordHashParseError::BadLengths);
        }
        Ok(PasswordHash {
            iterations,
            salt,
            key,
        })
    }
}

fn derive(
    password: &str,
    salt: &[u8],
    iterations: u32,
    len: usize,
) -> Result<Vec<u8>, openssl::error::ErrorStack> {
    let mut key = vec![0u8; len];
    pbkdf2_hmac(
        password.as_bytes(),
        salt,
        iterations as usize,
        MessageDigest::sha256(),
        &mut key,
    )?;
    Ok(key)
}

/// Equal bytes, compared in time that depends only on the length (which
/// is no secret: every derived key has the same). `memcmp::eq` itself
/// panics on different lengths, so those are told apart first.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && openssl::memcmp::eq(a, b)
}

impl fmt::Display for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{ALGORITHM}${}${}${}",
            self.iterations,
            openssl::base64::encode_block(&self.salt),
            openssl::base64::encode_block(&self.key)
        )
    }
}

/// Logs and panics messages never show the key or the salt.
impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PasswordHash({ALGORITHM}, {} iterations)",
            self.iterations
        )
    }
}

impl Serialize for PasswordHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for PasswordHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<PasswordHash, D::Error> {
        let text = String::deserialize(d)?;
        PasswordHash::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_form_names_algorithm_cost_salt_and_key() {
        let h = PasswordHash::with_iterations("secret", 1000).unwrap();
        let text = h.to_string();
        let fields: Vec<&str> = text.split('$').collect();
        assert_eq!(fields.len(), 4);
        assert_eq!(fields[0], "pbkdf2-sha256");
        assert_eq!(fields[1], "1000");
        assert_eq!(openssl::base64::decode_block(fields[2]).unwrap().len(), 16);
        assert_eq!(openssl::base64::decode_block(fields[3]).unwrap().len(), 32);
        assert!(!text.contains("secret"));
        let back = PasswordHash::parse(&text).unwrap();
        assert_eq!(back, h);
        assert!(back.verify("secret"));
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(json, format!("\"{text}\""));
        assert_eq!(serde_json::from_str::<PasswordHash>(&json).unwrap(), h);
    }

    #[test]
    fn new_hashes_use_at_least_100000_iterations_and_verify() {
        const { assert!(DEFAULT_ITERATIONS >= 100_000) };
        let h = PasswordHash::new("pw").unwrap();
        assert_eq!(h.iterations(), DEFAULT_ITERATIONS);
        assert!(h.verify("pw"));
        assert!(!h.verify("pW"));
    }

    #[test]
    fn a_wrong_password_does_not_verify() {
        let h = PasswordHash::with_iterations("right", 1000).unwrap();
        // (PBKDF2's HMAC pads short keys with zero bytes, so "right\0"
        // would match: a property of the standard algorithm, kept.)
        for wrong in ["", "righ", "right ", "Right", "wrong", "rightright"] {
            assert!(!h.verify(wrong), "{wrong:?}");
        }
        assert!(h.verify("right"));
    }

    #[test]
    fn every_hash_gets_its_own_salt() {
        let a = PasswordHash::with_iterations("same", 1000).unwrap();
        let b = PasswordHash::with_iterations("same", 1000).unwrap();
        assert_ne!(a, b);
        assert_ne!(a.salt, b.salt);
        assert!(a.verify("same") && b.verify("same"));
    }

    #[test]
    fn a_hash_verifies_with_its_own_count_after_the_default_changes() {
        // An old hash at a lower cost keeps working: the count is in it.
        let old = PasswordHash::with_iterations("pw", 5000).unwrap();
        let text = old.to_string();
        assert!(PasswordHash::parse(&text).unwrap().verify("pw"));
    }

    #[test]
    fn the_comparison_is_constant_time_and_length_checked() {
        // What `verify` compares with; memcmp::eq would panic on lengths.
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"abcd", b"abc"));
        // A hash whose key was cut short never matches and never panics.
        let mut h = PasswordHash::with_iterations("pw", 10).unwrap();
        h.key.truncate(8);
        let full = derive("pw", &h.salt, 10, KEY_LEN).unwrap();
        assert!(!constant_time_eq(&full, &h.key));
    }

    #[test]
    fn damaged_text_is_refused() {
        let good = PasswordHash::with_iterations("pw", 10).unwrap().to_string();
        let f: Vec<&str> = good.split('$').collect();
        let cases = [
            ("", PasswordHashParseError::Shape),
            ("a$b$c", PasswordHashParseError::Shape),
            (
                &format!("bcrypt$10${}${}", f[2], f[3]),
                PasswordHashParseError::UnknownAlgorithm("bcrypt".into()),
            ),
            (
                &format!("pbkdf2-sha256$0${}${}", f[2], f[3]),
                PasswordHashParseError::BadIterations("0".into()),
            ),
            (
                &format!("pbkdf2-sha256$99999999999${}${}", f[2], f[3]),
                PasswordHashParseError::BadIterations("99999999999".into()),
            ),
            (
                &format!("pbkdf2-sha256$10$!!!${}", f[3]),
                PasswordHashParseError::BadBase64,
            ),
            (
                &format!("pbkdf2-sha256$10${}${}", f[3], f[2]),
                PasswordHashParseError::BadLengths,
            ),
        ];
        for (text, error) in cases {
            assert_eq!(PasswordHash::parse(text), Err(error), "{text:?}");
        }
    }

    #[test]
    fn debug_output_shows_no_key_material() {
        let h = PasswordHash::with_iterations("pw", 10).unwrap();
        let shown = format!("{h:?}");
        assert_eq!(shown, "PasswordHash(pbkdf2-sha256, 10 iterations)");
    }
}

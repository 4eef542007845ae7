//! The `Authorization` header as etcd 2.x reads it (Go's `BasicAuth`):
//! `Basic <base64 of user:password>`, the scheme in any letter case, the
//! user name up to the first colon. An absent or empty header means no
//! credentials (the guest); anything else that does not read is refused,
//! never taken for the guest.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    None,
    Basic { user: String, password: String },
    Malformed,
}

/// Never prints the password.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::Basic { user, .. } => write!(f, "Basic({user})"),
            Credentials::Malformed => f.write_str("Malformed"),
        }
    }
}

pub fn parse_authorization(header: Option<&str>) -> Credentials {
    let Some(value) = header.filter(|v| !v.is_empty()) else {
        return Credentials::None;
    };
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Credentials::Malformed;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Credentials::Malformed;
    }
    // OpenSSL's decoder skips surrounding blanks but wants whole quads;
    // Go's rejects anything else, and so do we.
    let encoded = encoded.trim();
    if encoded.is_empty()
        || encoded.len() % 4 != 0
        || !encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    {
        return Credentials::Malformed;
    }
    let Ok(bytes) = openssl::base64::decode_block(encoded) else {
        return Credentials::Malformed;
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return Credentials::Malformed;
    };
    match text.split_once(':') {
        Some((user, password)) => Credentials::Basic {
            user: user.to_string(),
            password: password.to_string(),
        },
        None => Credentials::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user: &str, password: &str) -> Credentials {
        Credentials::Basic {
            user: user.into(),
            password: password.into(),
        }
    }

    fn header(plain: &str) -> String {
        format!("Basic {}", openssl::base64::encode_block(plain.as_bytes()))
    }

    #[test]
    fn basic_credentials_are_read() {
        assert_eq!(
            parse_authorization(Some(&header("root:pw"))),
            basic("root", "pw")
        );
        assert_eq!(
            parse_authorization(Some(&header("u:pass:with:colons"))),
            basic("u", "pass:with:colons")
        );
        assert_eq!(parse_authorization(Some(&header("u:"))), basic("u", ""));
        assert_eq!(parse_authorization(Some(&header(":pw"))), basic("", "pw"));
        let lower = header("a:b").replacen("Basic", "basic", 1);
        assert_eq!(parse_authorization(Some(&lower)), basic("a", "b"));
        assert_eq!(
            parse_authorization(Some(&header("ünï:cødé"))),
            basic("ünï", "cødé")
        );
    }

    #[test]
    fn no_header_is_the_guest_and_a_bad_one_is_refused() {
        assert_eq!(parse_authorization(None), Credentials::None);
        assert_eq!(parse_authorization(Some("")), Credentials::None);
        for bad in [
            "Basic",
            "Basic ",
            "Bearer abc",
            "Basic !!!!",
            "Basic YWJj", // "abc": no colon
            "Basic YWJ",  // not whole quads
            "Basic /w==", // not UTF-8
            "Digest username=x",
        ] {
            assert_eq!(
                parse_authorization(Some(bad)),
                Credentials::Malformed,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn debug_output_hides_the_password() {
        assert_eq!(format!("{:?}", basic("bob", "secret")), "Basic(bob)");
    }
}

//! Request parameters as etcd 0.4 reads them: the query string, plus a
//! form-encoded body on PUT and POST (body first when a name appears in
//! both; the first occurrence of a repeated name wins).

use crate::httpd::{Request, parse_form};
use crate::store::{ErrorCode, EtcdError};

pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// `index` is the store index to put in a parse error.
    pub fn from_request(req: &Request, index: u64) -> Result<Params, EtcdError> {
        let invalid = |what: &str| EtcdError::new(ErrorCode::InvalidField, what.to_string(), index);
        let mut pairs = Vec::new();
        let takes_body = matches!(req.method.as_str(), "PUT" | "POST");
        if takes_body && is_form(req.header("content-type")) {
            pairs = parse_form(&req.body).map_err(|_| invalid("invalid form body"))?;
        }
        let query =
            parse_form(req.query.as_bytes()).map_err(|_| invalid("invalid query string"))?;
        pairs.extend(query);
        Ok(Params { pairs })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// A boolean parameter: `true`/`false` in any letter case; absent or
    /// empty is false; any other word is 209 naming the parameter.
    pub fn flag(&self, name: &str, index: u64) -> Result<bool, EtcdError> {
        match self.get(name) {
            None | Some("") => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(_) => Err(EtcdError::new(ErrorCode::InvalidField, name, index)),
        }
    }

    /// `prevExist`: None when absent, else its boolean value.
    pub fn optional_flag(&self, name: &str, index: u64) -> Result<Option<bool>, EtcdError> {
        if self.has(name) {
            self.flag(name, index).map(Some)
        } else {
            Ok(None)
        }
    }

    /// `ttl`: absent or empty → None; not a non-negative integer → 202.
    pub fn ttl(&self, cause: &str, index: u64) -> Result<Option<i64>, EtcdError> {
        match self.get("ttl") {
            None | Some("") => Ok(None),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if n >= 0 => Ok(Some(n)),
                _ => Err(EtcdError::new(ErrorCode::TtlNaN, cause, index)),
            },
        }
    }

    /// An unsigned index (`prevIndex`, `waitIndex`): present but not a number
    /// → 203 with `cause`.
    pub fn index(&self, name: &str, cause: &str, index: u64) -> Result<Option<u64>, EtcdError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .parse::<u64>()
                .map(Some)
                .map_err(|_| EtcdError::new(ErrorCode::IndexNaN, cause, index)),
        }
    }
}

/// `application/x-www-form-urlencoded`, media-type parameters allowed.
fn is_form(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|mt| {
            mt.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, query: &str, body: &str, form: bool) -> Request {
        let mut headers = Vec::new();
        if form {
            headers.push((
                "Content-Type".to_string(),
                "application/x-www-form-urlencoded; charset=utf-8".to_string(),
            ));
        }
        Request::new(
            method,
            &format!("/v2/keys/x?{query}"),
            headers,
            body.as_bytes().to_vec(),
        )
    }

    #[test]
    fn body_wins_over_query_and_first_occurrence_wins() {
        let p = Params::from_request(&request("PUT", "value=q&ttl=5", "value=b&value=c", true), 0)
            .unwrap();
        assert_eq!(p.get("value"), Some("b"));
        assert_eq!(p.get("ttl"), Some("5"));
    }

    #[test]
    fn get_and_delete_bodies_are_ignored() {
        let p = Params::from_request(&request("DELETE", "", "recursive=true", true), 0).unwrap();
        assert!(!p.has("recursive"));
    }

    #[test]
    fn non_form_bodies_are_ignored() {
        let p = Params::from_request(&request("PUT", "", "value=b", false), 0).unwrap();
        assert!(!p.has("value"));
    }

    #[test]
    fn booleans_are_case_insensitive_and_other_words_are_209() {
        let p =
            Params::from_request(&request("GET", "a=TRUE&b=False&c=yes&d=", "", false), 7).unwrap();
        assert_eq!(p.flag("a", 7), Ok(true));
        assert_eq!(p.flag("b", 7), Ok(false));
        assert_eq!(p.flag("d", 7), Ok(false));
        assert_eq!(p.flag("missing", 7), Ok(false));
        let err = p.flag("c", 7).unwrap_err();
        assert_eq!(
            (err.code, err.cause.as_str(), err.index),
            (ErrorCode::InvalidField, "c", 7)
        );
    }

    #[test]
    fn ttl_rules() {
        let p = |q: &str| Params::from_request(&request("PUT", q, "", false), 3).unwrap();
        assert_eq!(p("ttl=5").ttl("Update", 3), Ok(Some(5)));
        assert_eq!(p("ttl=").ttl("Update", 3), Ok(None));
        assert_eq!(p("").ttl("Update", 3), Ok(None));
        for bad in ["ttl=abc", "ttl=1.5", "ttl=-5"] {
            let err = p(bad).ttl("Update", 3).unwrap_err();
            assert_eq!(
                (err.code, err.cause.as_str()),
                (ErrorCode::TtlNaN, "Update")
            );
        }
    }

    #[test]
    fn malformed_form_is_an_error() {
        assert!(Params::from_request(&request("PUT", "", "value=%zz", true), 0).is_err());
        assert!(Params::from_request(&request("GET", "value=%FF%FE", "", false), 0).is_err());
    }
}

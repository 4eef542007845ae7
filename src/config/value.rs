//! Turning the text of a flag or environment variable into a typed value.
//! Each parser returns, on failure, what it expected, so the caller can name
//! the flag or variable in the error.

/// What a parser wanted instead of the text it got.
pub(crate) type Expected = &'static str;

/// How booleans are spelled: flags follow Go's `strconv.ParseBool` (as etcd
/// 0.4's flag package did); environment variables accept only true/false/1/0.
pub(crate) type SwitchParser = fn(&str) -> Result<bool, Expected>;

pub(crate) fn switch_from_flag(text: &str) -> Result<bool, Expected> {
    match text {
        "1" | "t" | "T" => Ok(true),
        "0" | "f" | "F" => Ok(false),
        _ if text.eq_ignore_ascii_case("true") => Ok(true),
        _ if text.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err("expected true or false"),
    }
}

/// Strict on purpose: 0.4.6 took `ETCD_VERBOSE=False` or `=no` as *true*.
pub(crate) fn switch_from_env(text: &str) -> Result<bool, Expected> {
    match text.trim() {
        "1" => Ok(true),
        "0" => Ok(false),
        t if t.eq_ignore_ascii_case("true") => Ok(true),
        t if t.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err("expected true, false, 1 or 0"),
    }
}

pub(crate) fn count(text: &str) -> Result<u64, Expected> {
    text.trim()
        .parse()
        .map_err(|_| "expected a whole number of at least 0")
}

pub(crate) fn small_count(text: &str) -> Result<u32, Expected> {
    text.trim()
        .parse()
        .map_err(|_| "expected a whole number between 0 and 4294967295")
}

/// Seconds may be fractional (`0.5`); infinity and NaN are refused here so
/// no later arithmetic has to think about them.
pub(crate) fn seconds(text: &str) -> Result<f64, Expected> {
    match text.trim().parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        _ => Err("expected a number of seconds"),
    }
}

/// A comma-separated list; items are trimmed and empty items dropped, so
/// `a, b,` means `[a, b]` and the empty string means an empty list.
pub(crate) fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_booleans_take_go_spellings() {
        for yes in ["1", "t", "T", "true", "TRUE", "True"] {
            assert_eq!(switch_from_flag(yes), Ok(true), "{yes}");
        }
        for no in ["0", "f", "F", "false", "FALSE", "False"] {
            assert_eq!(switch_from_flag(no), Ok(false), "{no}");
        }
        assert!(switch_from_flag("yes").is_err());
        assert!(switch_from_flag("").is_err());
    }

    #[test]
    fn env_booleans_are_strict_and_case_insensitive() {
        assert_eq!(switch_from_env("TrUe"), Ok(true));
        assert_eq!(switch_from_env("1"), Ok(true));
        assert_eq!(switch_from_env("FALSE"), Ok(false));
        assert_eq!(switch_from_env("0"), Ok(false));
        for bad in ["no", "yes", "t", "2", "off"] {
            assert!(switch_from_env(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_refuse_junk_negatives_and_infinity() {
        assert_eq!(count("10000"), Ok(10000));
        assert!(count("abc").is_err());
        assert!(count("-1").is_err());
        assert!(small_count("4294967296").is_err());
        assert_eq!(seconds("0.5"), Ok(0.5));
        assert_eq!(seconds("10"), Ok(10.0));
        assert!(seconds("inf").is_err());
        assert!(seconds("NaN").is_err());
    }

    #[test]
    fn lists_are_trimmed_and_skip_empty_items() {
        assert_eq!(list(" a:1, b:2 ,,"), vec!["a:1", "b:2"]);
        assert!(list("").is_empty());
    }
}

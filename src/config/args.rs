//! The command line, read the way etcd 0.4's Go `flag` package read it:
//! one or two dashes, `-flag value` or `-flag=value`, booleans set by their
//! bare name and cleared only with `=false`, parsing stops at the first
//! argument that is not a flag, and the last occurrence of a flag wins.

use getopts::{Fail, HasArg, Occur, Options, ParsingStyle};

use super::error::ConfigError;
use super::layer::Layer;
use super::setting::{DEPRECATED, FLAGS, FlagSpec, flag_named};
use super::value::switch_from_flag;

/// What the command line said, plus warnings for the operator.
#[derive(Debug, Default)]
pub(crate) struct CommandLine {
    pub layer: Layer,
    pub warnings: Vec<String>,
}

/// One way of writing a flag on the command line.
struct Spelling {
    text: &'static str,
    spec: &'static FlagSpec,
    /// Set when this spelling is an old one that earns a warning.
    replaced_by: Option<&'static str>,
}

fn all_spellings() -> Vec<Spelling> {
    let current = FLAGS.iter().flat_map(|spec| {
        std::iter::once(spec.name)
            .chain(spec.also.iter().copied())
            .map(move |text| Spelling {
                text,
                spec,
                replaced_by: None,
            })
    });
    let old = DEPRECATED.iter().filter_map(|old| {
        flag_named(old.new).map(|spec| Spelling {
            text: old.old,
            spec,
            replaced_by: Some(old.new),
        })
    });
    current.chain(old).collect()
}

fn getopts_options(spellings: &[Spelling]) -> Options {
    let mut options = Options::new();
    options
        .long_only(true)
        // Go's flag package stops at the first non-flag argument.
        .parsing_style(ParsingStyle::StopAtFirstFree);
    for spelling in spellings {
        // getopts keeps one-letter names apart as "short" names; with
        // long_only they are still written with a single dash.
        let (short, long) = if spelling.text.chars().count() == 1 {
            (spelling.text, "")
        } else {
            ("", spelling.text)
        };
        // Booleans take their value only after `=`, hence "maybe".
        let has_arg = if spelling.spec.setting.is_switch() {
            HasArg::Maybe
        } else {
            HasArg::Yes
        };
        options.opt(short, long, "", "", has_arg, Occur::Multi);
    }
    options
}

fn describe_failure(failure: Fail) -> ConfigError {
    match failure {
        Fail::UnrecognizedOption(name) => {
            ConfigError(format!("flag provided but not defined: -{name}"))
        }
        Fail::ArgumentMissing(name) => ConfigError(format!("flag needs an argument: -{name}")),
        other => ConfigError(other.to_string()),
    }
}

/// Read the command line (without the program name).
pub(crate) fn parse(args: &[String]) -> Result<CommandLine, ConfigError> {
    let spellings = all_spellings();
    let matches = getopts_options(&spellings)
        .parse(args)
        .map_err(describe_failure)?;

    // (position on the command line, spelling, value written after it)
    let mut uses: Vec<(usize, &Spelling, Option<String>)> = Vec::new();
    for spelling in &spellings {
        let values = matches.opt_strs_pos(spelling.text);
        for position in matches.opt_positions(spelling.text) {
            let value = values
                .iter()
                .find(|(at, _)| *at == position)
                .map(|(_, text)| text.clone());
            uses.push((position, spelling, value));
        }
    }
    uses.sort_by_key(|(position, _, _)| *position);

    let mut line = CommandLine::default();
    for (_, spelling, value) in uses {
        apply(&mut line, spelling, value)?;
    }
    if let Some(first) = matches.free.first() {
        line.warnings.push(format!(
            "ignored the argument {first:?} and every argument after it: flags end at the \
             first argument that is not a flag (a boolean is cleared with -flag=false)"
        ));
    }
    Ok(line)
}

fn apply(
    line: &mut CommandLine,
    spelling: &Spelling,
    value: Option<String>,
) -> Result<(), ConfigError> {
    let setting = spelling.spec.setting;
    let text = match value {
        Some(text) => text,
        None if setting.is_switch() => "true".to_owned(),
        None => {
            return Err(ConfigError(format!(
                "flag needs an argument: -{}",
                spelling.text
            )));
        }
    };
    line.layer
        .set_text(setting, &text, switch_from_flag)
        .map_err(|expected| {
            ConfigError(format!(
                "invalid value {text:?} for flag -{}: {expected}",
                spelling.text
            ))
        })?;
    if let Some(new) = spelling.replaced_by {
        let warning = format!("[deprecated] use -{new}, not -{}", spelling.text);
        if !line.warnings.contains(&warning) {
            line.warnings.push(warning);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn parse_words(words: &[&str]) -> Result<CommandLine, ConfigError> {
        let args: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        parse(&args)
    }

    fn layer(words: &[&str]) -> Layer {
        match parse_words(words) {
            Ok(line) => line.layer,
            Err(error) => panic!("{words:?}: {error}"),
        }
    }

    #[test]
    fn a_value_follows_after_a_space_or_an_equals_sign_with_one_or_two_dashes() {
        for words in [
            &["-name", "x"][..],
            &["-name=x"],
            &["--name", "x"],
            &["--name=x"],
        ] {
            assert_eq!(layer(words).name.as_deref(), Some("x"), "{words:?}");
        }
    }

    #[test]
    fn a_bare_boolean_is_true_and_equals_sets_it_either_way() {
        assert_eq!(layer(&["-snapshot"]).snapshot, Some(true));
        assert_eq!(layer(&["-snapshot=false"]).snapshot, Some(false));
        assert_eq!(layer(&["--snapshot=true"]).snapshot, Some(true));
        assert_eq!(layer(&["-f"]).force, Some(true));
        assert_eq!(layer(&["-force=0"]).force, Some(false));
    }

    #[test]
    fn a_boolean_never_takes_the_next_word_and_parsing_stops_there_with_a_warning() {
        let line = match parse_words(&["-snapshot", "false", "-name", "x"]) {
            Ok(line) => line,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(line.layer.snapshot, Some(true));
        assert_eq!(line.layer.name, None);
        assert!(
            line.warnings[0].contains("\"false\""),
            "{:?}",
            line.warnings
        );
    }

    #[test]
    fn the_last_occurrence_wins_even_across_old_and_new_spellings() {
        assert_eq!(layer(&["-name", "a", "-n", "b"]).name.as_deref(), Some("b"));
        assert_eq!(layer(&["-n", "b", "-name", "a"]).name.as_deref(), Some("a"));
    }

    #[test]
    fn value_flags_take_the_next_word_even_if_it_starts_with_a_dash() {
        assert_eq!(layer(&["-name", "-x"]).name.as_deref(), Some("-x"));
    }

    #[test]
    fn an_unknown_flag_is_named_in_the_error() {
        let error = parse_words(&["-bogus"]).err();
        assert_eq!(
            error,
            Some(ConfigError("flag provided but not defined: -bogus".into()))
        );
        let error = parse_words(&["--bogus=1"]).err();
        assert_eq!(
            error,
            Some(ConfigError("flag provided but not defined: -bogus".into()))
        );
    }

    #[test]
    fn a_malformed_value_names_the_value_and_the_flag() {
        let error = parse_words(&["-snapshot-count=abc"]).err().map(|e| e.0);
        let message = error.unwrap_or_default();
        assert!(
            message.starts_with("invalid value \"abc\" for flag -snapshot-count"),
            "{message}"
        );
        let message = parse_words(&["-snapshot=maybe"]).err().map(|e| e.0);
        assert!(
            message
                .unwrap_or_default()
                .starts_with("invalid value \"maybe\" for flag -snapshot")
        );
    }

    #[test]
    fn a_value_flag_at_the_end_without_its_value_is_an_error() {
        let error = parse_words(&["-name"]).err();
        assert_eq!(
            error,
            Some(ConfigError("flag needs an argument: -name".into()))
        );
    }

    #[test]
    fn deprecated_spellings_work_and_warn_once() {
        let line = match parse_words(&["-C", "a:1", "-d", "dir", "-C", "b:2"]) {
            Ok(line) => line,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(line.layer.peers, Some(vec!["b:2".to_string()]));
        assert_eq!(line.layer.data_dir, Some(PathBuf::from("dir")));
        assert_eq!(
            line.warnings,
            vec![
                "[deprecated] use -peers, not -C".to_string(),
                "[deprecated] use -data-dir, not -d".to_string(),
            ]
        );
    }

    #[test]
    fn every_deprecated_spelling_sets_its_new_flag() {
        for old in DEPRECATED {
            let Some(spec) = flag_named(old.new) else {
                panic!("{}", old.new)
            };
            let value = if spec.setting.is_switch() {
                "true"
            } else {
                "7"
            };
            let mut expected = Layer::default();
            assert!(
                expected
                    .set_text(spec.setting, value, switch_from_flag)
                    .is_ok()
            );
            let flag = format!("-{}={value}", old.old);
            assert_eq!(layer(&[&flag]), expected, "{flag}");
        }
    }

    #[test]
    fn short_current_spellings_are_accepted() {
        assert_eq!(layer(&["-h"]).help, Some(true));
        assert_eq!(layer(&["-help"]).help, Some(true));
        assert_eq!(layer(&["-version"]).version, Some(true));
        assert_eq!(layer(&["-v"]).verbose, Some(true));
        assert_eq!(layer(&["-vv"]).very_verbose, Some(true));
        assert_eq!(layer(&["-vvv"]).very_very_verbose, Some(true));
    }
}

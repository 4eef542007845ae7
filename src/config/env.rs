//! `ETCD_*` environment variables. Every flag that has a variable is read
//! through the setting table, so aliases (0.4.6's `ETCD_SNAPSHOTCOUNT`, the
//! names 0.4's docs printed) come for free. Blank values mean "not set";
//! nothing a variable holds can make loading panic.

use super::error::ConfigError;
use super::layer::Layer;
use super::setting::FLAGS;
use super::value::switch_from_env;

/// The value of `name`, unless absent or blank. If a name appears twice, the
/// later pair wins, as a later `export` would.
fn lookup<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
    env.iter()
        .rev()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// Read every known variable; the first name listed for a setting wins over
/// its aliases.
pub(crate) fn read(env: &[(String, String)]) -> Result<Layer, ConfigError> {
    let mut layer = Layer::default();
    for spec in FLAGS {
        let found = spec
            .env
            .iter()
            .find_map(|name| lookup(env, name).map(|value| (*name, value)));
        if let Some((name, value)) = found {
            layer
                .set_text(spec.setting, value, switch_from_env)
                .map_err(|expected| {
                    ConfigError(format!("invalid value {value:?} in {name}: {expected}"))
                })?;
        }
    }
    Ok(layer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::setting::Setting;
    use crate::config::value::switch_from_flag;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn read_ok(pairs: &[(&str, &str)]) -> Layer {
        match read(&env(pairs)) {
            Ok(layer) => layer,
            Err(error) => panic!("{pairs:?}: {error}"),
        }
    }

    #[test]
    fn every_variable_name_sets_its_flag() {
        for spec in FLAGS {
            for name in spec.env {
                let value = match spec.setting {
                    Setting::Snapshot
                    | Setting::Verbose
                    | Setting::VeryVerbose
                    | Setting::VeryVeryVerbose => "true",
                    _ => "7",
                };
                let mut expected = Layer::default();
                assert!(
                    expected
                        .set_text(spec.setting, value, switch_from_flag)
                        .is_ok()
                );
                assert_eq!(read_ok(&[(name, value)]), expected, "{name}");
            }
        }
    }

    #[test]
    fn regular_names_are_dashes_as_underscores() {
        let layer = read_ok(&[
            ("ETCD_PEER_ADDR", "10.0.0.1:7001"),
            ("ETCD_DATA_DIR", "/var/lib/etcd"),
            ("ETCD_PEER_HEARTBEAT_INTERVAL", "60"),
        ]);
        assert_eq!(layer.peer_addr.as_deref(), Some("10.0.0.1:7001"));
        assert_eq!(layer.data_dir, Some("/var/lib/etcd".into()));
        assert_eq!(layer.heartbeat_interval, Some(60));
    }

    #[test]
    fn snapshotcount_without_underscore_is_accepted_and_the_regular_name_wins() {
        assert_eq!(
            read_ok(&[("ETCD_SNAPSHOTCOUNT", "5")]).snapshot_count,
            Some(5)
        );
        assert_eq!(
            read_ok(&[("ETCD_SNAPSHOT_COUNT", "6")]).snapshot_count,
            Some(6)
        );
        let both = read_ok(&[("ETCD_SNAPSHOTCOUNT", "5"), ("ETCD_SNAPSHOT_COUNT", "6")]);
        assert_eq!(both.snapshot_count, Some(6));
    }

    #[test]
    fn cors_and_peers_are_comma_lists() {
        let layer = read_ok(&[("ETCD_CORS", "http://a, *"), ("ETCD_PEERS", "a:1,b:2")]);
        assert_eq!(layer.cors, Some(vec!["http://a".into(), "*".into()]));
        assert_eq!(layer.peers, Some(vec!["a:1".into(), "b:2".into()]));
    }

    #[test]
    fn blank_values_are_ignored() {
        assert_eq!(
            read_ok(&[("ETCD_NAME", ""), ("ETCD_SNAPSHOT_COUNT", "  ")]),
            Layer::default()
        );
    }

    #[test]
    fn booleans_are_strict_and_the_error_names_the_variable() {
        assert_eq!(read_ok(&[("ETCD_SNAPSHOT", "FALSE")]).snapshot, Some(false));
        assert_eq!(read_ok(&[("ETCD_VERBOSE", "1")]).verbose, Some(true));
        let error = read(&env(&[("ETCD_VERBOSE", "False-ish")])).err();
        let message = error.map(|e| e.0).unwrap_or_default();
        assert!(message.contains("ETCD_VERBOSE"), "{message}");
        assert!(message.contains("False-ish"), "{message}");
    }

    #[test]
    fn a_bad_number_names_the_variable() {
        let error = read(&env(&[("ETCD_SNAPSHOTCOUNT", "lots")])).err();
        let message = error.map(|e| e.0).unwrap_or_default();
        assert!(
            message.starts_with("invalid value \"lots\" in ETCD_SNAPSHOTCOUNT"),
            "{message}"
        );
    }

    #[test]
    fn trace_is_accepted_without_harm() {
        assert_eq!(read_ok(&[("ETCD_TRACE", "*")]).trace.as_deref(), Some("*"));
    }

    #[test]
    fn unrelated_and_odd_variables_never_fail() {
        let odd = "\u{0}\u{7f}ÿ".repeat(1000);
        assert_eq!(
            read_ok(&[("PATH", "/bin"), ("ETCD_UNKNOWN", "x"), ("ETCD_NAME", &odd)]).name,
            Some(odd)
        );
    }
}

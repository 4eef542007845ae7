//! The cluster-wide settings of etcd 0.4: how many members may vote
//! (`activeSize`; the rest wait as standbys), how long a member may stay
//! unreachable before the leader removes it (`removeDelay`), and how often a
//! standby looks at the cluster (`syncInterval`). The flags only seed them
//! when a machine starts a new cluster; afterwards `PUT /v2/admin/config`
//! changes them through the log.
//!
//! Owns the minimums, the JSON shape (`{"activeSize":9,"removeDelay":1800,
//! "syncInterval":5}`, numbers printed as Go prints them) and the checking
//! of a `PUT` body. Never stores anything: the state thread keeps the value.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const DEFAULT_ACTIVE_SIZE: u32 = 9;
pub const DEFAULT_REMOVE_DELAY_S: f64 = 1800.0;
pub const DEFAULT_SYNC_INTERVAL_S: f64 = 5.0;
pub const MIN_ACTIVE_SIZE: u32 = 3;
pub const MIN_REMOVE_DELAY_S: f64 = 2.0;
pub const MIN_SYNC_INTERVAL_S: f64 = 1.0;
/// Longer delays or intervals than this (about 31 years) are refused: they
/// are mistakes, and they would overflow the millisecond arithmetic.
const MAX_SECONDS: f64 = 1e9;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClusterConfig {
    #[serde(rename = "activeSize")]
    pub active_size: u32,
    /// Seconds.
    #[serde(rename = "removeDelay")]
    pub remove_delay: f64,
    /// Seconds.
    #[serde(rename = "syncInterval")]
    pub sync_interval: f64,
}

impl Default for ClusterConfig {
    fn default() -> ClusterConfig {
        ClusterConfig {
            active_size: DEFAULT_ACTIVE_SIZE,
            remove_delay: DEFAULT_REMOVE_DELAY_S,
            sync_interval: DEFAULT_SYNC_INTERVAL_S,
        }
    }
}

/// Why a `PUT /v2/admin/config` body was refused; the text is the reason
/// given to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigPatchError(pub String);

impl std::fmt::Display for ConfigPatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl ClusterConfig {
    /// Values below the minimums raised to them (as 0.4 does, silently).
    pub fn raised(self) -> ClusterConfig {
        ClusterConfig {
            active_size: self.active_size.max(MIN_ACTIVE_SIZE),
            remove_delay: at_least(self.remove_delay, MIN_REMOVE_DELAY_S),
            sync_interval: at_least(self.sync_interval, MIN_SYNC_INTERVAL_S),
        }
    }

    pub fn remove_delay(&self) -> Duration {
        Duration::from_secs_f64(self.remove_delay.clamp(0.0, MAX_SECONDS))
    }

    pub fn sync_interval(&self) -> Duration {
        Duration::from_secs_f64(self.sync_interval.clamp(0.0, MAX_SECONDS))
    }

    /// The JSON 0.4 answers and stores at `/_etcd/config`, members in its order.
    pub fn to_json(&self) -> String {
        format!(
            "{{\"activeSize\":{},\"removeDelay\":{},\"syncInterval\":{}}}",
            self.active_size,
            go_number(self.remove_delay),
            go_number(self.sync_interval)
        )
    }

    /// This configuration changed by the fields `patch` names, then raised
    /// to the minimums.
    pub fn with(&self, patch: &ConfigPatch) -> ClusterConfig {
        ClusterConfig {
            active_size: patch.active_size.unwrap_or(self.active_size),
            remove_delay: patch.remove_delay.unwrap_or(self.remove_delay),
            sync_interval: patch.sync_interval.unwrap_or(self.sync_interval),
        }
        .raised()
    }

    /// Shorthand for `with(&ConfigPatch::parse(body)?)`.
    pub fn patched(&self, body: &[u8]) -> Result<ClusterConfig, ConfigPatchError> {
        Ok(self.with(&ConfigPatch::parse(body)?))
    }
}

/// The fields of a `PUT /v2/admin/config` body; absent ones keep their value.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ConfigPatch {
    pub active_size: Option<u32>,
    pub remove_delay: Option<f64>,
    pub sync_interval: Option<f64>,
}

impl ConfigPatch {
    /// A JSON object with any of `activeSize`, `removeDelay`, `syncInterval`
    /// (numbers); anything else is refused with the reason.
    pub fn parse(body: &[u8]) -> Result<ConfigPatch, ConfigPatchError> {
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            ConfigPatchError(format!(
                "the body is not JSON ({e}); expected an object such as {{\"activeSize\":5}}"
            ))
        })?;
        let Value::Object(fields) = value else {
            return Err(ConfigPatchError(
                "the body must be a JSON object such as {\"activeSize\":5}".into(),
            ));
        };
        let mut patch = ConfigPatch::default();
        for (name, value) in &fields {
            match name.as_str() {
                "activeSize" => patch.active_size = Some(whole_number(name, value)?),
                "removeDelay" => patch.remove_delay = Some(seconds(name, value)?),
                "syncInterval" => patch.sync_interval = Some(seconds(name, value)?),
                other => {
                    return Err(ConfigPatchError(format!(
                        "unknown field {other:?}; the fields are activeSize, removeDelay and syncInterval"
                    )));
                }
            }
        }
        Ok(patch)
    }
}

fn at_least(value: f64, minimum: f64) -> f64 {
    if value.is_finite() && value >= minimum {
        value
    } else {
        minimum
    }
}

fn number(name: &str, value: &Value) -> Result<f64, ConfigPatchError> {
    value
        .as_f64()
        .filter(|v| v.is_finite())
        .ok_or_else(|| ConfigPatchError(format!("{name} must be a number, not {value}")))
}

fn whole_number(name: &str, value: &Value) -> Result<u32, ConfigPatchError> {
    let v = number(name, value)?;
    if v.fract() != 0.0 {
        return Err(ConfigPatchError(format!(
            "{name} must be a whole number, not {value}"
        )));
    }
    if v > f64::from(u32::MAX) {
        return Err(ConfigPatchError(format!("{name} {value} is too large")));
    }
    // Negative sizes are below the minimum and get raised with the rest.
    Ok(v.max(0.0) as u32)
}

fn seconds(name: &str, value: &Value) -> Result<f64, ConfigPatchError> {
    let v = number(name, value)?;
    if v > MAX_SECONDS {
        return Err(ConfigPatchError(format!(
            "{name} {value} is too large (at most {MAX_SECONDS} seconds)"
        )));
    }
    Ok(v)
}

/// How Go's encoding/json prints a float64 in this range: whole numbers
/// without a fraction (`1800`), others in their shortest form (`2.5`).
fn go_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_print_as_0_4_prints_them() {
        assert_eq!(
            ClusterConfig::default().to_json(),
            r#"{"activeSize":9,"removeDelay":1800,"syncInterval":5}"#
        );
        let c = ClusterConfig {
            active_size: 3,
            remove_delay: 2.5,
            sync_interval: 1.0,
        };
        assert_eq!(
            c.to_json(),
            r#"{"activeSize":3,"removeDelay":2.5,"syncInterval":1}"#
        );
    }

    #[test]
    fn a_patch_changes_only_the_fields_it_names_and_raises_to_the_minimums() {
        let base = ClusterConfig::default();
        let c = base.patched(br#"{"activeSize":5}"#).unwrap();
        assert_eq!(
            (c.active_size, c.remove_delay, c.sync_interval),
            (5, 1800.0, 5.0)
        );
        let c = base
            .patched(br#"{"activeSize":1,"removeDelay":0.5,"syncInterval":-3}"#)
            .unwrap();
        assert_eq!(
            (c.active_size, c.remove_delay, c.sync_interval),
            (3, 2.0, 1.0)
        );
        let c = base.patched(br#"{"activeSize":-7}"#).unwrap();
        assert_eq!(c.active_size, 3);
        assert_eq!(base.patched(b"{}").unwrap(), base);
    }

    #[test]
    fn bad_bodies_are_refused_with_a_reason() {
        let base = ClusterConfig::default();
        for (body, needle) in [
            (&b"activeSize=5"[..], "not JSON"),
            (b"", "not JSON"),
            (b"[1,2]", "JSON object"),
            (br#"{"activeSize":5,"bogus":1}"#, "unknown field \"bogus\""),
            (br#"{"activeSize":"5"}"#, "must be a number"),
            (br#"{"activeSize":3.5}"#, "whole number"),
            (br#"{"activeSize":1e12}"#, "too large"),
            (br#"{"removeDelay":1e300}"#, "too large"),
            (br#"{"syncInterval":null}"#, "must be a number"),
        ] {
            let err = base
                .patched(body)
                .expect_err(&String::from_utf8_lossy(body));
            assert!(err.0.contains(needle), "{body:?}: {err}");
        }
    }

    #[test]
    fn durations_are_seconds() {
        let c = ClusterConfig {
            active_size: 3,
            remove_delay: 2.5,
            sync_interval: 1.0,
        };
        assert_eq!(c.remove_delay(), Duration::from_millis(2500));
        assert_eq!(c.sync_interval(), Duration::from_secs(1));
    }
}

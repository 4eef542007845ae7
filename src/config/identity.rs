//! The member's name and data directory (ruling 14): `-name` if given, else
//! the name recorded in the data directory, else the host name; the data
//! directory defaults to `<name>.etcd`.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::error::ConfigError;
use super::fs::ConfigFs;

/// File inside the data directory that holds the member's name.
pub const NAME_FILE: &str = "name";

/// The name recorded in `data_dir`, if any.
fn recorded_name(fs: &dyn ConfigFs, data_dir: &Path) -> Result<Option<String>, ConfigError> {
    let path = data_dir.join(NAME_FILE);
    match fs.read_to_string(&path) {
        Ok(text) => Ok(Some(text.trim().to_owned()).filter(|name| !name.is_empty())),
        // A new member: nothing recorded yet.
        Err(error) if matches!(error.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
            Ok(None)
        }
        Err(error) => Err(ConfigError(format!(
            "cannot read the member name from {}: {error}",
            path.display()
        ))),
    }
}

/// Decide `(name, data_dir)`. Blank values count as not given.
pub(crate) fn name_and_data_dir(
    name: Option<String>,
    data_dir: Option<PathBuf>,
    fs: &dyn ConfigFs,
    hostname: &str,
    warnings: &mut Vec<String>,
) -> Result<(String, PathBuf), ConfigError> {
    let name = name.filter(|name| !name.trim().is_empty());
    let data_dir = data_dir.filter(|dir| !dir.as_os_str().is_empty());
    let name = match (name, &data_dir) {
        (Some(name), _) => name,
        (None, Some(dir)) => match recorded_name(fs, dir)? {
            Some(recorded) => recorded,
            None => host_name(hostname, warnings)?,
        },
        (None, None) => host_name(hostname, warnings)?,
    };
    let data_dir = data_dir.unwrap_or_else(|| PathBuf::from(format!("{name}.etcd")));
    Ok((name, data_dir))
}

fn host_name(hostname: &str, warnings: &mut Vec<String>) -> Result<String, ConfigError> {
    let hostname = hostname.trim();
    if hostname.is_empty() {
        return Err(ConfigError::new(
            "no -name given and the host name is unknown: set -name",
        ));
    }
    warnings.push(format!("no -name given: using the host name {hostname:?}"));
    Ok(hostname.to_owned())
}

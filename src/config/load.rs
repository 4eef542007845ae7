//! Putting the sources together: defaults < system file < `-config` file <
//! environment < command line, then the peers file, then validation; or,
//! for `-inspect` and `-backup-data-dir`, the tool to run instead.

use std::path::PathBuf;

use super::args;
use super::env;
use super::error::ConfigError;
use super::file;
use super::fs::ConfigFs;
use super::layer::Layer;
use super::resolve::resolve;
use super::startup::Startup;
use super::usage::usage;

/// Where the system-wide file lives; the caller reads it, we only name it in errors.
pub const SYSTEM_CONFIG_PATH: &str = "/etc/etcd/etcd.conf";

/// Load the configuration.
///
/// `args` is the command line without the program name; `env` the process
/// environment; `system_file` the contents of [`SYSTEM_CONFIG_PATH`] if it
/// exists; `fs` reads the `-config` file, the `-peers-file` and the name
/// recorded in the data directory; `hostname` names the member when nothing
/// else does. `-version` and `-help` win only once everything loaded cleanly.
pub fn load(
    args: &[String],
    env: &[(String, String)],
    system_file: Option<&str>,
    fs: &dyn ConfigFs,
    hostname: &str,
) -> Result<Startup, ConfigError> {
    let command_line = args::parse(args)?;
    let environment = env::read(env)?;

    let system = match system_file {
        Some(text) => file::parse(text, SYSTEM_CONFIG_PATH)?,
        None => Layer::default(),
    };
    let config_path: Option<PathBuf> = command_line
        .layer
        .config_file
        .clone()
        .or_else(|| environment.config_file.clone())
        .filter(|path| !path.as_os_str().is_empty());
    let config_file = match config_path {
        Some(path) => {
            let text = fs.read_to_string(&path).map_err(|error| {
                ConfigError(format!(
                    "cannot read -config file {}: {error}",
                    path.display()
                ))
            })?;
            file::parse(&text, &path.display().to_string())?
        }
        None => Layer::default(),
    };

    let merged = system
        .overlay(config_file)
        .overlay(environment)
        .overlay(command_line.layer);
    let show_version = merged.version == Some(true);
    let show_help = merged.help == Some(true);
    if let Some(tool) = tool(&merged)? {
        // A tool reads a data dir named on its own flag and nothing else,
        // so the member settings are not resolved (nor can they fail it).
        return Ok(if show_version {
            Startup::Version
        } else if show_help {
            Startup::Help(usage())
        } else {
            tool
        });
    }
    let config = resolve(merged, fs, hostname, command_line.warnings)?;
    Ok(if show_version {
        Startup::Version
    } else if show_help {
        Startup::Help(usage())
    } else {
        Startup::Run(config)
    })
}

/// `-inspect DIR [-json]` or `-backup-data-dir DIR -backup-file FILE`, if
/// the command line asks for one; mixing them up is an error.
fn tool(layer: &Layer) -> Result<Option<Startup>, ConfigError> {
    let given = |path: &Option<PathBuf>| path.clone().filter(|p| !p.as_os_str().is_empty());
    let inspect = given(&layer.inspect);
    let backup_dir = given(&layer.backup_data_dir);
    let backup_file = given(&layer.backup_file);
    let json = layer.json == Some(true);
    match (inspect, backup_dir, backup_file) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(ConfigError::new(
            "-inspect and -backup-data-dir are separate tools: give one of them",
        )),
        (Some(data_dir), None, None) => Ok(Some(Startup::Inspect { data_dir, json })),
        (None, Some(data_dir), Some(file)) if !json => {
            Ok(Some(Startup::BackupDataDir { data_dir, file }))
        }
        (None, Some(_), None) => Err(ConfigError::new(
            "-backup-data-dir needs -backup-file FILE (- for standard output)",
        )),
        (None, None, Some(_)) => Err(ConfigError::new(
            "-backup-file is where -backup-data-dir writes: give -backup-data-dir DIR too",
        )),
        _ if json => Err(ConfigError::new("-json only applies to -inspect DIR")),
        _ => Ok(None),
    }
}

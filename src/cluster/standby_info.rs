//! `<data-dir>/standby_info`: what a standby knows about its cluster (the
//! members and leader it last saw, the sync interval), so a restarted
//! standby stays a standby and knows where to look. Written atomically
//! (temp file, fsync, rename, fsync of the directory) after every sync.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::membership::MachineEntry;

pub const FILE_NAME: &str = "standby_info";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StandbyInfo {
    /// The machine was waiting as a standby (false once it joined).
    pub running: bool,
    /// The members as last listed by the cluster.
    pub cluster: Vec<MachineEntry>,
    /// Seconds between looks at the cluster.
    #[serde(rename = "syncInterval")]
    pub sync_interval: f64,
}

impl StandbyInfo {
    /// Peer addresses (`host:port`) to look at the cluster through.
    pub fn peers(&self) -> Vec<String> {
        self.cluster
            .iter()
            .map(|m| crate::transport::host_port(&m.peer_url).to_string())
            .collect()
    }
}

fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// The saved file, if any. An unreadable one is reported and ignored: it is
/// a cache of what the cluster says, not data.
pub fn load(data_dir: &Path) -> Result<Option<StandbyInfo>, String> {
    let p = path(data_dir);
    match fs::read(&p) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("{} is unreadable ({e}); ignoring it", p.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}; ignoring it", p.display())),
    }
}

pub fn save(data_dir: &Path, info: &StandbyInfo) -> Result<(), String> {
    let bytes = serde_json::to_vec(info).unwrap_or_default();
    crate::wal::replace_file(data_dir, FILE_NAME, &bytes)
        .map_err(|e| format!("cannot write {}: {e}", path(data_dir).display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::membership::Member;

    #[test]
    fn saved_info_loads_back_and_garbage_is_reported() {
        let dir = std::env::temp_dir().join(format!("etcd-standby-info-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        assert_eq!(load(&dir), Ok(None));
        let m = Member::new("m1", "http://127.0.0.1:7001", "http://127.0.0.1:4001");
        let info = StandbyInfo {
            running: true,
            cluster: vec![MachineEntry::of(&m, true)],
            sync_interval: 5.0,
        };
        save(&dir, &info).unwrap();
        assert_eq!(load(&dir), Ok(Some(info.clone())));
        assert_eq!(info.peers(), vec!["127.0.0.1:7001".to_string()]);
        fs::write(dir.join(FILE_NAME), b"{nope").unwrap();
        assert!(load(&dir).unwrap_err().contains("unreadable"));
        let _ = fs::remove_dir_all(&dir);
    }
}

//! File access used while loading: the `-config` file, the `-peers-file` and
//! the name recorded in the data directory. Behind a trait so tests need no disk.

use std::path::Path;

/// Reads whole text files for the loader.
pub trait ConfigFs {
    fn read_to_string(&self, path: &Path) -> std::io::Result<String>;
}

/// The real file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealFs;

impl ConfigFs for RealFs {
    fn read_to_string(&self, path: &Path) -> std::io::Result<String> {
        std::fs::read_to_string(path)
    }
}

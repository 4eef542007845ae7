//! The dashboard's files, embedded in the binary at compile time from
//! `src/dashboard/assets/`: name, media type, bytes and a content hash for
//! `ETag`. Adding a file to the page means adding a line here; a test
//! checks that every file the page refers to is listed and that the whole
//! stays under the page-weight budget.

/// One embedded file.
pub struct Asset {
    /// Path below `/mod/dashboard/` (`index.html`, `js/api.js`).
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
    /// FNV-1a of `bytes`, computed at compile time.
    pub hash: u64,
}

impl Asset {
    /// A strong validator: the bytes change only with the binary.
    pub fn etag(&self) -> String {
        format!("\"{:016x}\"", self.hash)
    }
}

/// Everything the page weighs must stay below this (HTML, CSS, JS).
pub const BUDGET_BYTES: usize = 200 * 1024;

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
// The type browsers require of module scripts (RFC 9239).
const JS: &str = "text/javascript; charset=utf-8";
const SVG: &str = "image/svg+xml";

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            bytes: include_bytes!(concat!("assets/", $name)),
            hash: fnv1a(include_bytes!(concat!("assets/", $name))),
        }
    };
}

pub static ASSETS: &[Asset] = &[
    asset!("index.html", HTML),
    asset!("app.css", CSS),
    asset!("icon.svg", SVG),
    asset!("js/main.js", JS),
    asset!("js/api.js", JS),
    asset!("js/auth.js", JS),
    asset!("js/dom.js", JS),
    asset!("js/cluster.js", JS),
    asset!("js/keys.js", JS),
    asset!("js/live.js", JS),
    asset!("js/charts.js", JS),
    asset!("js/metrics.js", JS),
];

/// The file at `name` (below `/mod/dashboard/`), if embedded.
pub fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// The page weight: every embedded file, in bytes.
pub fn total_bytes() -> usize {
    ASSETS.iter().map(|a| a.bytes.len()).sum()
}

const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

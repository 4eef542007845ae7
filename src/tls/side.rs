//! Which port a set of TLS files belongs to, for naming flags in errors.

/// The client port (`-cert-file` …) or the peer port (`-peer-cert-file` …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Peer,
}

impl Side {
    pub(crate) fn ca_flag(self) -> &'static str {
        match self {
            Side::Client => "-ca-file",
            Side::Peer => "-peer-ca-file",
        }
    }

    pub(crate) fn cert_flag(self) -> &'static str {
        match self {
            Side::Client => "-cert-file",
            Side::Peer => "-peer-cert-file",
        }
    }

    pub(crate) fn key_flag(self) -> &'static str {
        match self {
            Side::Client => "-key-file",
            Side::Peer => "-peer-key-file",
        }
    }
}

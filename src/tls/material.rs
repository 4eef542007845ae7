//! Reading the certificate, key and CA files and checking they fit together.
//! Everything a user can get wrong with these files is reported here, at
//! startup, as one line naming the flag and the file.

use std::path::Path;

use openssl::pkey::{PKey, Private};
use openssl::x509::X509;

use super::reason::io_reason;
use super::side::Side;
use crate::config::TlsFiles;

/// The checked contents of one side's files.
pub(crate) struct Material {
    /// Our certificate (the first one in the certificate file).
    pub(crate) cert: X509,
    /// The rest of the certificate file: intermediates sent along with ours.
    pub(crate) chain: Vec<X509>,
    pub(crate) key: PKey<Private>,
    /// Trusted CAs; with them, the other party must present a certificate.
    pub(crate) ca: Option<Vec<X509>>,
}

/// `None` when TLS is off for this side (no certificate and key).
pub(crate) fn load(side: Side, files: &TlsFiles) -> Result<Option<Material>, String> {
    let (Some(cert_path), Some(key_path)) = (&files.cert, &files.key) else {
        return Ok(None);
    };
    let mut certs = certificates(side.cert_flag(), cert_path)?;
    let cert = certs.remove(0);
    let key = private_key(side.key_flag(), key_path)?;
    let matches = cert.public_key().is_ok_and(|public| public.public_eq(&key));
    if !matches {
        return Err(format!(
            "TLS: {} {} does not match {} {}",
            side.key_flag(),
            key_path.display(),
            side.cert_flag(),
            cert_path.display()
        ));
    }
    let ca = trusted(side, files)?;
    Ok(Some(Material {
        cert,
        chain: certs,
        key,
        ca,
    }))
}

/// The CA certificates of `side`'s CA file alone, `None` without one: for
/// a client that trusts them whether or not it has a certificate itself.
pub(crate) fn trusted(side: Side, files: &TlsFiles) -> Result<Option<Vec<X509>>, String> {
    match &files.ca {
        Some(path) => certificates(side.ca_flag(), path).map(Some),
        None => Ok(None),
    }
}

fn read(flag: &str, path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| {
        format!(
            "TLS: cannot read {flag} {}: {}",
            path.display(),
            io_reason(&e)
        )
    })
}

/// At least one certificate, in file order.
fn certificates(flag: &str, path: &Path) -> Result<Vec<X509>, String> {
    let pem = read(flag, path)?;
    match X509::stack_from_pem(&pem) {
        Ok(certs) if !certs.is_empty() => Ok(certs),
        _ => Err(format!(
            "TLS: {flag} {} holds no PEM certificate",
            path.display()
        )),
    }
}

/// PKCS#8 (`BEGIN PRIVATE KEY`) or a traditional RSA/EC key, unencrypted.
fn private_key(flag: &str, path: &Path) -> Result<PKey<Private>, String> {
    let pem = read(flag, path)?;
    if contains(&pem, b"ENCRYPTED") {
        return Err(format!(
            "TLS: {flag} {} is protected by a passphrase; give an unencrypted key",
            path.display()
        ));
    }
    // The callback answers any passphrase prompt with nothing, so OpenSSL
    // never stops to ask on the terminal.
    PKey::private_key_from_pem_callback(&pem, |_| Ok(0)).map_err(|_| {
        format!(
            "TLS: {flag} {} holds no PEM private key (PKCS#8, RSA or EC)",
            path.display()
        )
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

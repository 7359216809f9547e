//! The TLS client side fanlic's outgoing connections share (PostgreSQL,
//! IMAP): rustls on *ring*, the server's certificate checked against the
//! CAs of a PEM file when one is named, else the public web's (Mozilla's,
//! from webpki-roots).

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;

/// A client configuration trusting the CA certificates in `ca_file`
/// (PEM), or the public web's CAs without one. The error names the file.
pub(crate) fn client_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let shown = path.display();
            let pem = std::fs::read(path).map_err(|e| format!("{shown}: cannot read it: {e}"))?;
            for der in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
                let der = der.map_err(|e| format!("{shown}: {e}"))?;
                roots.add(der).map_err(|e| format!("{shown}: {e}"))?;
            }
            if roots.is_empty() {
                return Err(format!("{shown} holds no PEM certificate"));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set TLS up: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

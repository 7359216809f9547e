//! HTTPS: the server's certificate and the TLS listener.
//!
//! At first start the server makes a self-signed certificate whose key IS
//! its Ed25519 instance key (SPEC.md §7.1: "it is the key of the server's TLS
//! certificate, so an application can pin it"), for `localhost`, `127.0.0.1`
//! and every configured address, into `tls/cert.pem` and `tls/key.pem`. A
//! customer may mount their own pair there instead: it is used as is.
//! Either way it is checked at every start (validity covers now, the SANs
//! include every configured address, the certificate's key is the private
//! key's); a generated one that no longer passes (addresses changed, expired)
//! is made again, a mounted one is an error.

use core::{
    net::{IpAddr, SocketAddr},
    time::Duration,
};
use std::{
    fs,
    path::{Path, PathBuf},
    sync::Arc,
};

use axum::{extract::connect_info::Connected, serve::IncomingStream};
use ed25519_dalek::SigningKey;
use rcgen::{CertificateParams, DnType, KeyPair, PKCS_ED25519, PublicKeyData as _, SanType};
use rustls::{
    ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::mpsc,
};
use tokio_rustls::{TlsAcceptor, server::TlsStream};
use x509_parser::{extensions::GeneralName, prelude::FromDer as _, prelude::X509Certificate};
use zeroize::Zeroizing;

use crate::{
    Error,
    config::write_atomic,
    keys::{pem, pem_blocks, pkcs8_v1},
};

/// How long a generated certificate is valid: long, since it is pinned by
/// key, not by validity, and a restart makes a new one if it has expired.
const GENERATED_VALIDITY_DAYS: i64 = 3650;
/// The subject of the certificates this server makes.
const GENERATED_CN: &str = "FanRuan authorization server";
/// A TLS handshake that takes longer is dropped (slow or stuck clients must
/// not hold resources).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The certificate and key the server serves.
#[derive(Debug)]
pub struct TlsFiles {
    /// `tls/cert.pem`.
    pub cert_path: PathBuf,
    /// `tls/key.pem`.
    pub key_path: PathBuf,
    /// Whether the certificate's key is the instance key (an application can
    /// pin the instance key over TLS).
    pub is_instance_key: bool,
    /// Whether it was made at this start.
    pub generated: bool,
    config: Arc<ServerConfig>,
}

impl TlsFiles {
    /// The rustls configuration.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.config)
    }
}

/// Loads, checks, or makes the TLS certificate in `tls_dir`.
pub fn prepare(tls_dir: &Path, instance: &SigningKey, addresses: &[String], now: i64) -> Result<TlsFiles, Error> {
    let cert_path = tls_dir.join("cert.pem");
    let key_path = tls_dir.join("key.pem");
    let instance_spki =
        KeyPair::from_pkcs8_der_and_sign_algo(&PrivatePkcs8KeyDer::from(pkcs8_v1(instance).to_vec()), &PKCS_ED25519)
            .map_err(|e| Error::Tls {
                path: key_path.clone(),
                reason: format!("the instance key is unusable for TLS: {e}"),
            })?
            .subject_public_key_info();
    let (cert_exists, key_exists) = (cert_path.exists(), key_path.exists());
    let mut generated = false;
    match (cert_exists, key_exists) {
        (true, true) => {}
        (false, false) => {
            generate(tls_dir, &cert_path, &key_path, instance, addresses, now)?;
            generated = true;
        }
        (true, false) | (false, true) => {
            let missing = if cert_exists { &key_path } else { &cert_path };
            return Err(Error::Tls {
                path: missing.clone(),
                reason: "missing, while its partner is there: mount both tls/cert.pem and tls/key.pem, or neither (the server then makes its own)".into(),
            });
        }
    }
    let checked = check(&cert_path, &key_path, addresses, now);
    let checked = match checked {
        Ok(c) => c,
        // Ours (its key is the instance key): make it again for the current
        // addresses rather than refuse.
        Err(_) if !generated && is_generated(&cert_path) && key_is_instance(&key_path, &instance_spki) => {
            fs::remove_file(&cert_path).map_err(Error::io(&cert_path, "cannot replace"))?;
            fs::remove_file(&key_path).map_err(Error::io(&key_path, "cannot replace"))?;
            generate(tls_dir, &cert_path, &key_path, instance, addresses, now)?;
            generated = true;
            check(&cert_path, &key_path, addresses, now)?
        }
        Err(e) => return Err(e),
    };
    let is_instance_key = checked.spki == instance_spki;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls { path: cert_path.clone(), reason: e.to_string() })?
        .with_no_client_auth()
        .with_single_cert(checked.chain, checked.key)
        .map_err(|e| Error::Tls { path: cert_path.clone(), reason: format!("rustls refuses the certificate: {e}") })?;
    // axum is built for HTTP/1.1 only.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsFiles { cert_path, key_path, is_instance_key, generated, config: Arc::new(config) })
}

/// Whether the certificate is one this server made: self-signed, with
/// [`GENERATED_CN`] (a mounted one is never replaced).
fn is_generated(cert_path: &Path) -> bool {
    let Ok(text) = fs::read_to_string(cert_path) else { return false };
    let Some(der) = pem_blocks(&text, "CERTIFICATE").ok().and_then(|b| b.into_iter().next()) else { return false };
    let Ok((_, x509)) = X509Certificate::from_der(&der) else { return false };
    let cn_is_ours = x509.subject().iter_common_name().any(|cn| cn.as_str().is_ok_and(|cn| cn == GENERATED_CN));
    cn_is_ours && x509.subject() == x509.issuer()
}

fn key_is_instance(key_path: &Path, instance_spki: &[u8]) -> bool {
    fs::read_to_string(key_path)
        .ok()
        .map(Zeroizing::new)
        .and_then(|pem| KeyPair::from_pem(&pem).ok())
        .is_some_and(|k| k.subject_public_key_info() == instance_spki)
}

/// Makes the self-signed certificate of the instance key.
fn generate(
    tls_dir: &Path,
    cert_path: &Path,
    key_path: &Path,
    instance: &SigningKey,
    addresses: &[String],
    now: i64,
) -> Result<(), Error> {
    let fail = |reason: String| Error::Tls { path: cert_path.to_owned(), reason };
    fs::create_dir_all(tls_dir).map_err(Error::io(tls_dir, "cannot create"))?;
    let pkcs8 = pkcs8_v1(instance);
    let key_pair = KeyPair::from_pkcs8_der_and_sign_algo(&PrivatePkcs8KeyDer::from(pkcs8.to_vec()), &PKCS_ED25519)
        .map_err(|e| fail(format!("the instance key is unusable for TLS: {e}")))?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(|e| fail(e.to_string()))?;
    params.distinguished_name.push(DnType::CommonName, GENERATED_CN);
    let mut names: Vec<String> = vec!["localhost".into(), "127.0.0.1".into()];
    for a in addresses {
        if !names.contains(a) {
            names.push(a.clone());
        }
    }
    for name in &names {
        params.subject_alt_names.push(match name.parse::<IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(
                name.clone().try_into().map_err(|e| fail(format!("{name:?} is not a DNS name or IP address: {e}")))?,
            ),
        });
    }
    // A day back: clocks of the applications may be a little behind.
    let day = 86_400;
    params.not_before = time::OffsetDateTime::from_unix_timestamp(now.saturating_sub(day))
        .map_err(|e| fail(format!("bad clock: {e}")))?;
    params.not_after = time::OffsetDateTime::from_unix_timestamp(now.saturating_add(GENERATED_VALIDITY_DAYS * day))
        .map_err(|e| fail(format!("bad clock: {e}")))?;
    let cert = params.self_signed(&key_pair).map_err(|e| fail(format!("cannot make the certificate: {e}")))?;
    write_atomic(key_path, pem("PRIVATE KEY", &pkcs8).as_bytes(), 0o600)?;
    write_atomic(cert_path, cert.pem().as_bytes(), 0o644)
}

struct Checked {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    spki: Vec<u8>,
}

/// The start-up check of a certificate and its key, generated or mounted.
fn check(cert_path: &Path, key_path: &Path, addresses: &[String], now: i64) -> Result<Checked, Error> {
    let cert_err = |reason: String| Error::Tls { path: cert_path.to_owned(), reason };
    let key_err = |reason: String| Error::Tls { path: key_path.to_owned(), reason };
    let cert_text = fs::read_to_string(cert_path).map_err(Error::io(cert_path, "cannot read"))?;
    let chain = pem_blocks(&cert_text, "CERTIFICATE").map_err(cert_err)?;
    let leaf = chain.first().ok_or_else(|| cert_err("no PEM CERTIFICATE block".into()))?;
    let (_, x509) = X509Certificate::from_der(leaf).map_err(|e| cert_err(format!("not an X.509 certificate: {e}")))?;
    let validity = x509.validity();
    let (from, to) = (validity.not_before.timestamp(), validity.not_after.timestamp());
    if now < from || now > to {
        return Err(cert_err(format!(
            "valid from {} to {}, which does not cover now ({}): replace it (or delete tls/ to have one made)",
            validity.not_before, validity.not_after, now
        )));
    }
    let mut dns: Vec<String> = Vec::new();
    let mut ips: Vec<IpAddr> = Vec::new();
    if let Ok(Some(san)) = x509.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => dns.push(d.to_ascii_lowercase()),
                GeneralName::IPAddress(b) => match b.len() {
                    4 => ips.extend(<[u8; 4]>::try_from(*b).ok().map(IpAddr::from)),
                    16 => ips.extend(<[u8; 16]>::try_from(*b).ok().map(IpAddr::from)),
                    _ => {}
                },
                _ => {}
            }
        }
    }
    let missing: Vec<&str> = addresses
        .iter()
        .filter(|a| match a.parse::<IpAddr>() {
            Ok(ip) => !ips.contains(&ip),
            Err(_) => !dns.contains(&a.to_ascii_lowercase()),
        })
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(cert_err(format!(
            "its subject alternative names do not include {}, which FANLIC_ADDRESSES lists: the applications would refuse it; make a certificate for every address (or delete tls/ to have one made)",
            missing.join(", ")
        )));
    }
    let key_text = Zeroizing::new(fs::read_to_string(key_path).map_err(Error::io(key_path, "cannot read"))?);
    let mut key_blocks = pem_blocks(&key_text, "PRIVATE KEY").map_err(key_err)?;
    let key_der = match key_blocks.pop() {
        Some(k) if key_blocks.is_empty() => Zeroizing::new(k),
        _ => return Err(key_err("expected exactly one PEM PRIVATE KEY block (PKCS#8)".into())),
    };
    let pair = KeyPair::try_from(key_der.as_slice()).map_err(|e| key_err(format!("not a usable private key: {e}")))?;
    let spki = pair.subject_public_key_info();
    if spki.as_slice() != x509.public_key().raw {
        return Err(key_err(format!("its public key is not the one of the certificate {}", cert_path.display())));
    }
    Ok(Checked {
        chain: chain.into_iter().map(CertificateDer::from).collect(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der.to_vec())),
        spki,
    })
}

/// A listener that hands axum finished TLS connections. Handshakes run in
/// their own tasks, so a slow client never holds up the others.
#[derive(Debug)]
pub struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

/// The client's address, for logs.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub SocketAddr);

impl Connected<IncomingStream<'_, TlsListener>> for ClientAddr {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        Self(*stream.remote_addr())
    }
}

impl TlsListener {
    /// Starts accepting on `tcp`; call from within the runtime.
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let (tx, rx) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        tokio::spawn(async move {
            loop {
                let (stream, addr) = match tcp.accept().await {
                    Ok(s) => s,
                    Err(_) => {
                        // Out of file descriptors and the like: wait, retry.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                if tx.is_closed() {
                    break;
                }
                let (tx, acceptor) = (tx.clone(), acceptor.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, addr)).await;
                        }
                        Ok(Err(e)) => crate::http::log_line(&serde_json::json!({
                            "event": "tls_handshake_failed", "client": addr.to_string(), "error": e.to_string(),
                        })),
                        Err(_) => {}
                    }
                });
            }
        });
        Ok(Self { rx, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(conn) => conn,
            // The accept task ended: nothing more will come.
            None => core::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // test code
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn addrs(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn makes_checks_and_remakes_its_own_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::from_bytes(&[5; 32]);
        let a = prepare(dir.path(), &key, &addrs(&["10.0.0.1"]), NOW).unwrap();
        assert!(a.generated && a.is_instance_key);
        let b = prepare(dir.path(), &key, &addrs(&["10.0.0.1"]), NOW).unwrap();
        assert!(!b.generated, "a certificate that passes is kept");
        // A new address: ours, so made again.
        let c = prepare(dir.path(), &key, &addrs(&["10.0.0.1", "srv.example"]), NOW).unwrap();
        assert!(c.generated && c.is_instance_key);
        // Expired: made again too.
        let d = prepare(dir.path(), &key, &addrs(&["10.0.0.1"]), NOW + 20 * 365 * 86_400).unwrap();
        assert!(d.generated);
    }

    #[test]
    fn a_mounted_certificate_is_used_as_is_or_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (instance, customer) = (SigningKey::from_bytes(&[5; 32]), SigningKey::from_bytes(&[6; 32]));
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        generate(dir.path(), &cert, &key, &customer, &addrs(&["10.0.0.1"]), NOW).unwrap();
        let ok = prepare(dir.path(), &instance, &addrs(&["10.0.0.1"]), NOW).unwrap();
        assert!(!ok.generated && !ok.is_instance_key);
        let err = prepare(dir.path(), &instance, &addrs(&["10.0.0.2"]), NOW).unwrap_err().to_string();
        assert!(err.contains("do not include 10.0.0.2"), "{err}");
        let err = prepare(dir.path(), &instance, &addrs(&["10.0.0.1"]), NOW - 2 * 86_400).unwrap_err().to_string();
        assert!(err.contains("does not cover now"), "{err}");
        // A key that is not the certificate's.
        fs::write(&key, pem("PRIVATE KEY", &crate::keys::pkcs8_v2(&SigningKey::from_bytes(&[7; 32]))).as_bytes())
            .unwrap();
        let err = prepare(dir.path(), &instance, &addrs(&["10.0.0.1"]), NOW).unwrap_err().to_string();
        assert!(err.contains("not the one of the certificate"), "{err}");
        // Half a pair.
        fs::remove_file(&key).unwrap();
        let err = prepare(dir.path(), &instance, &addrs(&["10.0.0.1"]), NOW).unwrap_err().to_string();
        assert!(err.contains("mount both"), "{err}");
    }
}

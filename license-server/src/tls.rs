//! HTTPS: the server's certificate, its binding to the instance key, and the
//! TLS listener.
//!
//! At first start the server makes an ECDSA P-256 key, `tls/key.pem` (PKCS#8,
//! mode 0600), and a self-signed certificate for it, `tls/cert.pem`, for
//! `localhost`, `127.0.0.1` and every configured address. P-256, not the
//! Ed25519 instance key: browsers refuse Ed25519 certificates at the
//! handshake, and the admin's first step is a browser page. A customer may
//! mount their own pair there instead: it is used as is. Either way it is
//! checked at every start (validity covers now, the SANs include every
//! configured address, the certificate's key is the private key's); a
//! generated certificate that no longer passes (addresses changed, expired)
//! is made again on the same key, so the TLS key and its binding survive
//! restarts; a mounted one that fails is an error.
//!
//! Applications pin the instance key, not the TLS key: at every start the
//! instance key signs a TLS binding (SPEC.md §7.7) naming the SHA-256 of the
//! served certificate's SubjectPublicKeyInfo, generated or mounted, served
//! at `GET /api/v1/tls-binding`; an application checks it against the key
//! its handshake proved before it sends anything.

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
use ed25519_dalek::{Signer as _, SigningKey};
use fanlic_formats::{
    LicenseId, encode_tls_binding, encode_tls_binding_file,
    private_cloud::{TlsBinding, wire::TlsBindingBody},
};
use rcgen::{CertificateParams, DnType, KeyPair, PKCS_ECDSA_P256_SHA256, PublicKeyData as _, SanType};
use rustls::{
    ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
};
use sha2::{Digest as _, Sha256};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::mpsc,
};
use tokio_rustls::{TlsAcceptor, server::TlsStream};
use x509_parser::{extensions::GeneralName, prelude::FromDer as _, prelude::X509Certificate};
use zeroize::Zeroizing;

use crate::{Error, config::SignedCertificate, config::write_atomic, keys::pem_blocks};

/// How long a generated certificate is valid: long, since applications trust
/// it through the binding, not its validity, and a restart remakes it (same
/// key) once it has expired.
const GENERATED_VALIDITY_DAYS: i64 = 3650;
/// The subject of the certificates this server makes.
const GENERATED_CN: &str = "FanRuan authorization server";
/// A TLS handshake that takes longer is dropped (slow or stuck clients must
/// not hold resources).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// At most this many TLS handshakes in progress from one client address (as
/// many as it may hold connections); a connection over it is closed at
/// once. The connection cap (`net`) counts only connections whose handshake
/// finished, so without this a stranger could hold any number of half-open
/// handshakes for their timeout.
pub const MAX_HANDSHAKES_PER_CLIENT: usize = crate::limits::MAX_CONNECTIONS_PER_CLIENT;
/// At most this many TLS handshakes in progress from all addresses.
pub const MAX_HANDSHAKES: usize = 256;
/// DER of the OID id-ecPublicKey (1.2.840.10045.2.1) and of prime256v1
/// (1.2.840.10045.3.1.7), as they open a P-256 SubjectPublicKeyInfo.
const P256_SPKI_PREFIX: [u8; 27] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
];

/// The certificate and key the server serves.
#[derive(Debug)]
pub struct TlsFiles {
    /// `tls/cert.pem`.
    pub cert_path: PathBuf,
    /// `tls/key.pem`.
    pub key_path: PathBuf,
    /// Whether the certificate (and, at first start, its key) was made at
    /// this start.
    pub generated: bool,
    /// Whether it is the customer's (not one this server made).
    pub mounted: bool,
    /// Whether its key is ECDSA P-256 (what browsers accept; a mounted
    /// certificate may have another).
    pub is_p256: bool,
    /// SHA-256 of the certificate's DER SubjectPublicKeyInfo: what the TLS
    /// binding names.
    pub spki_sha256: [u8; 32],
    config: Arc<ServerConfig>,
}

impl TlsFiles {
    /// The rustls configuration.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.config)
    }
}

/// SHA-256 of a DER SubjectPublicKeyInfo (SPEC.md §7.7).
pub fn spki_sha256(spki_der: &[u8]) -> [u8; 32] {
    Sha256::digest(spki_der).into()
}

/// The TLS binding file (SPEC.md §7.7): the license, the instance
/// certificate, and the instance key's signature over the label and
/// `{license_id, spki_sha256}`. Ed25519 signatures are deterministic: the
/// same keys give the same bytes at every start.
pub fn binding_file(
    license_raw: &[u8],
    license_id: LicenseId,
    certificate: &SignedCertificate,
    instance: &SigningKey,
    spki_sha256: [u8; 32],
) -> Result<Vec<u8>, Error> {
    let encode = |source| Error::Encode { what: "the TLS binding", source };
    let binding = TlsBinding::from_wire(&TlsBindingBody { license_id: license_id.0, spki_sha256 }).map_err(encode)?;
    let message = encode_tls_binding(&binding).map_err(encode)?;
    let signature = instance.sign(&message).to_bytes();
    encode_tls_binding_file(license_raw, &certificate.message, &certificate.signature, &message, &signature)
        .map_err(encode)
}

/// Loads, checks, or makes the TLS certificate in `tls_dir`.
pub fn prepare(tls_dir: &Path, addresses: &[String], now: i64) -> Result<TlsFiles, Error> {
    let cert_path = tls_dir.join("cert.pem");
    let key_path = tls_dir.join("key.pem");
    let (cert_exists, key_exists) = (cert_path.exists(), key_path.exists());
    let mut generated = false;
    match (cert_exists, key_exists) {
        (true, true) => {}
        (false, false) => {
            generate(tls_dir, &cert_path, &key_path, None, addresses, now)?;
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
    let ours = is_generated(&cert_path);
    let checked = match check(&cert_path, &key_path, addresses, now) {
        // Ours, but made by an older server on the Ed25519 instance key,
        // which browsers refuse: a new P-256 key.
        Ok(c) if ours && !is_p256(&c.spki) => {
            regenerate(tls_dir, &cert_path, &key_path, None, addresses, now)?;
            generated = true;
            check(&cert_path, &key_path, addresses, now)?
        }
        Ok(c) => c,
        // Ours: made again for the current addresses and clock, on the same
        // key when it is P-256, so the binding still names it.
        Err(_) if !generated && ours => {
            let key = read_p256_key(&key_path);
            regenerate(tls_dir, &cert_path, &key_path, key, addresses, now)?;
            generated = true;
            check(&cert_path, &key_path, addresses, now)?
        }
        Err(e) => return Err(e),
    };
    let is_p256 = is_p256(&checked.spki);
    let spki_sha256 = spki_sha256(&checked.spki);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls { path: cert_path.clone(), reason: e.to_string() })?
        .with_no_client_auth()
        .with_single_cert(checked.chain, checked.key)
        .map_err(|e| Error::Tls { path: cert_path.clone(), reason: format!("rustls refuses the certificate: {e}") })?;
    // axum is built for HTTP/1.1 only.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsFiles { cert_path, key_path, generated, mounted: !ours, is_p256, spki_sha256, config: Arc::new(config) })
}

fn is_p256(spki: &[u8]) -> bool {
    spki.len() == 91 && spki.starts_with(&P256_SPKI_PREFIX)
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

/// The P-256 key of `tls/key.pem`, if that is what it holds.
fn read_p256_key(key_path: &Path) -> Option<KeyPair> {
    let pem = Zeroizing::new(fs::read_to_string(key_path).ok()?);
    let key = KeyPair::from_pem(&pem).ok()?;
    is_p256(&key.subject_public_key_info()).then_some(key)
}

fn regenerate(
    tls_dir: &Path,
    cert_path: &Path,
    key_path: &Path,
    key: Option<KeyPair>,
    addresses: &[String],
    now: i64,
) -> Result<(), Error> {
    fs::remove_file(cert_path).map_err(Error::io(cert_path, "cannot replace"))?;
    if key.is_none() {
        fs::remove_file(key_path).map_err(Error::io(key_path, "cannot replace"))?;
    }
    generate(tls_dir, cert_path, key_path, key, addresses, now)
}

/// Makes the self-signed certificate, on `key` or, when there is none, on a
/// new P-256 key written to `key_path` (0600).
fn generate(
    tls_dir: &Path,
    cert_path: &Path,
    key_path: &Path,
    key: Option<KeyPair>,
    addresses: &[String],
    now: i64,
) -> Result<(), Error> {
    let fail = |reason: String| Error::Tls { path: cert_path.to_owned(), reason };
    fs::create_dir_all(tls_dir).map_err(Error::io(tls_dir, "cannot create"))?;
    let (key_pair, new_key) = match key {
        Some(k) => (k, false),
        None => (
            KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
                .map_err(|e| fail(format!("cannot make a P-256 key: {e}")))?,
            true,
        ),
    };
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
    if new_key {
        write_atomic(key_path, Zeroizing::new(key_pair.serialize_pem()).as_bytes(), 0o600)?;
    }
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
        let in_progress = Arc::new(std::sync::Mutex::new(HandshakeCounts::default()));
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
                let Some(handshake) = Handshake::start(&in_progress, addr.ip()) else {
                    crate::log::log_line(&serde_json::json!({
                        "event": "connection_refused", "client": addr.to_string(), "reason": "too many connections",
                        "stage": "handshake",
                    }));
                    drop(stream);
                    continue;
                };
                let (tx, acceptor) = (tx.clone(), acceptor.clone());
                tokio::spawn(async move {
                    let handshake = handshake;
                    let done = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
                    drop(handshake);
                    match done {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, addr)).await;
                        }
                        Ok(Err(e)) => crate::log::log_line(&serde_json::json!({
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

/// TLS handshakes in progress, in all and per client address.
#[derive(Debug, Default)]
struct HandshakeCounts {
    all: usize,
    by_client: std::collections::HashMap<IpAddr, usize>,
}

/// One handshake in progress, counted until dropped.
struct Handshake {
    counts: Arc<std::sync::Mutex<HandshakeCounts>>,
    client: IpAddr,
}

impl Handshake {
    /// Counts a handshake from `client`, unless a cap is reached.
    fn start(counts: &Arc<std::sync::Mutex<HandshakeCounts>>, client: IpAddr) -> Option<Self> {
        let mut c = counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mine = c.by_client.get(&client).copied().unwrap_or(0);
        if c.all >= MAX_HANDSHAKES || mine >= MAX_HANDSHAKES_PER_CLIENT {
            return None;
        }
        c.all += 1;
        c.by_client.insert(client, mine + 1);
        Some(Self { counts: Arc::clone(counts), client })
    }
}

impl Drop for Handshake {
    fn drop(&mut self) {
        let mut c = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        c.all = c.all.saturating_sub(1);
        if let Some(n) = c.by_client.get_mut(&self.client) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                c.by_client.remove(&self.client);
            }
        }
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
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;
    use crate::keys::{pem, pkcs8_v1};

    const NOW: i64 = 1_800_000_000;

    fn addrs(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn makes_a_p256_key_once_and_keeps_it_when_the_certificate_is_remade() {
        let dir = tempfile::tempdir().unwrap();
        let a = prepare(dir.path(), &addrs(&["10.0.0.1"]), NOW).unwrap();
        assert!(a.generated && !a.mounted && a.is_p256);
        let mode = fs::metadata(dir.path().join("key.pem")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let b = prepare(dir.path(), &addrs(&["10.0.0.1"]), NOW).unwrap();
        assert!(!b.generated, "a certificate that passes is kept");
        assert_eq!(b.spki_sha256, a.spki_sha256);
        // A new address: ours, so made again, on the same key.
        let c = prepare(dir.path(), &addrs(&["10.0.0.1", "srv.example"]), NOW).unwrap();
        assert!(c.generated && !c.mounted);
        assert_eq!(c.spki_sha256, a.spki_sha256, "the TLS key survives a remade certificate");
        // Expired: made again too, same key.
        let d = prepare(dir.path(), &addrs(&["10.0.0.1"]), NOW + 20 * 365 * 86_400).unwrap();
        assert!(d.generated);
        assert_eq!(d.spki_sha256, a.spki_sha256);
    }

    /// A certificate an older server made on its Ed25519 instance key
    /// (which browsers refuse) is replaced by a P-256 one.
    #[test]
    fn an_ed25519_certificate_of_ours_is_replaced_by_p256() {
        let dir = tempfile::tempdir().unwrap();
        let ed = KeyPair::from_pkcs8_der_and_sign_algo(
            &PrivatePkcs8KeyDer::from(pkcs8_v1(&SigningKey::from_bytes(&[5; 32])).to_vec()),
            &rcgen::PKCS_ED25519,
        )
        .unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, GENERATED_CN);
        let cert = params.self_signed(&ed).unwrap();
        fs::write(dir.path().join("cert.pem"), cert.pem()).unwrap();
        fs::write(dir.path().join("key.pem"), ed.serialize_pem()).unwrap();
        let t = prepare(dir.path(), &[], NOW).unwrap();
        assert!(t.generated && t.is_p256 && !t.mounted);
    }

    #[test]
    fn a_mounted_certificate_is_used_as_is_or_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        // The customer's own: another subject, so not ours.
        let customer = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::new(vec!["10.0.0.1".to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, "reports.example.com");
        params.subject_alt_names = vec![SanType::IpAddress(IpAddr::from([10, 0, 0, 1]))];
        params.not_before = time::OffsetDateTime::from_unix_timestamp(NOW - 86_400).unwrap();
        params.not_after = time::OffsetDateTime::from_unix_timestamp(NOW + 86_400).unwrap();
        fs::write(&cert, params.self_signed(&customer).unwrap().pem()).unwrap();
        fs::write(&key, customer.serialize_pem()).unwrap();
        let ok = prepare(dir.path(), &addrs(&["10.0.0.1"]), NOW).unwrap();
        assert!(!ok.generated && ok.mounted && ok.is_p256);
        assert_eq!(ok.spki_sha256, spki_sha256(&customer.subject_public_key_info()));
        let err = prepare(dir.path(), &addrs(&["10.0.0.2"]), NOW).unwrap_err().to_string();
        assert!(err.contains("do not include 10.0.0.2"), "{err}");
        let err = prepare(dir.path(), &addrs(&["10.0.0.1"]), NOW - 2 * 86_400).unwrap_err().to_string();
        assert!(err.contains("does not cover now"), "{err}");
        // A key that is not the certificate's.
        fs::write(&key, pem("PRIVATE KEY", &crate::keys::pkcs8_v2(&SigningKey::from_bytes(&[7; 32]))).as_bytes())
            .unwrap();
        let err = prepare(dir.path(), &addrs(&["10.0.0.1"]), NOW).unwrap_err().to_string();
        assert!(err.contains("not the one of the certificate"), "{err}");
        // Half a pair.
        fs::remove_file(&key).unwrap();
        let err = prepare(dir.path(), &addrs(&["10.0.0.1"]), NOW).unwrap_err().to_string();
        assert!(err.contains("mount both"), "{err}");
    }
}

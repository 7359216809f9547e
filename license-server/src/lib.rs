//! `fanruan-license-server`: the authorization server of the container
//! private cloud (SPEC.md §7), the program inside the image
//! `fanruan_license_server.tar` that the vendor mails to a customer. The
//! customer runs it on a free port (default 18081), activates it once by QR
//! code and 6-digit code, and the FanRuan applications then register with it
//! and send a heartbeat every 7200 seconds (SPEC.md §7.3).
//!
//! # Layout
//!
//! License folder, `/app/license` (`FANLIC_LICENSE_DIR`, `--license-dir`), in
//! the image:
//! - `server.lic`: the server license (armored, kind private-cloud, with
//!   `image_public_key`);
//! - `image.key`: the image key, PKCS#8 PEM Ed25519, mode 0600;
//! - `root-keys.pem`: the vendor root keys, one or more PEM `PUBLIC KEY`.
//!
//! State folder, `/app/config` (`FANLIC_CONFIG_DIR`, `--config-dir`), mounted:
//! - `instance.key`: made at first start, PKCS#8 PEM, mode 0600; it never
//!   leaves the server;
//! - `privateConfig`: the state (SPEC.md §7.4), public: the customer mails it
//!   to the vendor for a migration;
//! - `join-secret`: made at first start, mode 0600: the applications prove
//!   it on every request (SPEC.md §7.3); shown once activation succeeds;
//! - `code-entry-locks`: wrong-code counts and locks, mode 0600, kept across
//!   restarts;
//! - `activation-receipt`: under the license's receipt policy, the vendor's
//!   latest receipt for this instance (armored), written atomically when one
//!   is accepted and checked again at every start;
//! - `tls/cert.pem`, `tls/key.pem`: made at first start (self-signed, an
//!   ECDSA P-256 key, mode 0600, kept across restarts), or mounted by the
//!   customer and then used as is; either way bound to the instance key by
//!   the TLS binding (SPEC.md §7.7) the server signs at every start.
//!
//! # Configuration
//!
//! | environment | flag | default |
//! | --- | --- | --- |
//! | `FANLIC_PORT` | `--port` | 18081 |
//! | `FANLIC_LISTEN_ADDRESS` | `--listen-address` | 0.0.0.0 |
//! | `FANLIC_ADDRESSES` | `--addresses` | none: comma-separated IPs / DNS names the applications use; they go into the TLS certificate with `localhost` and `127.0.0.1` |
//! | `FANLIC_ACTIVATION_BASE_URL` | `--activation-base-url` | the license's |
//! | `FANLIC_LICENSE_DIR` | `--license-dir` | `/app/license` |
//! | `FANLIC_CONFIG_DIR` | `--config-dir` | `/app/config` |
//!
//! # HTTP (HTTPS only)
//!
//! - `GET /license/qrcode`: the admin's page: this browser's QR code (valid
//!   5 minutes), the 6-digit code form, the status; `GET` changes nothing.
//!   `POST /license/refresh` (the page's button, with its CSRF token) makes
//!   a new QR code for this browser only. The pages follow
//!   the browser's `Accept-Language` (English, or Simplified Chinese for any
//!   `zh`), show dates as YYYY/MM/DD, and say what to do next on a refusal.
//!   Under the license's receipt policy the page shows the terms, the QR
//!   code (the phone gets a receipt file to upload) and a button whose
//!   script (`/license/receipt.js`) fetches the receipt from the vendor's
//!   service through the browser and posts it to `POST /license/receipt`
//!   (also the upload form's target); 6-digit codes are refused there.
//! - `GET /license/qrcode.png`: the same QR code as PNG.
//! - `POST /license/code`: the code, as the page's form (`csrf=…&code=NNNNNN`)
//!   or JSON (`{"code": "NNNNNN"}`); per client address 5 wrong codes are
//!   allowed, the 6th locks that address for 15 minutes; more than 50 from
//!   all addresses in 15 minutes lock everyone. The answer to the right code
//!   shows the join secret.
//! - `GET /license/status`: JSON for scripts; a page for a browser (one that
//!   asks for `text/html` and not JSON) listing the nodes;
//!   `POST /license/nodes/evict` removes one, given the join secret.
//! - `POST /api/v1/register|heartbeat|deregister`: the applications'
//!   protocol (SPEC.md §7.3), each request with the join secret's MAC
//!   (else HTTP 401 `not_authorized`, nothing more); a refusal is HTTP 403
//!   with every cause.
//! - `GET /api/v1/tls-binding`: `{"tls_binding": base64}`, the instance
//!   key's signature over the served TLS key (SPEC.md §7.7), which an
//!   application checks before it sends anything on a connection.
//!
//! One JSON line per request on stderr; never a code, key, token or nonce.
//!
//! # Static build
//!
//! ```sh
//! apt-get install -y musl-tools        # musl-gcc: ring compiles C and assembly
//! rustup target add x86_64-unknown-linux-musl
//! CC_x86_64_unknown_linux_musl=musl-gcc \
//!   cargo build --release -p fanlic-license-server --target x86_64-unknown-linux-musl
//! ```
#![forbid(unsafe_code)]

pub mod auth;
pub mod code_entry;
pub mod config;
mod error;
pub mod http;
pub mod keys;
pub mod license;
pub mod limits;
mod log;
pub mod net;
pub mod receipt;
pub mod state;
pub mod tls;

#[cfg(test)]
#[path = "../tests/it/common/mod.rs"]
mod test_fixture;

use core::{
    net::{IpAddr, SocketAddr},
    time::Duration,
};
use std::{
    fs,
    io::Write as _,
    path::PathBuf,
    sync::{Arc, PoisonError},
    time::{SystemTime, UNIX_EPOCH},
};

use base64::{Engine as _, engine::general_purpose::STANDARD};
pub use error::Error;
use fanlic_formats::Timestamp;
use fanlic_verifier::node_auth::JoinSecret;
use serde_json::json;

use crate::{
    config::{SignedCertificate, verify_private_config, write_atomic},
    http::{PRIVATE_CONFIG_MODE, Shared},
    license::ServerLicense,
    log::log_line,
    state::ServerState,
    tls::{TlsFiles, TlsListener},
};

/// Default port: 18081 (SPEC.md §7), unless the customer picks another.
pub const DEFAULT_PORT: u16 = 18081;
/// How often the timer drops silent nodes and writes time forward.
const TICK: Duration = Duration::from_secs(60);

/// What the server is told to do.
#[derive(Clone, Debug)]
pub struct Options {
    /// `/app/license`.
    pub license_dir: PathBuf,
    /// `/app/config`.
    pub config_dir: PathBuf,
    /// Where to listen.
    pub listen_address: IpAddr,
    /// The port; 0 picks a free one.
    pub port: u16,
    /// IPs and DNS names the applications use.
    pub addresses: Vec<String>,
    /// Overrides the license's activation base URL.
    pub activation_base_url: Option<String>,
}

/// Seconds since the epoch, from the system clock.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    use core::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// 32 lowercase hex digits (SPEC.md §7.3: "Ids and nonces are 32 lowercase
/// hex digits").
pub fn parse_hex16(s: &str) -> Option<[u8; 16]> {
    if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    let mut out = [0u8; 16];
    for (o, pair) in out.iter_mut().zip(s.as_bytes().chunks(2)) {
        *o = u8::from_str_radix(core::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(out)
}

/// A server ready to listen: everything checked, `privateConfig` written.
#[derive(Debug)]
pub struct Prepared {
    /// The state after the start-up rules.
    pub state: ServerState,
    /// The TLS certificate.
    pub tls: TlsFiles,
    /// The TLS binding file (SPEC.md §7.7) of its key.
    pub tls_binding: Vec<u8>,
    /// The activation base URL.
    pub base_url: String,
    /// `privateConfig`.
    pub config_path: PathBuf,
    /// `code-entry-locks`.
    pub code_entry_path: PathBuf,
    /// `activation-receipt`.
    pub receipt_path: PathBuf,
    /// The cluster's join secret.
    pub join_secret: JoinSecret,
}

fn required(path: PathBuf, hint: &'static str) -> Result<PathBuf, Error> {
    if path.exists() { Ok(path) } else { Err(Error::Missing { path, hint }) }
}

/// Everything done at start (SPEC.md §7.4 "Starting"), at `now`: the
/// license, the keys, `privateConfig`, the TLS certificate.
pub fn prepare(opts: &Options, now: u64) -> Result<Prepared, Error> {
    let lic = &opts.license_dir;
    let image_hint = "the image is incomplete: deploy the fanruan_license_server.tar the vendor sent, unchanged";
    let license_path = required(lic.join("server.lic"), image_hint)?;
    let image_key = keys::load_private_key(&required(lic.join("image.key"), image_hint)?)?;
    let roots = keys::load_root_keys(&required(lic.join("root-keys.pem"), image_hint)?)?;
    let license = ServerLicense::load(&license_path, roots, &image_key, Timestamp(now))?;
    let base_url = match (&opts.activation_base_url, &license.activation_base_url) {
        (Some(u), _) | (None, Some(u)) => u.clone(),
        (None, None) => {
            return Err(Error::Config(
                "the license names no activation service: set FANLIC_ACTIVATION_BASE_URL (--activation-base-url)"
                    .into(),
            ));
        }
    };

    let dir = &opts.config_dir;
    fs::create_dir_all(dir).map_err(Error::io(dir, "cannot create"))?;
    let key_path = dir.join("instance.key");
    let config_path = dir.join("privateConfig");
    let instance = if key_path.exists() {
        keys::load_private_key(&key_path)?
    } else if config_path.exists() {
        return Err(Error::PrivateConfig {
            path: config_path,
            check: format!("{} is missing, but privateConfig belongs to an instance key", key_path.display()),
        });
    } else {
        let k = keys::generate_key()?;
        keys::write_private_key(&key_path, &k)?;
        k
    };
    let tls = tls::prepare(&dir.join("tls"), &opts.addresses, i64::try_from(now).unwrap_or(i64::MAX))?;

    let (mut state, tls_binding) = if config_path.exists() {
        let bytes = fs::read(&config_path).map_err(Error::io(&config_path, "cannot read"))?;
        let loaded =
            verify_private_config(&bytes, &license.image_public_key, license.id, instance.verifying_key().as_bytes())
                .map_err(|check| Error::PrivateConfig { path: config_path.clone(), check })?;
        let tls_binding = tls::binding_file(&license.raw, license.id, &loaded.certificate, &instance, tls.spki_sha256)?;
        (ServerState::from_config(license, instance, loaded), tls_binding)
    } else {
        let cert = SignedCertificate::make(license.id, &image_key, &instance.verifying_key(), Timestamp(now))?;
        let tls_binding = tls::binding_file(&license.raw, license.id, &cert, &instance, tls.spki_sha256)?;
        (ServerState::create(license, instance, cert, now), tls_binding)
    };
    state.start(now);
    let bytes = state.write_now(now)?;
    write_atomic(&config_path, &bytes, PRIVATE_CONFIG_MODE)?;
    let (join_secret, _) = auth::load_or_create_join_secret(dir)?;
    let code_entry_path = dir.join(code_entry::FILE_NAME);
    if code_entry_path.exists() {
        let bytes = fs::read(&code_entry_path).map_err(Error::io(&code_entry_path, "cannot read"))?;
        let (entry, ok) = code_entry::CodeEntry::load(&bytes, now);
        if !ok {
            log_line(&json!({
                "event": "warning",
                "message": "code-entry-locks is damaged: code entry is locked for everyone for 15 minutes",
            }));
        }
        *state.code_entry_mut() = entry;
    }
    let receipt_path = dir.join(receipt::FILE_NAME);
    if receipt_path.exists() {
        let bytes = fs::read(&receipt_path).map_err(Error::io(&receipt_path, "cannot read"))?;
        let held =
            state.load_receipt(&bytes, now).map_err(|reason| Error::Receipt { path: receipt_path.clone(), reason })?;
        state.set_receipt(held);
    }
    Ok(Prepared { state, tls, tls_binding, base_url, config_path, code_entry_path, receipt_path, join_secret })
}

/// Starts the server and serves until SIGTERM or SIGINT. The first line on
/// stdout is `listening on https://ADDR`.
pub fn run(opts: &Options) -> Result<(), Error> {
    let prepared = prepare(opts, now())?;
    let st = prepared.state.status(now());
    log_line(&json!({
        "event": "started",
        "license_id": st.license_id,
        "instance_fingerprint": st.instance_fingerprint,
        "generation": st.generation,
        "activated": st.activated,
        "nodes": st.nodes,
        "clock_behind": st.clock_behind,
        "tls_certificate": prepared.tls.cert_path.display().to_string(),
        "tls_generated": prepared.tls.generated,
        "tls_mounted": prepared.tls.mounted,
        "tls_spki_sha256": hex(&prepared.tls.spki_sha256),
    }));
    if prepared.tls.mounted {
        log_line(&json!({
            "event": "notice",
            "message": "serving the mounted TLS certificate: the instance key binds its key (GET /api/v1/tls-binding), so applications accept it; a proxy in front of this server must present this same certificate and key",
        }));
    }
    if !prepared.tls.is_p256 {
        log_line(&json!({
            "event": "warning",
            "message": "the mounted TLS certificate's key is not ECDSA P-256: browsers may refuse the handshake; mount a P-256 or RSA certificate, or delete tls/ to have a P-256 one made",
        }));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Serve(format!("cannot start the async runtime: {e}")))?;
    let tls_config = prepared.tls.server_config();
    let tls_binding = STANDARD.encode(&prepared.tls_binding);
    let request_key = prepared.join_secret.request_key();
    let shared = Arc::new(Shared {
        state: std::sync::Mutex::new(prepared.state),
        config_path: prepared.config_path,
        base_url: prepared.base_url,
        code_entry_path: prepared.code_entry_path,
        receipt_path: prepared.receipt_path,
        join_secret: prepared.join_secret,
        request_key,
        replay: std::sync::Mutex::new(auth::ReplayGuard::default()),
        csrf: auth::CsrfKey::new()?,
        started: std::time::Instant::now(),
        tls_binding,
    });
    let addr = SocketAddr::new(opts.listen_address, opts.port);
    runtime.block_on(serve(addr, tls_config, Arc::clone(&shared)))?;
    // Written at shutdown so the downtime is measured from the last moment up.
    let mut state = shared.state.lock().unwrap_or_else(PoisonError::into_inner);
    let now = now();
    state.tick(now);
    let bytes = state.write_now(now)?;
    write_atomic(&shared.config_path, &bytes, PRIVATE_CONFIG_MODE)?;
    log_line(&json!({"event": "stopped", "generation": state.status(now).generation}));
    Ok(())
}

async fn serve(addr: SocketAddr, tls: Arc<rustls::ServerConfig>, shared: Arc<Shared>) -> Result<(), Error> {
    let tcp = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Serve(format!("cannot listen on {addr}: {e} (is the port free? FANLIC_PORT)")))?;
    let local = tcp.local_addr().map_err(|e| Error::Serve(e.to_string()))?;
    let listener = TlsListener::new(tcp, tls).map_err(|e| Error::Serve(e.to_string()))?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on https://{local}")
            .and_then(|()| out.flush())
            .map_err(|e| Error::Serve(format!("cannot write to stdout: {e}")))?;
    }
    let ticker = {
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(TICK);
            loop {
                interval.tick().await;
                let shared = Arc::clone(&shared);
                let _ = tokio::task::spawn_blocking(move || {
                    let mut state = shared.state.lock().unwrap_or_else(PoisonError::into_inner);
                    let now = now();
                    state.tick(now);
                    http::persist(&shared, &mut state, now);
                })
                .await;
            }
        })
    };
    net::serve(listener, http::router(shared), shutdown_signal()).await;
    ticker.abort();
    Ok(())
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => core::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // test code
mod tests {
    use std::process::Command;

    use super::*;
    use crate::test_fixture::{ISSUED_AT, fixture, write_license_dir};

    /// SPEC.md §3.5 and §7.7: the key files the server writes at its first
    /// start are ones OpenSSL 3.0 reads: `instance.key` PKCS#8 v1 Ed25519 (it
    /// does not read `ring`'s v2), `tls/key.pem` PKCS#8 ECDSA P-256, whose
    /// SubjectPublicKeyInfo hashes to what the TLS binding names. Fails,
    /// never skips, without `openssl`: CI installs it, so a pass means
    /// OpenSSL was asked.
    #[test]
    fn openssl_reads_the_key_files_of_a_first_start() {
        let found = Command::new("openssl").arg("version").output().is_ok_and(|o| o.status.success());
        assert!(found, "this test needs the `openssl` command: apt-get install -y openssl");
        let tmp = tempfile::tempdir().unwrap();
        let (license_dir, config_dir) = (tmp.path().join("license"), tmp.path().join("config"));
        write_license_dir(&license_dir, &fixture(1));
        let opts = Options {
            license_dir,
            config_dir: config_dir.clone(),
            listen_address: IpAddr::from([127, 0, 0, 1]),
            port: 0,
            addresses: Vec::new(),
            activation_base_url: None,
        };
        let prepared = prepare(&opts, ISSUED_AT + 60).unwrap();
        let instance = keys::load_private_key(&config_dir.join("instance.key")).unwrap();
        let public_pem = fanlic_testkit::keys::public_key_pem(instance.verifying_key().as_bytes());
        let pkey = |file: &std::path::Path, args: &[&str]| {
            let out = Command::new("openssl").arg("pkey").args(args).arg("-in").arg(file).output().unwrap();
            assert!(out.status.success(), "{}: {}", file.display(), String::from_utf8_lossy(&out.stderr));
            out.stdout
        };
        let instance_file = config_dir.join("instance.key");
        pkey(&instance_file, &["-noout"]);
        assert_eq!(String::from_utf8(pkey(&instance_file, &["-pubout"])).unwrap(), public_pem);
        let tls_key = config_dir.join("tls").join("key.pem");
        let text = String::from_utf8(pkey(&tls_key, &["-noout", "-text"])).unwrap();
        assert!(text.contains("prime256v1"), "tls/key.pem is not P-256: {text}");
        let spki = pkey(&tls_key, &["-pubout", "-outform", "DER"]);
        assert_eq!(tls::spki_sha256(&spki), prepared.tls.spki_sha256, "the binding names OpenSSL's SPKI");
    }
}

//! Load generator for the authorization server (target: "≥ 5,000
//! heartbeats/s over HTTPS keep-alive on loopback, 0 errors"): application
//! heartbeats (`POST /api/v1/heartbeat`) against the real
//! `fanruan-license-server`, for a fixed time.
//!
//! ```text
//! cargo build --release -p fanlic-license-server           # in the workspace
//! cd benches && cargo run --release --no-default-features --features license-server \
//!     --bin heartbeat_load -- [SECONDS=60] [CONNECTIONS=8] [VERIFY_EVERY=100]
//! ```
//!
//! The server binary is `$FANLIC_LICENSE_SERVER`, else
//! `../target/release/fanruan-license-server`, else the musl build
//! `../target/x86_64-unknown-linux-musl/release/fanruan-license-server`; if
//! none exists it runs `cargo build --release -p fanlic-license-server` first
//! (and says so).
//!
//! It makes a home with the issuer library (as `fanlic init` does), issues a
//! private-cloud license for CONNECTIONS nodes, and writes the image's
//! license folder as `fanlic issue --kind private-cloud` would put it in the
//! image (`server.lic` armored, `image.key` mode 0600, `root-keys.pem`).
//! It starts the server on `127.0.0.1:0` (its per-request log lines go to a
//! file, as a container's log would), activates it as the admin and the
//! vendor's service would (the QR page's activation link opened with the
//! license's activation key, the 6-digit code POSTed to `/license/code`),
//! and registers CONNECTIONS nodes. Then CONNECTIONS threads, each with one
//! TLS 1.3 keep-alive connection (rustls, ring, as the server), send
//! heartbeats back to back for SECONDS, each with a fresh random nonce.
//!
//! Every answer must be HTTP 200 with `"status":"heartbeat"`, and its server
//! answer file must decode with the request's kind, node and nonce echoed;
//! every VERIFY_EVERY-th answer (and the registrations) is also checked in
//! full as the product does, `verify_server_answer` along root → issuing key
//! → server license → image key → instance key, with the instance key pinned
//! (four Ed25519 verifications, ~0.2 ms of client CPU: checking all of them
//! would measure the client on a small machine). Anything else is an error.
//! Prints throughput, latency percentiles (per request, from write to the
//! last byte of the answer), errors, and the server's peak RSS (VmHWM).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::{
    fs,
    io::{BufRead as _, BufReader, Read, Write as _},
    net::TcpStream,
    os::unix::fs::PermissionsExt as _,
    path::PathBuf,
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use fanlic_formats::{
    LicenseKind, Timestamp,
    activation::MAX_TOKEN_LEN,
    private_cloud::{AnswerKind, ServerAnswer, ServerAnswerEnvelope},
};
use fanlic_issuer::Home;
use fanlic_issuer::InitOptions;
use fanlic_issuer::IssueInput;
use fanlic_issuer::IssueRequest;
use fanlic_issuer::util::clock;
use fanlic_verifier::{
    Environment, RootKey,
    activation::{open_challenge, token_from_url},
    private_cloud::{JoinSecret, Request, RequestKey, verify_server_answer},
};
use ring::rand::{SecureRandom as _, SystemRandom};
use rustls::{
    ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme, StreamOwned,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature},
    pki_types::{CertificateDer, ServerName, UnixTime},
};
use serde_json::{Value, json};

const PROJECT: &str = "load-test";

/// Accepts the server's self-signed certificate (the answers are what is
/// verified, along the chain; see examples/application.rs in license-server
/// for the pinning client), but still checks the handshake signatures, so
/// the TLS work is what a real client does.
#[derive(Debug)]
struct AnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

type Conn = BufReader<StreamOwned<ClientConnection, TcpStream>>;

fn connect(addr: &str, config: &Arc<ClientConfig>) -> Conn {
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_nodelay(true).unwrap();
    let conn = ClientConnection::new(config.clone(), ServerName::try_from("127.0.0.1").unwrap()).unwrap();
    BufReader::new(StreamOwned::new(conn, tcp))
}

/// One request on a keep-alive connection: status and body. An
/// application's request carries the MAC of the join secret's key.
fn call(c: &mut Conn, method: &str, path: &str, body: Option<&Value>, key: Option<&RequestKey>) -> (u16, Vec<u8>) {
    let text = body.map(Value::to_string).unwrap_or_default();
    let auth = key
        .map(|k| {
            format!("Authorization: {}\r\n", k.authorization(path, clock::now().unwrap().0, text.as_bytes()).as_str())
        })
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{auth}\r\n{text}",
        text.len()
    );
    let s = c.get_mut();
    s.write_all(req.as_bytes()).unwrap();
    s.flush().unwrap();
    read_response(c)
}

/// Reads one HTTP/1.1 response with a Content-Length body.
fn read_response(r: &mut Conn) -> (u16, Vec<u8>) {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut len = 0;
    loop {
        line.clear();
        r.read_line(&mut line).unwrap();
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; len];
    Read::read_exact(r, &mut body).unwrap();
    (status, body)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn env(now: u64) -> Environment<'static> {
    Environment {
        app_name: "FineReport",
        version: "11.0.20",
        project: PROJECT,
        nodes: 1,
        method: LicenseKind::PrivateCloud,
        now: Timestamp(now),
        last_seen: None,
    }
}

/// The server binary, built if there is none.
fn server_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("FANLIC_LICENSE_SERVER") {
        return p.into();
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let release = root.join("target/release/fanruan-license-server");
    let musl = root.join("target/x86_64-unknown-linux-musl/release/fanruan-license-server");
    if let Some(p) = [&release, &musl].into_iter().find(|p| p.exists()) {
        return p.clone();
    }
    eprintln!("no server binary: building it (cargo build --release -p fanlic-license-server)");
    let ok = Command::new("cargo")
        .args(["build", "--release", "-p", "fanlic-license-server"])
        .current_dir(&root)
        .status()
        .unwrap()
        .success();
    assert!(ok && release.exists(), "cargo build --release -p fanlic-license-server failed");
    release
}

fn main() {
    let mut args =
        std::env::args().skip(1).map(|a| a.parse::<u64>().expect("numbers: SECONDS CONNECTIONS VERIFY_EVERY"));
    let seconds = args.next().unwrap_or(60);
    let connections = args.next().unwrap_or(8).max(1) as usize;
    let verify_every = args.next().unwrap_or(100).max(1);
    let server_bin = server_binary();

    // The vendor's side: a home, a private-cloud license, the image's license folder.
    let tmp = tempfile::Builder::new().prefix("fanlic-heartbeat-load-").tempdir().unwrap();
    let now = clock::now().unwrap();
    let (mut home, _) =
        Home::init(&tmp.path().join("home"), &InitOptions { authserv_ids: vec![], valid_for_days: None, now }).unwrap();
    let req = IssueRequest::parse(
        &IssueInput {
            company: "Load Test Co",
            project: PROJECT,
            app: "FineReport",
            version: "11.0",
            expires: "never",
            signed: "2026/11/20",
            not_before: None,
        },
        LicenseKind::PrivateCloud,
        u32::try_from(connections).unwrap(),
        tmp.path().join("server.lic"),
        false,
    )
    .unwrap();
    let issued = home.issue(&req, now).unwrap();
    let id = issued.license_id;
    let master = home.activation_master().unwrap().expect("init makes an activation master secret");
    let license_dir = tmp.path().join("license");
    fs::create_dir_all(&license_dir).unwrap();
    fs::write(license_dir.join("server.lic"), &issued.armored).unwrap();
    let image_key = license_dir.join("image.key");
    fs::write(&image_key, master.derive_image_key(&id).to_pkcs8_pem().as_bytes()).unwrap();
    fs::set_permissions(&image_key, fs::Permissions::from_mode(0o600)).unwrap();
    let rows = home.root_key_rows().unwrap();
    let pem: String = rows.iter().map(|r| fanlic_issuer::util::pem::public_key_pem(&r.public_key)).collect();
    fs::write(license_dir.join("root-keys.pem"), pem).unwrap();
    let roots: Vec<RootKey> = rows.iter().map(|r| RootKey::from_bytes(&r.public_key).unwrap()).collect();
    let activation_key = master.derive(&id);
    drop(home);

    // The customer's side: the server, activated.
    let log = tmp.path().join("server.log");
    let mut server = Command::new(&server_bin)
        .arg("--license-dir")
        .arg(&license_dir)
        .arg("--config-dir")
        .arg(tmp.path().join("config"))
        .args(["--port", "0", "--listen-address", "127.0.0.1"])
        .env_remove("FANLIC_ADDRESSES")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let addr = first
        .trim()
        .strip_prefix("listening on https://")
        .unwrap_or_else(|| panic!("{first:?}: {}", fs::read_to_string(&log).unwrap_or_default()))
        .to_owned();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = Arc::new(
        ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCert(provider)))
            .with_no_client_auth(),
    );
    let mut admin = connect(&addr, &config);
    let (status, page) = call(&mut admin, "GET", "/license/qrcode", None, None);
    assert_eq!(status, 200);
    let page = String::from_utf8(page).unwrap();
    let url = page
        .split("<a href=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("an activation link")
        .replace("&amp;", "&");
    let mut buf = [0u8; MAX_TOKEN_LEN];
    let (_, code) =
        open_challenge(token_from_url(&url, &mut buf).unwrap(), &activation_key, Timestamp(clock::now().unwrap().0))
            .unwrap();
    let (status, body) = call(&mut admin, "POST", "/license/code", Some(&json!({"code": code.to_string()})), None);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    // The join secret the admin is shown: every node's requests carry its MAC.
    let activated: Value = serde_json::from_slice(&body).unwrap();
    let key = Arc::new(JoinSecret::parse(activated["join_secret"].as_str().unwrap()).unwrap().request_key());
    drop(admin);

    // CONNECTIONS nodes, registered on their own connections; the first answer pins the instance key.
    let rng = SystemRandom::new();
    let mut pinned = None;
    let mut nodes = Vec::with_capacity(connections);
    for _ in 0..connections {
        let mut node_id = [0u8; 16];
        let mut nonce = [0u8; 16];
        rng.fill(&mut node_id).unwrap();
        rng.fill(&mut nonce).unwrap();
        let mut c = connect(&addr, &config);
        let body = json!({"app_name": "FineReport", "version": "11.0.20", "project": PROJECT, "node_id": hex(&node_id), "nonce": hex(&nonce)});
        let (status, resp) = call(&mut c, "POST", "/api/v1/register", Some(&body), Some(&key));
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
        let v: Value = serde_json::from_slice(&resp).unwrap();
        let file = STANDARD.decode(v["answer"].as_str().unwrap()).unwrap();
        let r = Request { kind: AnswerKind::Registered, node_id, nonce };
        let a = verify_server_answer(&file, &roots, &env(clock::now().unwrap().0), &r, pinned.as_ref())
            .unwrap_or_else(|e| panic!("registration answer refused: {e}"));
        pinned = Some(a.instance_public_key);
        nodes.push((node_id, c));
    }
    let pinned = pinned.unwrap();
    let roots = Arc::new(roots);
    eprintln!(
        "server {} on {addr}, activated, {connections} nodes registered; heartbeats for {seconds} s",
        server_bin.display()
    );

    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let workers: Vec<_> = nodes
        .into_iter()
        .map(|(node_id, mut c)| {
            let (stop, roots, key) = (stop.clone(), roots.clone(), key.clone());
            std::thread::spawn(move || {
                let rng = SystemRandom::new();
                let mut lat = Vec::<u32>::with_capacity(1 << 20);
                let (mut errors, mut verified) = (0u64, 0u64);
                let node = hex(&node_id);
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let mut nonce = [0u8; 16];
                    rng.fill(&mut nonce).unwrap();
                    let body = json!({"node_id": node, "nonce": hex(&nonce)});
                    let t0 = Instant::now();
                    let (status, resp) = call(&mut c, "POST", "/api/v1/heartbeat", Some(&body), Some(&key));
                    lat.push(t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                    let request = Request { kind: AnswerKind::Heartbeat, node_id, nonce };
                    let check = || -> Result<bool, String> {
                        if status != 200 {
                            return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&resp)));
                        }
                        let v: Value = serde_json::from_slice(&resp).map_err(|e| e.to_string())?;
                        if v["status"] != "heartbeat" {
                            return Err(v.to_string());
                        }
                        let file = STANDARD.decode(v["answer"].as_str().unwrap_or("")).map_err(|e| e.to_string())?;
                        let env_ = ServerAnswerEnvelope::decode(&file).map_err(|e| e.to_string())?;
                        let a = ServerAnswer::decode(env_.answer.message).map_err(|e| e.to_string())?;
                        if (a.kind, a.node_id, a.nonce) != (request.kind, node_id, nonce) {
                            return Err("the answer does not echo the request".into());
                        }
                        if i.is_multiple_of(verify_every) {
                            let now = a.at.0;
                            verify_server_answer(&file, &roots, &env(now), &request, Some(&pinned))
                                .map_err(|e| e.to_string())?;
                            return Ok(true);
                        }
                        Ok(false)
                    };
                    match check() {
                        Ok(full) => verified += u64::from(full),
                        Err(e) => {
                            errors += 1;
                            if errors <= 3 {
                                eprintln!("error: {e}");
                            }
                        }
                    }
                    i += 1;
                }
                (lat, errors, verified)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let (mut lat, mut errors, mut verified) = (Vec::new(), 0, 0);
    for w in workers {
        let (l, e, v) = w.join().unwrap();
        lat.extend(l);
        errors += e;
        verified += v;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let rss = fanlic_benches::load::peak_rss(server.id());
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let exit = server.wait().unwrap();
    println!(
        "fanruan-license-server ({}), heartbeats over HTTPS keep-alive (TLS 1.3, rustls/ring), {connections} \
         connections, {seconds} s, {} CPUs",
        server_bin.display(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("requests            {} ({errors} errors; {verified} verified in full, 1 in {verify_every})", lat.len());
    println!("throughput          {:.0} heartbeats/s", lat.len() as f64 / elapsed);
    println!("{}", fanlic_benches::load::latency_line(&mut lat, 3));
    println!("server peak RSS     {rss}");
    println!("server log          {} bytes; exit {exit}", fs::metadata(&log).map_or(0, |m| m.len()));
    assert_eq!(errors, 0, "every heartbeat must succeed");
    assert!(exit.success(), "the server must stop cleanly on SIGTERM");
}

//! The example application node (`examples/application.rs`) against the real
//! server over real HTTPS: registered, two heartbeats, deregistered, every
//! answer checked by the node along the chain; a wrong project refused with
//! its cause and a non-zero exit; an unreachable server reported with the
//! firewall hint; a TLS key without a valid binding (another instance of
//! the server, a machine in the middle presenting another key) refused
//! before any request is sent; a node without the cluster's join secret
//! refused with `not_authorized` alone. Needs `curl` (to activate the server).

use std::{
    fs,
    io::{BufRead, BufReader, Write as _},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::{Arc, OnceLock},
    time::{SystemTime, UNIX_EPOCH},
};

use crate::common::{ACTIVATION_KEY, AnyCert, fixture, write_license_dir};
use fanlic_formats::{Timestamp, activation::MAX_TOKEN_LEN, private_cloud::instance_fingerprint};
use fanlic_license_server::keys::load_private_key;
use fanlic_verifier::activation::{ActivationKey, open_challenge, token_from_url};
use serde_json::{Value, json};

/// The example's binary, built by `cargo build --example` so that the test
/// also works when run alone (`cargo test --test it application` does not build
/// examples). `--workspace`: features unified as `cargo test --workspace`
/// unifies them, so after that the build reuses what it built (with `-p`
/// alone cargo resolves other features and rebuilds the server's whole
/// dependency tree, about 40 seconds of CI).
fn example() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        // target/PROFILE/deps/it-HASH → target/PROFILE/examples/application
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_owned();
        let mut build = Command::new(env!("CARGO"));
        build.args(["build", "--quiet", "--workspace", "--example", "application"]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let status = build.current_dir(env!("CARGO_MANIFEST_DIR")).status().unwrap();
        assert!(status.success(), "cargo build --example application failed");
        let path = profile_dir.join("examples/application");
        assert!(path.exists(), "no example binary at {}", path.display());
        path
    })
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(license_dir: &Path, config_dir: &Path, stderr: &Path) -> Self {
        let mut c = Command::new(env!("CARGO_BIN_EXE_fanruan-license-server"));
        for var in ["FANLIC_PORT", "FANLIC_LISTEN_ADDRESS", "FANLIC_ADDRESSES", "FANLIC_ACTIVATION_BASE_URL"] {
            c.env_remove(var);
        }
        let mut child = c
            .arg("--license-dir")
            .arg(license_dir)
            .arg("--config-dir")
            .arg(config_dir)
            .args(["--port", "0", "--listen-address", "127.0.0.1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(fs::File::create(stderr).unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().strip_prefix("listening on https://").unwrap_or_else(|| {
            panic!("unexpected first line {line:?}; stderr: {}", fs::read_to_string(stderr).unwrap_or_default())
        });
        let port = addr.rsplit(':').next().unwrap();
        Self { child, base: format!("https://127.0.0.1:{port}") }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn curl(url: &str, json_body: Option<&Value>) -> (u16, String) {
    let mut c = Command::new("curl");
    c.args(["-sk", "--max-time", "20", "-w", "\n%{http_code}", url]);
    if let Some(body) = json_body {
        c.args(["-H", "Content-Type: application/json", "--data-binary", &body.to_string()]);
    }
    let out = c.output().expect("`curl` is needed by this test: apt-get install -y curl");
    assert!(out.status.success(), "curl {url}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.parse().unwrap(), body.to_owned())
}

/// Activates the server as the admin and the vendor's service would: the
/// activation link of the QR page, opened with the license's activation key.
fn activate(server: &Server) {
    let (status, html) = curl(&format!("{}/license/qrcode", server.base), None);
    assert_eq!(status, 200);
    let url = html
        .split("<a href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no activation link on the QR page: {html}"))
        .replace("&amp;", "&");
    let mut buf = [0u8; MAX_TOKEN_LEN];
    let token = token_from_url(&url, &mut buf).unwrap();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let (_, code) = open_challenge(token, &ActivationKey::from_bytes(ACTIVATION_KEY), Timestamp(now)).unwrap();
    let (status, body) = curl(&format!("{}/license/code", server.base), Some(&json!({"code": code.to_string()})));
    assert_eq!(status, 200, "{body}");
}

fn run_node(server: &str, root_keys: &Path, secret: &Path, project: &str, extra: &[&str]) -> (Output, Vec<Value>) {
    let out = Command::new(example())
        .args(["--server", server, "--root-key"])
        .arg(root_keys)
        .arg("--join-secret")
        .arg(secret)
        .args(["--app", "FineReport", "--version", "11.0.20", "--project", project, "--json"])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    let events = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not one JSON object a line ({e}): {stdout}")))
        .collect();
    (out, events)
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["event"].as_str().unwrap()).collect()
}

#[test]
fn an_application_registers_beats_and_deregisters() {
    let tmp = tempfile::tempdir().unwrap();
    let (license_dir, config_dir) = (tmp.path().join("license"), tmp.path().join("config"));
    write_license_dir(&license_dir, &fixture(2));
    let server = Server::start(&license_dir, &config_dir, &tmp.path().join("server.log"));
    let roots = license_dir.join("root-keys.pem");
    let secret = config_dir.join("join-secret");

    // Without the join secret: `not_authorized` alone, nothing about the
    // license (the project is wrong too, and the server is not activated).
    let wrong_secret = tmp.path().join("wrong-secret");
    fs::write(&wrong_secret, format!("{}\n", "ab".repeat(32))).unwrap();
    let (out, events) = run_node(&server.base, &roots, &wrong_secret, "other-project", &["--count", "0"]);
    assert_eq!(out.status.code(), Some(1), "{events:?}");
    assert_eq!(kinds(&events), ["start", "refused"]);
    assert_eq!(events[1]["http_status"], 401);
    let refusal = events[1]["causes"].to_string();
    assert_eq!(events[1]["causes"].as_array().unwrap().len(), 1, "{refusal}");
    assert_eq!(events[1]["causes"][0]["code"], "not_authorized");
    for term in [
        "webroot",
        "FineReport",
        "11.0",
        "project",
        "Example Co.",
        &crate::common::LICENSE_ID.iter().map(|b| format!("{b:02x}")).collect::<String>(),
    ] {
        assert!(!refusal.contains(term), "an unauthenticated refusal shows {term}: {refusal}");
    }

    // Before activation: refused with every cause, exit 1.
    let (out, events) = run_node(&server.base, &roots, &secret, "webroot", &["--count", "0"]);
    assert_eq!(out.status.code(), Some(1), "{events:?}");
    assert_eq!(kinds(&events), ["start", "refused"]);
    assert_eq!(events[1]["causes"][0]["code"], "not_activated");

    activate(&server);
    let instance = load_private_key(&config_dir.join("instance.key")).unwrap();
    let fingerprint: String =
        instance_fingerprint(instance.verifying_key().as_bytes()).iter().map(|b| format!("{b:02x}")).collect();

    let node = "0123456789abcdef0123456789abcdef";
    let (out, events) = run_node(
        &server.base,
        &roots,
        &secret,
        "webroot",
        &["--node-id", node, "--interval", "1", "--count", "2", "--deregister"],
    );
    assert!(out.status.success(), "{}\n{events:?}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(kinds(&events), ["start", "registered", "heartbeat", "heartbeat", "deregistered"]);
    assert_eq!(events[0]["node_id"], node);
    for e in &events[1..] {
        assert_eq!(e["instance_fingerprint"].as_str(), Some(fingerprint.as_str()), "{e}");
    }
    assert_eq!((events[1]["nodes"].as_u64(), events[3]["heartbeats"].as_u64()), (Some(1), Some(2)));
    assert!(events[3]["valid_until"].as_str().unwrap().ends_with('Z'));
    let (_, status) = curl(&format!("{}/license/status", server.base), None);
    assert_eq!(serde_json::from_str::<Value>(&status).unwrap()["nodes"], 0, "deregistered: {status}");

    // The license is for project `webroot`: refused with the cause, exit 1.
    let (out, events) = run_node(&server.base, &roots, &secret, "other-project", &["--count", "1"]);
    assert_eq!(out.status.code(), Some(1), "{events:?}");
    assert_eq!(kinds(&events), ["start", "refused"]);
    assert_eq!(events[1]["request"], "register");
    assert_eq!(events[1]["http_status"], 403);
    let codes: Vec<&str> =
        events[1]["causes"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["project_content_mismatch"]);

    // Another vendor's root key: the node refuses the (genuine) server at
    // its TLS binding, whose license is not authentic for it, and sends no
    // request.
    let other_root = tmp.path().join("other-root.pem");
    let other = fanlic_testkit::keys::TestKey::new("root-other").unwrap();
    fs::write(&other_root, fanlic_testkit::keys::public_key_pem(&other.public())).unwrap();
    let (out, events) = run_node(&server.base, &other_root, &secret, "webroot", &["--count", "0"]);
    assert_eq!(out.status.code(), Some(1), "{events:?}");
    assert_eq!(kinds(&events), ["start", "tls_binding_refused"]);
    assert_eq!(events[1]["code"], "content_incorrect");

    // Nothing listens: the hint names the port and the firewall, exit 2.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("https://127.0.0.1:{closed}");
    let (out, events) = run_node(&url, &roots, &secret, "webroot", &["--count", "1"]);
    assert_eq!(out.status.code(), Some(2), "{events:?}");
    assert_eq!(kinds(&events), ["start", "unreachable"]);
    let message = events[1]["message"].as_str().unwrap();
    assert!(message.starts_with(&format!("cannot reach the authorization server at {url}: ")), "{message}");
    assert!(message.contains("the port is published, and no firewall blocks it"), "{message}");
}

/// One HTTP/1.1 message with its headers and Content-Length body, raw; None
/// at the end of the stream.
fn read_message(r: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut raw = Vec::new();
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        raw.extend_from_slice(line.as_bytes());
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().ok()?;
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    raw.extend_from_slice(&body);
    Some(raw)
}

/// A TLS-terminating machine in the middle: it presents the certificate and
/// key of `tls_dir` and relays every HTTP message to the server at
/// `upstream` over its own TLS connection. Returns its URL.
fn machine_in_the_middle(tls_dir: &Path, upstream: &str) -> String {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, pem::PemObject as _};
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(tls_dir.join("cert.pem")).unwrap().map(Result::unwrap).collect();
    let key = PrivateKeyDer::from_pem_file(tls_dir.join("key.pem")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap(),
    );
    let client = Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCert(provider)))
            .with_no_client_auth(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let upstream = upstream.strip_prefix("https://").unwrap().to_owned();
    std::thread::spawn(move || {
        for down in listener.incoming().map_while(Result::ok) {
            let Ok(up) = TcpStream::connect(&upstream) else { continue };
            let down = rustls::StreamOwned::new(rustls::ServerConnection::new(Arc::clone(&server)).unwrap(), down);
            let name = ServerName::try_from("127.0.0.1").unwrap();
            let up = rustls::StreamOwned::new(rustls::ClientConnection::new(Arc::clone(&client), name).unwrap(), up);
            let (mut down, mut up) = (BufReader::new(down), BufReader::new(up));
            while let Some(request) = read_message(&mut down) {
                if up.get_mut().write_all(&request).and_then(|()| up.get_mut().flush()).is_err() {
                    break;
                }
                let Some(response) = read_message(&mut up) else { break };
                if down.get_mut().write_all(&response).and_then(|()| down.get_mut().flush()).is_err() {
                    break;
                }
            }
        }
    });
    url
}

/// SPEC.md §7.7: an application pins the instance key on first use and then
/// accepts a TLS connection only when the pinned key binds the TLS key the
/// handshake proved, checked before any request is sent. Another server
/// from the same image (its own instance key, its own TLS key, each validly
/// bound) is refused with `instance_key_changed`; a machine in the middle
/// that presents another TLS key (here the second server's, with a valid
/// certificate and private key) while relaying the genuine server's binding
/// is refused with `tls_key_not_bound`, and the genuine server never sees
/// the registration.
#[test]
fn a_tls_key_without_a_valid_binding_is_refused_before_anything_is_sent() {
    let tmp = tempfile::tempdir().unwrap();
    let license_dir = tmp.path().join("license");
    write_license_dir(&license_dir, &fixture(2));
    let (config_a, config_b) = (tmp.path().join("config-a"), tmp.path().join("config-b"));
    let log_a = tmp.path().join("a.log");
    let a = Server::start(&license_dir, &config_a, &log_a);
    let b = Server::start(&license_dir, &config_b, &tmp.path().join("b.log"));
    let roots = license_dir.join("root-keys.pem");
    activate(&a);
    activate(&b);

    // First use: A's binding pins A's instance key, kept in the pin file.
    let pin = tmp.path().join("pinned-instance-key");
    let pin_arg = pin.to_str().unwrap();
    // The node is A's: configured with A's join secret.
    let secret = config_a.join("join-secret");
    let (out, events) = run_node(&a.base, &roots, &secret, "webroot", &["--count", "0", "--pin-file", pin_arg]);
    assert!(out.status.success(), "{events:?}");
    assert_eq!(kinds(&events), ["start", "registered"]);
    let instance_a = load_private_key(&config_a.join("instance.key")).unwrap();
    let a_hex: String = instance_a.verifying_key().as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(fs::read_to_string(&pin).unwrap().trim(), a_hex);

    // The same node sent to B: B's binding is genuine, but from another instance.
    let (out, events) = run_node(&b.base, &roots, &secret, "webroot", &["--count", "0", "--pin-file", pin_arg]);
    assert_eq!(out.status.code(), Some(1), "{events:?}");
    assert_eq!(kinds(&events), ["start", "tls_binding_refused"]);
    assert_eq!(events[1]["code"], "instance_key_changed", "{events:?}");
    assert!(events[1]["message"].as_str().unwrap().contains("another copy"), "{events:?}");

    // A machine in the middle with B's TLS certificate and key, relaying to A.
    let registrations = || fs::read_to_string(&log_a).unwrap().matches("/api/v1/register").count();
    let before = registrations();
    assert!(before >= 1, "the server logs every registration's path");
    let mitm = machine_in_the_middle(&config_b.join("tls"), &a.base);
    let (out, events) = run_node(&mitm, &roots, &secret, "webroot", &["--count", "0", "--pin-file", pin_arg]);
    assert_eq!(out.status.code(), Some(1), "{events:?}");
    assert_eq!(kinds(&events), ["start", "tls_binding_refused"]);
    assert_eq!(events[1]["code"], "tls_key_not_bound", "{events:?}");
    assert!(events[1]["message"].as_str().unwrap().contains("machine in the middle"), "{events:?}");
    assert_eq!(registrations(), before, "nothing was sent past the refused binding");
    // Without the pin (a new node), the relayed binding still names A's TLS key, not B's.
    let (out, events) = run_node(&mitm, &roots, &secret, "webroot", &["--count", "0"]);
    assert_eq!(out.status.code(), Some(1), "{events:?}");
    assert_eq!(events[1]["code"], "tls_key_not_bound", "{events:?}");
    assert_eq!(registrations(), before);
}

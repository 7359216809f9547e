//! The example application node (`examples/application.rs`) against the real
//! server over real HTTPS: registered, two heartbeats, deregistered, every
//! answer checked by the node along the chain; a wrong project refused with
//! its cause and a non-zero exit; an unreachable server reported with the
//! firewall hint; a node without the cluster's join secret refused with
//! `not_authorized` alone. Needs `curl` (to activate the server).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod common;

use std::{
    fs,
    io::{BufRead as _, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::OnceLock,
    time::{SystemTime, UNIX_EPOCH},
};

use common::{ACTIVATION_KEY, fixture, write_license_dir};
use fanlic_formats::{Timestamp, activation::MAX_TOKEN_LEN, private_cloud::instance_fingerprint};
use fanlic_license_server::keys::load_private_key;
use fanlic_verifier::activation::{ActivationKey, open_challenge, token_from_url};
use serde_json::{Value, json};

/// The example's binary, built by `cargo build --example` so that the test
/// also works when run alone (`cargo test --test application` does not build
/// examples); a no-op when `cargo test` has just built it.
fn example() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        // target/PROFILE/deps/application-HASH → target/PROFILE/examples/application
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_owned();
        let mut build = Command::new(env!("CARGO"));
        build.args(["build", "--quiet", "-p", "fanlic-license-server", "--example", "application"]);
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
        &common::LICENSE_ID.iter().map(|b| format!("{b:02x}")).collect::<String>(),
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

    // Another vendor's root key: the node refuses the (genuine) answer itself.
    let other_root = tmp.path().join("other-root.pem");
    let other = fanlic_tests::keys::TestKey::new("root-other").unwrap();
    fs::write(&other_root, fanlic_tests::keys::public_key_pem(&other.public())).unwrap();
    let (out, events) = run_node(&server.base, &other_root, &secret, "webroot", &["--count", "0"]);
    assert_eq!(out.status.code(), Some(1), "{events:?}");
    assert_eq!(kinds(&events), ["start", "answer_rejected"]);
    assert_eq!(events[1]["causes"][0]["code"], "content_incorrect");

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

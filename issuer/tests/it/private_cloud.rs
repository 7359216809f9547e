//! The private cloud end to end, with real components: `fanlic
//! issue --kind private-cloud -o fanruan_license_server.tar`, the tar checked
//! by `fanlic verify`, loaded and run by podman (runc) with 18081 published
//! on 127.0.0.1 and a host folder as /app/config; the QR page fetched over
//! HTTPS with curl, its PNG read by zbarimg; the activation confirmed at a
//! running `fanlic serve` and the code typed into the server; an application
//! node registering and heartbeating with the MAC of the join secret the
//! activation showed, every answer checked by the verifier along root →
//! issuing key → server license → image key → instance key, over
//! connections pinned (curl `--pinnedpubkey`) to the TLS key that the
//! instance key's TLS binding names (SPEC.md §7.7); a node without the join
//! secret refused with `not_authorized` alone; the container stopped and
//! started again, keeping its state and its TLS key.
//!
//! Needs podman, runc, zbar-tools and curl (CI installs them) and the static
//! server binary (`cargo build --release -p fanlic-license-server --target
//! x86_64-unknown-linux-musl`); without them the test FAILS and says so.

use crate::common::container;

use core::time::Duration;
use std::{
    fs,
    io::{BufRead as _, BufReader},
    path::Path,
    process::{Command, Stdio},
};

use crate::common::{Env, fanlic, fanlic_cmd, ok, smtp::free_port};
use base64::Engine as _;
use fanlic_formats::{LicenseKind, Timestamp, private_cloud::AnswerKind};
use fanlic_issuer::home::load_root_public_key;
use fanlic_verifier::{
    Environment, RootKey,
    private_cloud::{AuthHeader, Client, JoinSecret, RequestKey, Status},
};
use serde_json::Value;

use container::{Podman, Serve, handshake_spki_sha256, hex, json, run, server_binary, tool, unix_now};

/// curl: (status, body). `-k`: the server's certificate is self-signed (the
/// application pins the instance key, and the TLS key through its binding).
fn curl(method: &str, url: &str, json_body: Option<&str>, out_file: Option<&Path>) -> (u16, String) {
    curl_full(None, method, url, json_body, out_file, None)
}

/// [`curl`], refusing a connection whose TLS key's SubjectPublicKeyInfo does
/// not hash to `pin` (`--pinnedpubkey sha256//BASE64`), and with an
/// `Authorization` header when one is given.
fn curl_full(
    pin: Option<&[u8; 32]>,
    method: &str,
    url: &str,
    json_body: Option<&str>,
    out_file: Option<&Path>,
    authorization: Option<&str>,
) -> (u16, String) {
    let mut c = Command::new(tool("curl", "curl"));
    c.args(["-sk", "--max-time", "15", "-X", method, "-w", "\n%{http_code}"]);
    if let Some(pin) = pin {
        c.arg("--pinnedpubkey").arg(format!("sha256//{}", base64::engine::general_purpose::STANDARD.encode(pin)));
    }
    if let Some(a) = authorization {
        c.args(["-H", &format!("Authorization: {a}")]);
    }
    if let Some(b) = json_body {
        c.args(["-H", "Content-Type: application/json", "-H", "Accept: application/json", "-d", b]);
    } else {
        c.args(["-H", "Accept: application/json"]);
    }
    if let Some(f) = out_file {
        c.arg("-o").arg(f);
    }
    let out = c.arg(url).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    (code.trim().parse().unwrap_or(0), body.to_owned())
}

/// Waits until the server in the container answers over HTTPS.
fn wait_ready(base: &str, podman: &Podman, name: &str) -> Value {
    for _ in 0..150 {
        let (code, body) = curl("GET", &format!("{base}/license/status"), None, None);
        if code == 200 {
            return json(&body);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let logs = podman.cmd().args(["logs", name]).output().unwrap();
    panic!(
        "the authorization server did not answer at {base} within 30 s; its logs:\n{}{}",
        String::from_utf8_lossy(&logs.stdout),
        String::from_utf8_lossy(&logs.stderr)
    );
}

/// One application node: its verifier `Client`, the product's environment,
/// the TLS key its client accepted the binding of, and the key of the join
/// secret it is configured with (none: a stranger).
struct Node {
    client: Client,
    roots: Vec<RootKey>,
    project: &'static str,
    tls_key: Option<[u8; 32]>,
    key: Option<RequestKey>,
}

impl Node {
    /// SPEC.md §7.7: the key of the TLS handshake, and the instance key's
    /// binding of it fetched over a connection pinned to that key, checked
    /// by the verifier's client (which pins the instance key on first use).
    /// Every later request is pinned to that TLS key.
    fn bind(&mut self, base: &str) -> Result<(), String> {
        let spki = handshake_spki_sha256(base);
        let (code, text) = curl_full(Some(&spki), "GET", &format!("{base}/api/v1/tls-binding"), None, None, None);
        assert_eq!(code, 200, "{text}");
        let file =
            base64::engine::general_purpose::STANDARD.decode(json(&text)["tls_binding"].as_str().unwrap()).unwrap();
        self.client.on_tls_binding(&file, &self.roots, &spki).map_err(|e| e.code().to_owned())?;
        self.tls_key = Some(spki);
        Ok(())
    }

    /// Sends `kind` to the server and checks the answer with the verifier;
    /// the status it gives, or the causes of the refusal.
    fn send(&mut self, base: &str, kind: AnswerKind, seq: u8) -> Result<Status, Vec<String>> {
        let now = Timestamp(unix_now());
        let mut nonce = [seq; 16];
        nonce[..8].copy_from_slice(&now.0.to_be_bytes());
        let req = self.client.request(kind, nonce, now);
        let body = match kind {
            AnswerKind::Registered => serde_json::json!({
                "app_name": "FineReport", "version": "11.0.20", "project": self.project,
                "node_id": hex(&req.node_id), "nonce": hex(&req.nonce),
            }),
            _ => serde_json::json!({ "node_id": hex(&req.node_id), "nonce": hex(&req.nonce) }),
        };
        let pin = self.tls_key.expect("the node checks the TLS binding before it sends anything");
        let text = body.to_string();
        let auth = self.key.as_ref().map(|k| req.authorization(k, text.as_bytes(), Timestamp(unix_now())));
        let (code, text) = curl_full(
            Some(&pin),
            "POST",
            &format!("{base}{}", req.path()),
            Some(&text),
            None,
            auth.as_ref().map(AuthHeader::as_str),
        );
        let v = json(&text);
        if code != 200 {
            return Err(v["causes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["code"].as_str().unwrap().to_owned())
                .collect());
        }
        let answer = base64::engine::general_purpose::STANDARD.decode(v["answer"].as_str().unwrap()).unwrap();
        let env = Environment {
            app_name: "FineReport",
            version: "11.0.20",
            project: self.project,
            nodes: 1,
            method: LicenseKind::PrivateCloud,
            now: Timestamp(unix_now()),
            last_seen: None,
        };
        self.client.on_answer(&answer, &self.roots, &env).map_err(|r| r.causes().map(|c| c.code().to_owned()).collect())
    }
}

#[test]
fn private_cloud_image_runs_activates_and_serves_heartbeats() {
    let server_bin = server_binary();
    let zbarimg = tool("zbarimg", "zbar-tools");
    let env = Env::temp();
    let mut podman = Podman::new(&env.dir.join("podman"));
    ok(&env, &["init", "--authserv-id", crate::common::AUTHSERV]);
    let serve_port = free_port();
    ok(&env, &["config", "--by", "test", "--activation-base-url", &format!("http://127.0.0.1:{serve_port}/a")]);

    // Issue and build in one step.
    let tar = env.dir.join("fanruan_license_server.tar");
    let out = fanlic_cmd()
        .env("FANLIC_HOME", &env.home)
        .envs(env.database_env())
        .env("FANLIC_LICENSE_SERVER_BINARY", &server_bin)
        .args(["issue", "--company", "Customer Trading Co., Ltd.", "--project", "cloudproj", "--app", "FineReport"])
        .args(["--version", "11.0", "--kind", "private-cloud", "--nodes", "2", "--expires", "2099-12-31"])
        .args(["--signed", "2026/11/20", "--json", "-o"])
        .arg(&tar)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let issued = json(&String::from_utf8_lossy(&out.stdout));
    let license_id = issued["license"]["license_id"].as_str().unwrap().to_owned();
    let tag = format!("fanruan/license-server:{license_id}");
    assert_eq!(issued["image"]["tag"], tag.as_str());
    assert!(issued["image"]["bytes"].as_u64().unwrap() <= 8 << 20, "image over 8 MiB: {issued}");

    // `fanlic verify` reads the tar and the license in it.
    let v = fanlic(
        &env,
        &["verify", tar.to_str().unwrap(), "--app", "FineReport", "--version", "11.0.20", "--project", "cloudproj"],
        None,
    );
    assert!(v.status.success(), "{}{}", String::from_utf8_lossy(&v.stdout), String::from_utf8_lossy(&v.stderr));
    assert!(String::from_utf8_lossy(&v.stdout).contains(&tag));

    // Load and run it, as the customer does.
    let loaded = run(podman.cmd().args(["load", "-i"]).arg(&tar));
    assert!(String::from_utf8_lossy(&loaded.stdout).contains(&tag), "{loaded:?}");
    let config = env.dir.join("app-config");
    fs::create_dir_all(&config).unwrap();
    let port = free_port();
    let name = format!("fanlic-test-{}", &license_id[..12]);
    let start = |podman: &Podman| {
        run(podman
            .cmd()
            .args(["run", "-d", "--name", &name, "-p", &format!("127.0.0.1:{port}:18081"), "-v"])
            .arg(format!("{}:/app/config", config.display()))
            .args(["-e", "FANLIC_ADDRESSES=127.0.0.1", &tag]));
    };
    start(&podman);
    podman.containers.push(name.clone());
    let base = format!("https://127.0.0.1:{port}");
    let status = wait_ready(&base, &podman, &name);
    assert_eq!(status["activated"], false, "{status}");
    assert_eq!(status["license_id"], license_id.as_str());
    assert!(config.join("privateConfig").is_file() && config.join("instance.key").is_file());
    // The instance key, written by the server in the container: owner only.
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(config.join("instance.key")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "instance.key");
    }

    // The QR page over HTTPS; its PNG read back by a real decoder.
    let (code, page) = curl("GET", &format!("{base}/license/qrcode"), None, None);
    assert_eq!(code, 200, "{page}");
    assert!(page.contains("<svg"), "{page}");
    let png = env.dir.join("qr.png");
    let (code, _) = curl("GET", &format!("{base}/license/qrcode.png"), None, Some(&png));
    assert_eq!(code, 200);
    let read = run(Command::new(&zbarimg).args(["--raw", "-q"]).arg(&png));
    let url = String::from_utf8_lossy(&read.stdout).trim().to_owned();
    assert!(url.starts_with(&format!("http://127.0.0.1:{serve_port}/a/")), "{url}");

    // Before activation, an application is refused.
    let roots: Vec<RootKey> = fs::read_dir(env.home.join("public"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("root-"))
        .map(|p| load_root_public_key(&p).unwrap())
        .collect();
    // A stranger (no join secret) learns only that it is not authorized.
    let mut stranger =
        Node { client: Client::new([0x44; 16]), roots: roots.clone(), project: "cloudproj", tls_key: None, key: None };
    stranger.bind(&base).unwrap();
    assert_eq!(stranger.send(&base, AnswerKind::Registered, 1).unwrap_err(), ["not_authorized"]);
    // The join secret, made at the first start in the config volume (mode 0600).
    let secret_file = config.join("join-secret");
    let secret = fs::read_to_string(&secret_file).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(fs::metadata(&secret_file).unwrap().permissions().mode() & 0o777, 0o600);
    let key = Some(JoinSecret::parse(&secret).unwrap().request_key());
    let mut node = Node {
        client: Client::new([0x42; 16]),
        roots: roots.clone(),
        project: "cloudproj",
        tls_key: None,
        key: key.clone(),
    };
    node.bind(&base).unwrap();
    let instance_key = *node.client.pinned_instance_key().expect("the first binding pins the instance key");
    let refused = node.send(&base, AnswerKind::Registered, 1).unwrap_err();
    assert!(refused.contains(&"not_activated".to_owned()), "{refused:?}");

    // The phone opens the URL at the vendor's service and confirms; the admin
    // types the code into the server.
    let mut serve = fanlic_cmd()
        .env("FANLIC_HOME", &env.home)
        .envs(env.database_env())
        .args(["serve", "--listen", &format!("127.0.0.1:{serve_port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(serve.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.starts_with("listening on http://"), "{first}");
    let _serve = Serve(serve);
    let (code, body) = curl("POST", &url, None, None);
    assert_eq!(code, 200, "{body}");
    let six = json(&body)["code"].as_str().unwrap().to_owned();
    let (code, body) = curl("POST", &format!("{base}/license/code"), Some(&format!(r#"{{"code":"{six}"}}"#)), None);
    assert_eq!(code, 200, "{body}");
    assert_eq!(json(&body)["status"], "activated");
    // The activation shows the admin the join secret to configure.
    assert_eq!(json(&body)["join_secret"].as_str(), Some(secret.trim()));

    // An application node registers and heartbeats; each answer checked
    // along the whole chain, the instance key pinned from the first.
    assert!(matches!(node.send(&base, AnswerKind::Registered, 2), Ok(Status::Registered { nodes: 1, .. })));
    assert!(matches!(node.send(&base, AnswerKind::Heartbeat, 3), Ok(Status::Registered { .. })));
    assert!(matches!(node.send(&base, AnswerKind::Heartbeat, 4), Ok(Status::Registered { .. })));
    let pinned = *node.client.pinned_instance_key().unwrap();
    assert_eq!(pinned, instance_key, "the answers come from the instance the binding pinned");
    // A product for another project is refused with its cause.
    let mut other =
        Node { client: Client::new([0x43; 16]), roots: roots.clone(), project: "elsewhere", tls_key: None, key };
    other.bind(&base).unwrap();
    let refused = other.send(&base, AnswerKind::Registered, 5).unwrap_err();
    assert!(refused.contains(&"project_content_mismatch".to_owned()), "{refused:?}");
    let before = wait_ready(&base, &podman, &name);
    assert_eq!((before["activated"].as_bool(), before["nodes"].as_u64()), (Some(true), Some(1)), "{before}");

    // Stop and start the container: state kept, no new activation, the node
    // still known, the same instance key.
    run(podman.cmd().args(["stop", "-t", "10", &name]));
    run(podman.cmd().args(["start", &name]));
    let after = wait_ready(&base, &podman, &name);
    assert_eq!(after["activated"], true, "{after}");
    assert_eq!(after["nodes"], 1, "{after}");
    assert_eq!(after["instance_fingerprint"], before["instance_fingerprint"]);
    assert!(after["generation"].as_u64() >= before["generation"].as_u64(), "{before} {after}");
    // The TLS key survived the restart: the pinned connection still works.
    assert_eq!(handshake_spki_sha256(&base), node.tls_key.unwrap(), "the TLS key is kept in /app/config/tls");
    assert!(matches!(node.send(&base, AnswerKind::Heartbeat, 6), Ok(Status::Registered { .. })));
    assert_eq!(node.client.pinned_instance_key(), Some(&pinned));

    // Deregistered: the server forgets the node.
    assert!(matches!(node.send(&base, AnswerKind::Deregistered, 7), Ok(Status::Deregistered)));
    assert_eq!(wait_ready(&base, &podman, &name)["nodes"], 0);
}

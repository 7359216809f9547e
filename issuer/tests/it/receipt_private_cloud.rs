//! Activation by receipt in the private cloud, end to end with real
//! components (SPEC.md §6.3, §6.4, §7.1): a receipt-policy contract with a
//! lease, `fanlic issue --activation-policy receipt -o
//! fanruan_license_server.tar`, two containers run by podman (runc) from
//! that one tar, each with its own /app/config, and a running `fanlic
//! serve`. Headless Chromium opens the first container's QR page over
//! HTTPS and presses "Activate through the vendor's service": its script
//! takes the receipt from `fanlic serve`'s `/receipt` and posts it to the
//! server, which then serves a node whose every answer carries the receipt
//! (checked by the verifier's client along the whole chain). The second
//! container's page asks the vendor too, is refused (the license is bound
//! to the first instance) and serves no node.
//!
//! Needs podman, runc, chromium, curl, openssl and the static server binary
//! (`cargo build --release -p fanlic-license-server --target
//! x86_64-unknown-linux-musl`); without them the test FAILS and says so.

use crate::common::chromium;
use crate::common::container;

use core::time::Duration;
use std::{
    fs,
    io::{BufRead as _, BufReader},
    path::Path,
    process::{Command, Stdio},
};

use crate::common::{Env, fanlic_cmd, ok, smtp::free_port};
use base64::Engine as _;
use fanlic_formats::{LicenseKind, Timestamp, private_cloud::AnswerKind};
use fanlic_issuer::home::load_root_public_key;
use fanlic_verifier::{
    Environment, RootKey,
    private_cloud::{AuthHeader, Client, JoinSecret, RequestKey, Status},
};
use serde_json::Value;

use container::{Podman, Serve, handshake_spki_sha256, hex, json, run, server_binary, tool, unix_now};

const COMPANY: &str = "Customer Trading Co., Ltd.";

impl Podman {
    /// A container of `tag` with its own config folder, on a free port; its
    /// base URL.
    fn start(&mut self, tag: &str, name: &str, config: &Path) -> String {
        fs::create_dir_all(config).unwrap();
        let port = free_port();
        run(self
            .cmd()
            .args(["run", "-d", "--name", name, "-p", &format!("127.0.0.1:{port}:18081"), "-v"])
            .arg(format!("{}:/app/config", config.display()))
            .args(["-e", "FANLIC_ADDRESSES=127.0.0.1", tag]));
        self.containers.push(name.to_owned());
        let base = format!("https://127.0.0.1:{port}");
        for _ in 0..150 {
            if curl(None, "GET", &format!("{base}/license/status"), None, None).0 == 200 {
                return base;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let logs = self.cmd().args(["logs", name]).output().unwrap();
        panic!("{name} did not answer within 30 s: {}", String::from_utf8_lossy(&logs.stderr));
    }
}

/// curl: (status, body), pinned to `pin` (SPEC.md §7.7) when given.
fn curl(pin: Option<&[u8; 32]>, method: &str, url: &str, json_body: Option<&str>, auth: Option<&str>) -> (u16, String) {
    let mut c = Command::new(tool("curl", "curl"));
    c.args(["-sk", "--max-time", "15", "-X", method, "-w", "\n%{http_code}", "-H", "Accept: application/json"]);
    if let Some(pin) = pin {
        c.arg("--pinnedpubkey").arg(format!("sha256//{}", base64::engine::general_purpose::STANDARD.encode(pin)));
    }
    if let Some(a) = auth {
        c.args(["-H", &format!("Authorization: {a}")]);
    }
    if let Some(b) = json_body {
        c.args(["-H", "Content-Type: application/json", "-d", b]);
    }
    let out = c.arg(url).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    (code.trim().parse().unwrap_or(0), body.to_owned())
}

/// An application node: the verifier's client, pinned over TLS (SPEC.md
/// §7.7), sending with the join secret's MAC; the status the client gives
/// an answer, or the server's causes.
fn send(
    client: &mut Client,
    roots: &[RootKey],
    base: &str,
    key: &RequestKey,
    kind: AnswerKind,
    seq: u8,
) -> Result<Status, Vec<String>> {
    let spki = handshake_spki_sha256(base);
    let (code, text) = curl(Some(&spki), "GET", &format!("{base}/api/v1/tls-binding"), None, None);
    assert_eq!(code, 200, "{text}");
    let binding =
        base64::engine::general_purpose::STANDARD.decode(json(&text)["tls_binding"].as_str().unwrap()).unwrap();
    client.on_tls_binding(&binding, roots, &spki).unwrap();
    let now = Timestamp(unix_now());
    let mut nonce = [seq; 16];
    nonce[..8].copy_from_slice(&now.0.to_be_bytes());
    let req = client.request(kind, nonce, now);
    let body = match kind {
        AnswerKind::Registered => serde_json::json!({
            "app_name": "FineReport", "version": "11.0.20", "project": "cloudproj",
            "node_id": hex(&req.node_id), "nonce": hex(&req.nonce),
        }),
        _ => serde_json::json!({ "node_id": hex(&req.node_id), "nonce": hex(&req.nonce) }),
    }
    .to_string();
    let auth = req.authorization(key, body.as_bytes(), Timestamp(unix_now()));
    let (code, text) =
        curl(Some(&spki), "POST", &format!("{base}{}", req.path()), Some(&body), Some(AuthHeader::as_str(&auth)));
    let v = json(&text);
    if code != 200 {
        return Err(v["causes"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap().to_owned()).collect());
    }
    let answer = base64::engine::general_purpose::STANDARD.decode(v["answer"].as_str().unwrap()).unwrap();
    let env = Environment {
        app_name: "FineReport",
        version: "11.0.20",
        project: "cloudproj",
        nodes: 1,
        method: LicenseKind::PrivateCloud,
        now: Timestamp(unix_now()),
        last_seen: None,
    };
    client.on_answer(&answer, roots, &env).map_err(|r| r.causes().map(|c| c.code().to_owned()).collect())
}

/// Opens `base`'s QR page in Chromium, presses the vendor button; what the
/// page then says (`ok: …` or `err: …`).
fn press_vendor_button(dir: &Path, base: &str) -> String {
    let mut browser = chromium::Chromium::open(dir, &format!("{base}/license/qrcode"));
    browser.wait_for("!!document.getElementById('vendor-activate') && document.readyState === 'complete'", 30);
    browser.eval("document.getElementById('vendor-activate').click()");
    let done = "(() => { const r = document.getElementById('vendor-result'); const b = document.getElementById('vendor-activate'); \
         return r.className === 'err' || (r.className === 'ok' && !b.disabled) || r.textContent.includes('succeeded'); })()";
    for _ in 0..300 {
        if browser.eval(done) == Value::Bool(true) {
            let shown = browser.eval("(() => { const r = document.getElementById('vendor-result'); return r.className + ': ' + r.textContent; })()");
            return shown.as_str().unwrap().to_owned();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // What the page did: its result, the button, what it loaded and fetched.
    let state = browser.eval(
        "JSON.stringify({result: document.getElementById('vendor-result').outerHTML, \
         disabled: document.getElementById('vendor-activate').disabled, \
         resources: performance.getEntriesByType('resource').map(e => e.name + ' ' + e.responseStatus + ' ' + Math.round(e.duration))})",
    );
    panic!("the page did not finish within 60 s: {state}; chromium said: {}", browser.log_text())
}

#[test]
fn two_containers_of_one_tar_under_receipt_policy_the_vendor_activates_only_the_first() {
    let server_bin = server_binary();
    tool("chromium", "chromium");
    let env = Env::temp();
    let mut podman = Podman::new(&env.dir.join("podman"));
    ok(&env, &["init", "--authserv-id", crate::common::AUTHSERV]);
    let serve_port = free_port();
    ok(&env, &["config", "--by", "test", "--activation-base-url", &format!("http://127.0.0.1:{serve_port}/a")]);
    ok(
        &env,
        &[
            "contract",
            "add",
            "--company",
            COMPANY,
            "--email",
            "alice@customer.example",
            "--signed",
            "2026/11/20",
            "--product",
            "FineReport",
            "--methods",
            "private-cloud",
            "--max-nodes",
            "2",
            "--version",
            "11.0",
            "--expires",
            "2099-12-31",
            "--max-licenses",
            "10",
            "--activation-policy",
            "receipt",
            "--lease-days",
            "30",
        ],
    );
    let tar = env.dir.join("fanruan_license_server.tar");
    let out = fanlic_cmd()
        .env("FANLIC_HOME", &env.home)
        .envs(env.database_env())
        .env("FANLIC_LICENSE_SERVER_BINARY", &server_bin)
        .args(["issue", "--company", COMPANY, "--project", "cloudproj", "--app", "FineReport", "--version", "11.0"])
        .args(["--kind", "private-cloud", "--nodes", "2", "--expires", "2099-12-31", "--signed", "2026/11/20"])
        .args(["--activation-policy", "receipt", "--json", "-o"])
        .arg(&tar)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let license_id = json(&String::from_utf8_lossy(&out.stdout))["license"]["license_id"].as_str().unwrap().to_owned();
    let tag = format!("fanruan/license-server:{license_id}");
    run(podman.cmd().args(["load", "-i"]).arg(&tar));
    let (config_a, config_b) = (env.dir.join("config-a"), env.dir.join("config-b"));
    let base_a = podman.start(&tag, &format!("fanlic-rcpt-a-{}", &license_id[..8]), &config_a);
    let base_b = podman.start(&tag, &format!("fanlic-rcpt-b-{}", &license_id[..8]), &config_b);

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

    // The first container: browser → vendor → server.
    let shown = press_vendor_button(&env.dir.join("chromium-a"), &base_a);
    assert!(shown.starts_with("ok: Activation succeeded"), "{shown}");
    let (_, status) = curl(None, "GET", &format!("{base_a}/license/status"), None, None);
    let status = json(&status);
    assert_eq!((status["activated"].as_bool(), status["activation_policy"].as_str()), (Some(true), Some("receipt")));
    let lease = status["lease_until"].as_u64().unwrap();
    assert!(lease > unix_now() + 29 * 86_400 && lease <= unix_now() + 30 * 86_400, "{status}");
    assert!(fs::read_to_string(config_a.join("activation-receipt")).unwrap().contains("BEGIN FANLIC RECEIPT"));

    // A node registers and beats; the client checks the receipt in every answer.
    let roots: Vec<RootKey> = fs::read_dir(env.home.join("public"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("root-"))
        .map(|p| load_root_public_key(&p).unwrap())
        .collect();
    let key_a = JoinSecret::parse(&fs::read_to_string(config_a.join("join-secret")).unwrap()).unwrap().request_key();
    let mut node = Client::new([0x42; 16]);
    let registered = send(&mut node, &roots, &base_a, &key_a, AnswerKind::Registered, 1);
    assert!(matches!(registered, Ok(Status::Registered { nodes: 1, .. })), "{registered:?}");
    let beat = send(&mut node, &roots, &base_a, &key_a, AnswerKind::Heartbeat, 2);
    assert!(matches!(beat, Ok(Status::Registered { .. })), "{beat:?}");

    // The second container of the same tar: the vendor refuses it, it serves no node.
    let shown = press_vendor_button(&env.dir.join("chromium-b"), &base_b);
    assert!(shown.starts_with("err: ") && shown.contains("(max_licenses_reached)"), "{shown}");
    let (_, status) = curl(None, "GET", &format!("{base_b}/license/status"), None, None);
    assert_eq!(json(&status)["activated"], false, "{status}");
    assert!(!config_b.join("activation-receipt").exists());
    let key_b = JoinSecret::parse(&fs::read_to_string(config_b.join("join-secret")).unwrap()).unwrap().request_key();
    let refused = send(&mut Client::new([0x43; 16]), &roots, &base_b, &key_b, AnswerKind::Registered, 3).unwrap_err();
    assert_eq!(refused, ["not_activated"]);
}

//! Activation by receipt (SPEC.md §6.4, §7.1) against the real binary over
//! real HTTPS: headless Chromium loads the QR page, presses "Activate
//! through the vendor's service", its script fetches a receipt from a
//! vendor's `/receipt` (here a stand-in that signs with TEST-ONLY keys, on
//! plain HTTP at 127.0.0.1 like `fanlic serve`'s default) and posts it to the
//! server, which then registers a node and hands the receipt to it in every
//! answer. The upload form's path with curl: CSRF, Origin, the checks, the
//! stored `activation-receipt`, a restart. Needs `chromium`, `curl`.

use crate::chromium;

use core::sync::atomic::{AtomicU64, Ordering};

use std::{
    fs,
    io::{BufRead as _, BufReader, Read as _, Write as _},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{SystemTime, UNIX_EPOCH},
};

use crate::common::{ReceiptTerms, fixture_with, revocation_file, sign_receipt, write_license_dir};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use fanlic_formats::{
    ActivationPolicy,
    activation::{ActivationChallenge, MAX_TOKEN_LEN},
    private_cloud::{ServerAnswerEnvelope, instance_fingerprint},
    receipt::ReceiptEnvelope,
};
use fanlic_verifier::{activation::token_from_url, private_cloud::JoinSecret};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex32(s: &str) -> [u8; 32] {
    let v: Vec<u8> = (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect();
    v.try_into().unwrap()
}

struct Server {
    child: Child,
    base: String,
    stderr: PathBuf,
}

impl Server {
    fn start(license_dir: &Path, config_dir: &Path, log: &Path, base_url: &str) -> Self {
        let mut c = Command::new(env!("CARGO_BIN_EXE_fanruan-license-server"));
        for var in ["FANLIC_PORT", "FANLIC_LISTEN_ADDRESS", "FANLIC_ADDRESSES", "FANLIC_ACTIVATION_BASE_URL"] {
            c.env_remove(var);
        }
        let mut child = c
            .arg("--license-dir")
            .arg(license_dir)
            .arg("--config-dir")
            .arg(config_dir)
            .args(["--port", "0", "--listen-address", "127.0.0.1", "--addresses", "127.0.0.1"])
            .args(["--activation-base-url", base_url])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().strip_prefix("listening on https://").unwrap_or_else(|| {
            panic!("unexpected first line {line:?}; stderr: {}", fs::read_to_string(log).unwrap_or_default())
        });
        Self { child, base: format!("https://{addr}"), stderr: log.to_owned() }
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the stand-in vendor saw of one request.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    headers: String,
}

/// A stand-in for `fanlic serve`'s `POST /receipt` (SPEC.md §6.3): reads the
/// token and the instance key, signs a TEST-ONLY receipt for them, answers
/// JSON with `Access-Control-Allow-Origin: *`.
struct Vendor {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

fn vendor(lease_secs: Option<u64>) -> Vendor {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/a", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        let f = fixture_with(2, ActivationPolicy::Receipt);
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut r = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let len = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
                .map_or(0, |v| v.parse().unwrap());
            let mut body = vec![0u8; len];
            r.read_exact(&mut body).unwrap();
            let method = head.split(' ').next().unwrap_or("").to_owned();
            log.lock().unwrap().push(Seen { method: method.clone(), headers: head.clone() });
            let (status, answer) = if method == "POST" { sign(&f, &body, lease_secs) } else { (204, String::new()) };
            let resp = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nAccess-Control-Allow-Origin: *\r\n\
                 Access-Control-Allow-Methods: POST\r\nAccess-Control-Allow-Headers: Content-Type\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
            let _ = stream.write_all(resp.as_bytes());
        }
    });
    Vendor { base, seen }
}

/// The vendor's side: the token's challenge, the instance key whose
/// fingerprint it names, a receipt.
fn sign(f: &crate::common::Fixture, body: &[u8], lease_secs: Option<u64>) -> (u16, String) {
    let text = String::from_utf8_lossy(body);
    let mut lines = text.lines();
    let token_text = lines.next().unwrap_or("").trim();
    let key = lines.find_map(|l| l.strip_prefix("instance-key ")).map(|k| unhex32(k.trim()));
    let mut buf = [0u8; MAX_TOKEN_LEN];
    let Ok(token) = token_from_url(token_text, &mut buf) else {
        return (
            400,
            json!({"status": "refused", "reasons": [{"code": "malformed", "message": "no token"}]}).to_string(),
        );
    };
    let c = ActivationChallenge::decode(&token[1..token.len() - 32]).unwrap();
    let Some(key) = key.filter(|k| Some(instance_fingerprint(k)) == c.server.map(|s| s.instance_fingerprint)) else {
        let reason =
            json!({"code": "instance_key_missing", "message": "no instance key of the challenge's fingerprint"});
        return (400, json!({"status": "refused", "reasons": [reason]}).to_string());
    };
    let vendor_time = now();
    let (armored, id) = sign_receipt(
        f,
        &ReceiptTerms {
            challenge_sha256: Sha256::digest(token).into(),
            instance_public_key: Some(key),
            previous_receipt: c.previous_receipt,
            vendor_time,
            lease_until: lease_secs.map(|s| vendor_time + s),
            max_nodes: 2,
            revocation_list: None,
        },
    );
    let v = json!({"status": "activated", "receipt": armored, "receipt_id": hex(&id), "lease_until": null});
    (200, v.to_string())
}

fn curl(args: &[&str]) -> (u16, String) {
    let out =
        Command::new("curl").args(["-sk", "--max-time", "20", "-w", "\n%{http_code}"]).args(args).output().unwrap();
    assert!(out.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.parse().unwrap(), body.to_owned())
}

fn status_json(server: &Server) -> Value {
    let (status, body) = curl(&["-H", "Accept: application/json", &format!("{}/license/status", server.base)]);
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// A node registers with the join secret; the answer carries the receipt
/// (without a revocation list) whose id the status names.
static NONCES: AtomicU64 = AtomicU64::new(1);

fn register(server: &Server, config_dir: &Path) -> (u16, Value) {
    let key = JoinSecret::parse(&fs::read_to_string(config_dir.join("join-secret")).unwrap()).unwrap().request_key();
    let body = json!({"app_name": "FineReport", "version": "11.0.20", "project": "webroot",
        "node_id": hex(&[1; 16]), "nonce": hex(&[now().to_be_bytes(), NONCES.fetch_add(1, Ordering::Relaxed).to_be_bytes()].concat())})
    .to_string();
    let auth = key.authorization("/api/v1/register", now(), body.as_bytes());
    let (status, text) = curl(&[
        "-H",
        "Content-Type: application/json",
        "-H",
        &format!("Authorization: {}", auth.as_str()),
        "--data-binary",
        &body,
        &format!("{}/api/v1/register", server.base),
    ]);
    (status, serde_json::from_str(&text).unwrap())
}

fn tool(name: &str, hint: &str) {
    let found = Command::new("sh").args(["-c", &format!("command -v {name}")]).output().unwrap().status.success();
    assert!(found, "`{name}` is needed by this test: {hint}");
}

/// SPEC.md §7.1 "Activation by receipt": the button's script carries the
/// receipt from the vendor to the server through the admin's browser; the
/// vendor gets the token and the instance key, no credentials, and the
/// server's page is the only one that talks to the server.
#[test]
fn chromium_carries_a_receipt_from_the_vendor_to_the_server() {
    tool("chromium", "apt-get install -y --no-install-recommends chromium");
    tool("curl", "apt-get install -y curl");
    let tmp = tempfile::tempdir().unwrap();
    let (license_dir, config_dir) = (tmp.path().join("license"), tmp.path().join("config"));
    write_license_dir(&license_dir, &fixture_with(2, ActivationPolicy::Receipt));
    let vendor = vendor(Some(90 * 86_400));
    let server = Server::start(&license_dir, &config_dir, &tmp.path().join("server.log"), &vendor.base);
    let (status, _) = register(&server, &config_dir);
    assert_eq!(status, 403, "not activated yet");

    // The page's CSP lets its script reach the vendor's origin and this server only.
    let out = Command::new("curl")
        .args(["-sk", "-D", "-", "-o", "/dev/null", &format!("{}/license/qrcode", server.base)])
        .output()
        .unwrap();
    let headers = String::from_utf8_lossy(&out.stdout).to_ascii_lowercase();
    let origin = vendor.base.trim_end_matches("/a");
    assert!(headers.contains(&format!("connect-src 'self' {origin}\r\n")), "{headers}");
    assert!(headers.contains("script-src 'self';"), "{headers}");

    let mut browser =
        chromium::Chromium::open(&tmp.path().join("chromium"), &format!("{}/license/qrcode", server.base));
    browser.wait_for("!!document.getElementById('vendor-activate') && document.readyState === 'complete'", 30);
    browser.eval("document.getElementById('vendor-activate').click()");
    let shown = browser.wait_for(
        "(() => { const r = document.getElementById('vendor-result'); \
         return r.className === 'err' ? 'refused: ' + r.textContent \
         : (r.textContent.includes('succeeded') ? r.textContent : ''); })()",
        30,
    );
    let shown = shown.as_str().unwrap().to_owned();
    assert!(shown.starts_with("Activation succeeded"), "{shown}; server log: {}", server.log());
    let secret = browser.eval("document.getElementById('vendor-join-secret').textContent");
    assert_eq!(secret.as_str().unwrap(), fs::read_to_string(config_dir.join("join-secret")).unwrap().trim());
    drop(browser);

    // The vendor saw a simple CORS request: no cookie, the page's origin.
    let seen = vendor.seen.lock().unwrap().clone();
    let post = seen.iter().find(|s| s.method == "POST").expect("the browser posted to the vendor");
    let h = post.headers.to_ascii_lowercase();
    assert!(!h.contains("\ncookie:"), "{h}");
    assert!(h.contains(&format!("\norigin: {}", server.base)), "{h}");

    // Activated, the receipt stored, its lease shown.
    let st = status_json(&server);
    assert_eq!((st["activated"].as_bool(), st["activation_policy"].as_str()), (Some(true), Some("receipt")));
    let receipt_id = st["receipt_id"].as_str().unwrap().to_owned();
    assert!(st["lease_until"].as_u64().unwrap() > now() + 89 * 86_400);
    let stored = fs::read_to_string(config_dir.join("activation-receipt")).unwrap();
    assert!(stored.contains("\n-----BEGIN FANLIC RECEIPT-----\n"), "{stored}");

    // A node registers; its answer carries the receipt.
    let (status, v) = register(&server, &config_dir);
    assert_eq!(status, 200, "{v}");
    let answer = STANDARD.decode(v["answer"].as_str().unwrap()).unwrap();
    let env = ServerAnswerEnvelope::decode(&answer).unwrap();
    let carried = ReceiptEnvelope::decode(env.receipt.expect("the answer carries the receipt")).unwrap();
    assert_eq!(hex(&carried.id()), receipt_id);
    assert!(carried.revocation_list.is_none());
}

/// The QR page's token, instance key and CSRF token, as curl gets them.
fn page_parts(server: &Server) -> (String, [u8; 32], String) {
    let (status, html) = curl(&[&format!("{}/license/qrcode", server.base)]);
    assert_eq!(status, 200, "{html}");
    let attr = |name: &str| {
        html.split(&format!("{name}=\""))
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_else(|| panic!("no {name}: {html}"))
            .to_owned()
    };
    (attr("data-token"), unhex32(&attr("data-instance-key")), attr("name=\"csrf\" value"))
}

/// The challenge of a token text: its SHA-256 and the receipt it names.
fn challenge_of(token_text: &str) -> ([u8; 32], Option<[u8; 32]>) {
    let mut buf = [0u8; MAX_TOKEN_LEN];
    let token = token_from_url(token_text, &mut buf).unwrap();
    let c = ActivationChallenge::decode(&token[1..token.len() - 32]).unwrap();
    (Sha256::digest(token).into(), c.previous_receipt)
}

/// `POST /license/receipt` as the page's script does (JSON answer), with
/// extra headers.
fn post_receipt(server: &Server, csrf: &str, armored: &str, headers: &[&str]) -> (u16, Value) {
    let url = format!("{}/license/receipt", server.base);
    let csrf = format!("csrf={csrf}");
    let receipt = format!("receipt={armored}");
    let mut args = vec!["-H", "Accept: application/json", "--data", &csrf, "--data-urlencode", &receipt];
    for h in headers {
        args.extend(["-H", h]);
    }
    args.push(&url);
    let (status, body) = curl(&args);
    (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}")))
}

/// SPEC.md §7.1, §7.3: the upload path. A receipt counts only for a QR code
/// this server shows, once, for its own instance key, after the receipt it
/// holds, within its lease; the form needs the page's CSRF token and no
/// foreign Origin; 6-digit codes are refused. The accepted receipt is kept
/// in `activation-receipt`, checked again at the next start, and the next
/// challenge names it; a damaged one stops the start.
#[test]
fn the_upload_form_accepts_a_receipt_once_for_this_server_and_keeps_it() {
    tool("curl", "apt-get install -y curl");
    let tmp = tempfile::tempdir().unwrap();
    let (license_dir, config_dir) = (tmp.path().join("license"), tmp.path().join("config"));
    let f = fixture_with(2, ActivationPolicy::Receipt);
    write_license_dir(&license_dir, &f);
    let base_url = "https://activate.example.invalid/a";
    let server = Server::start(&license_dir, &config_dir, &tmp.path().join("server.log"), base_url);
    let (token, instance, csrf) = page_parts(&server);
    let (challenge, previous) = challenge_of(&token);
    assert_eq!(previous, None, "a first challenge names no receipt");
    let terms = ReceiptTerms {
        challenge_sha256: challenge,
        instance_public_key: Some(instance),
        previous_receipt: None,
        vendor_time: now(),
        lease_until: Some(now() + 30 * 86_400),
        max_nodes: 2,
        revocation_list: None,
    };

    // No 6-digit code is taken.
    let (status, page) =
        curl(&["--data", &format!("csrf={csrf}&code=123456"), &format!("{}/license/code", server.base)]);
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("cannot check codes"), "{page}");

    let refused = |t: &ReceiptTerms, headers: &[&str], csrf: &str| {
        let (armored, _) = sign_receipt(&f, t);
        let (status, v) = post_receipt(&server, csrf, &armored, headers);
        assert_ne!(status, 200, "{v}");
        v["code"].as_str().unwrap().to_owned()
    };
    assert_eq!(refused(&terms, &[], "0000"), "cross_origin", "no CSRF token");
    assert_eq!(refused(&terms, &["Origin: https://evil.example"], &csrf), "cross_origin");
    let other = ReceiptTerms { challenge_sha256: [7; 32], ..terms.clone() };
    assert_eq!(refused(&other, &[], &csrf), "receipt_challenge_mismatch", "a QR code never shown");
    let other = ReceiptTerms { instance_public_key: Some(f.image.public()), ..terms.clone() };
    assert_eq!(refused(&other, &[], &csrf), "receipt_instance_mismatch");
    let other = ReceiptTerms { previous_receipt: Some([2; 32]), ..terms.clone() };
    assert_eq!(refused(&other, &[], &csrf), "receipt_previous_mismatch");
    let other = ReceiptTerms { vendor_time: now() - 100, lease_until: Some(now() - 50), ..terms.clone() };
    assert_eq!(refused(&other, &[], &csrf), "lease_expired");
    let other = ReceiptTerms { max_nodes: 3, ..terms.clone() };
    assert_eq!(refused(&other, &[], &csrf), "receipt_license_mismatch");
    let mut tampered = sign_receipt(&f, &terms).0.into_bytes();
    let i = tampered.len() - 60;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let (_, v) = post_receipt(&server, &csrf, core::str::from_utf8(&tampered).unwrap(), &[]);
    assert!(v["code"].as_str().unwrap().starts_with("receipt_"), "{v}");
    // A receipt may carry a revocation list: bodies over the 64 KiB of the
    // other routes are read, up to 256 KiB.
    let big = tmp.path().join("big-receipt");
    fs::write(&big, "A".repeat(150 * 1024)).unwrap();
    let (status, body) = curl(&[
        "-H",
        "Accept: application/json",
        "--data",
        &format!("csrf={csrf}"),
        "--data-urlencode",
        &format!("receipt@{}", big.display()),
        &format!("{}/license/receipt", server.base),
    ]);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("\"receipt_malformed\""), "{body}");
    assert_eq!(status_json(&server)["activated"], false, "nothing refused changed anything");

    // The form as a browser sends it: CRLF line ends from a textarea.
    let (good, id) = sign_receipt(&f, &terms);
    let form = format!("receipt={}", good.replace('\n', "\r\n"));
    let (status, page) = curl(&[
        "--data",
        &format!("csrf={csrf}"),
        "--data-urlencode",
        &form,
        &format!("{}/license/receipt", server.base),
    ]);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Activation succeeded") && page.contains("id=\"join-secret\""), "{page}");
    let (status, v) = post_receipt(&server, &csrf, &good, &[]);
    assert_eq!((status, v["code"].as_str()), (409, Some("receipt_challenge_mismatch")), "counted once");
    let st = status_json(&server);
    assert_eq!((st["activated"].as_bool(), st["receipt_id"].as_str()), (Some(true), Some(hex(&id).as_str())));
    let (_, status_page) = curl(&["-H", "Accept: text/html", &format!("{}/license/status", server.base)]);
    assert!(status_page.contains("Re-activation due"), "{status_page}");
    assert_eq!(register(&server, &config_dir).0, 200);

    // A restart keeps the receipt; the next challenge names it.
    drop(server);
    let server = Server::start(&license_dir, &config_dir, &tmp.path().join("server2.log"), base_url);
    assert_eq!(status_json(&server)["receipt_id"].as_str(), Some(hex(&id).as_str()));
    let (token, _, _) = page_parts(&server);
    assert_eq!(challenge_of(&token).1, Some(id), "re-activation follows the receipt held");
    drop(server);

    // A receipt file that no longer verifies stops the start.
    fs::write(config_dir.join("activation-receipt"), core::str::from_utf8(&tampered).unwrap()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_fanruan-license-server"))
        .arg("--license-dir")
        .arg(&license_dir)
        .arg("--config-dir")
        .arg(&config_dir)
        .args(["--port", "0", "--listen-address", "127.0.0.1", "--activation-base-url", base_url])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("activation-receipt"), "{err}");
}

/// SPEC.md §6.4, §7.3: the revocation list a receipt delivers is applied. A
/// list that revokes another license changes nothing; one that revokes this
/// server's license is kept with the receipt, and the server then serves no
/// node (`revoked`), also after a restart.
#[test]
fn a_receipt_whose_revocation_list_revokes_the_license_leaves_the_server_serving_nothing() {
    tool("curl", "apt-get install -y curl");
    let tmp = tempfile::tempdir().unwrap();
    let (license_dir, config_dir) = (tmp.path().join("license"), tmp.path().join("config"));
    let f = fixture_with(2, ActivationPolicy::Receipt);
    write_license_dir(&license_dir, &f);
    let base_url = "https://activate.example.invalid/a";
    let server = Server::start(&license_dir, &config_dir, &tmp.path().join("server.log"), base_url);

    // Another license revoked: activated, a node registers.
    let (token, instance, csrf) = page_parts(&server);
    let other = revocation_file(&f, 3, now() - 60, &[fanlic_formats::LicenseId([0x11; 16])]);
    let t = ReceiptTerms {
        challenge_sha256: challenge_of(&token).0,
        instance_public_key: Some(instance),
        previous_receipt: None,
        vendor_time: now(),
        lease_until: None,
        max_nodes: 2,
        revocation_list: Some((other, 3)),
    };
    let (armored, first) = sign_receipt(&f, &t);
    let (status, v) = post_receipt(&server, &csrf, &armored, &[]);
    assert_eq!(status, 200, "{v}");
    assert_eq!(register(&server, &config_dir).0, 200);

    // This license revoked: the receipt is kept, nothing is served.
    let (token, _, csrf) = page_parts(&server);
    assert_eq!(challenge_of(&token).1, Some(first));
    let revoking = revocation_file(&f, 4, now() - 30, &[f.license_id()]);
    let t = ReceiptTerms {
        challenge_sha256: challenge_of(&token).0,
        previous_receipt: Some(first),
        revocation_list: Some((revoking, 4)),
        ..t
    };
    let (armored, revoking_id) = sign_receipt(&f, &t);
    let (status, v) = post_receipt(&server, &csrf, &armored, &[]);
    assert_eq!((status, v["code"].as_str()), (403, Some("revoked")), "{v}");
    let st = status_json(&server);
    assert_eq!((st["revoked"].as_bool(), st["activated"].as_bool()), (Some(true), Some(false)), "{st}");
    assert_eq!(st["receipt_id"].as_str(), Some(hex(&revoking_id).as_str()), "kept: the next challenge names it");
    let (status, v) = register(&server, &config_dir);
    assert_eq!(status, 403, "{v}");
    assert_eq!(v["causes"][0]["code"], "revoked", "{v}");
    drop(server);
    let server = Server::start(&license_dir, &config_dir, &tmp.path().join("server2.log"), base_url);
    assert_eq!(status_json(&server)["revoked"], true, "kept across a restart");
    assert_eq!(register(&server, &config_dir).1["causes"][0]["code"], "revoked");
}

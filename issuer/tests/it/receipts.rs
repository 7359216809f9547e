//! Activation receipts from `fanlic serve` end to end (SPEC.md §6.3, §6.4):
//! a real server process, curl as the browser's `fetch`, the formats
//! decoder and OpenSSL on the receipt, the fork refusal and its alert, the
//! local burst alert, the lease reminder over a real SMTP server (aiosmtpd).

use crate::common::chromium;

use std::{
    fs,
    io::{BufRead as _, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{SystemTime, UNIX_EPOCH},
};

use crate::common::{Env, fanlic, fanlic_cmd, ok};
use base64::Engine as _;
use fanlic_formats::{
    IssuingKeyCertificate, LicenseId, MAX_LICENSE_FILE_LEN,
    activation::{ActivationChallenge, ChallengeBodyWire, ServerInstance},
    armor,
    receipt::{MAX_RECEIPT_FILE_LEN, Receipt, ReceiptEnvelope},
};
use fanlic_issuer::home::load_root_public_key;
use fanlic_verifier::authenticate;
use serde_json::Value;

const COMPANY: &str = "Receipt Trading Co., Ltd.";
const ADDR: &str = "ops@receipt.example";

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn sha256(b: &[u8]) -> [u8; 32] {
    ring::digest::digest(&ring::digest::SHA256, b).as_ref().try_into().unwrap()
}

/// A running `fanlic serve`, killed when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(env: &Env) -> Self {
        let log = env.dir.join("serve.log");
        let mut child = fanlic_cmd()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("FANLIC_HOME", &env.home)
            .envs(env.database_env())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        let addr = first.strip_prefix("listening on http://").unwrap().trim().to_owned();
        Self { child, addr }
    }
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn codes(&self) -> Vec<String> {
        let v = self.json();
        assert_eq!(v["status"], "refused", "{v}");
        v["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap().to_owned()).collect()
    }

    fn cors_headers(&self) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.to_ascii_lowercase().starts_with("access-control-"))
            .map(|(n, _)| n.as_str())
            .collect()
    }
}

/// One request with curl (what a browser's `fetch` sends: an `Origin`, a
/// text body), its status, headers and body.
fn curl(method: &str, url: &str, accept_json: bool, body: Option<&str>) -> Resp {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-i", "--max-time", "20", "-X", method, "-H", "Origin: https://server.customer.example"]);
    if accept_json {
        cmd.args(["-H", "Accept: application/json"]);
    }
    if let Some(b) = body {
        cmd.args(["-H", "Content-Type: text/plain", "--data-binary", b]);
    }
    let out = cmd.arg(url).output().expect("curl runs");
    assert!(out.status.success(), "curl {method} {url}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers =
        lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned())).collect();
    Resp { status, headers, body: body.to_owned() }
}

/// A home with a receipt-policy contract for [`COMPANY`] (both methods,
/// a private-cloud lease of `lease_days`).
fn home(lease_days: &str) -> Env {
    let env = Env::temp();
    ok(&env, &["init", "--authserv-id", crate::common::AUTHSERV]);
    ok(
        &env,
        &[
            "contract",
            "add",
            "--company",
            COMPANY,
            "--email",
            ADDR,
            "--signed",
            "2026/11/20",
            "--product",
            "FineReport",
            "--methods",
            "local-container,private-cloud",
            "--max-nodes",
            "3",
            "--version",
            "11.0",
            "--expires",
            "2099-12-31",
            "--max-licenses",
            "100",
            "--activation-policy",
            "receipt",
            "--lease-days",
            lease_days,
        ],
    );
    env
}

/// A license as the product holds it.
struct Lic {
    id: LicenseId,
    /// The key the license carries (the challenge key under the receipt policy).
    key: [u8; 32],
    raw: Vec<u8>,
}

fn issue(env: &Env, project: &str, kind: &str, policy: Option<&str>) -> Lic {
    let out = env.dir.join(format!("{project}.lic"));
    let mut args = vec![
        "issue",
        "--company",
        COMPANY,
        "--project",
        project,
        "--app",
        "FineReport",
        "--version",
        "11.0",
        "--kind",
        kind,
        "--nodes",
        "2",
        "--expires",
        "2099-12-31",
        "--signed",
        "2026/11/20",
        "-o",
        out.to_str().unwrap(),
    ];
    if let Some(p) = policy {
        args.extend(["--activation-policy", p]);
    }
    ok(env, &args);
    let roots: Vec<_> = fs::read_dir(env.home.join("public"))
        .unwrap()
        .map(|e| load_root_public_key(&e.unwrap().path()).unwrap())
        .collect();
    let text = fs::read(&out).unwrap();
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let raw = armor::decode(&text, &mut buf).unwrap().to_vec();
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let l = authenticate(&text, &mut buf, &roots).unwrap().license;
    Lic { id: l.id, key: l.activation_key.unwrap(), raw }
}

/// A challenge token (raw, text) MACed with the license's key; `server`:
/// an authorization server's instance key, naming `previous`.
fn token(lic: &Lic, seq: u8, server: Option<&[u8; 32]>, previous: Option<[u8; 32]>) -> (Vec<u8>, String) {
    let deployment: &[u8] = server.map_or(b"deployment-1", |k| k.as_slice());
    let fp = fanlic_verifier::activation::project_fingerprint("FineReport", "p", deployment).unwrap();
    let w = ChallengeBodyWire {
        license_id: lic.id.0,
        nonce: [seq; 16],
        node_id: [2; 16],
        project_fingerprint: fp,
        nodes: 1,
        app_version: "11.0.20",
        issued_at: unix_now(),
        server: server.map(|k| ServerInstance {
            instance_fingerprint: fanlic_formats::private_cloud::instance_fingerprint(k),
            generation: 1,
        }),
    };
    let mut buf = [0u8; 300];
    let body = ActivationChallenge::new(&w).unwrap().with_previous_receipt(previous).encode(&mut buf).unwrap().to_vec();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &lic.key);
    let mut msg = fanlic_formats::activation::CHALLENGE_LABEL.to_vec();
    msg.extend_from_slice(&body);
    let tag = ring::hmac::sign(&key, &msg);
    let mut raw = vec![1u8];
    raw.extend_from_slice(&body);
    raw.extend_from_slice(tag.as_ref());
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&raw);
    (raw, text)
}

/// The receipt of a successful answer, decoded, and its id.
fn decode_receipt(v: &Value) -> (Vec<u8>, Receipt, [u8; 32]) {
    assert_eq!(v["status"], "activated", "{v}");
    let armored = v["receipt"].as_str().unwrap();
    assert!(armored.contains("-----BEGIN FANLIC RECEIPT-----"), "{armored}");
    let mut buf = vec![0u8; MAX_RECEIPT_FILE_LEN];
    let raw = armor::decode_receipt(armored.as_bytes(), &mut buf).unwrap().to_vec();
    let env = ReceiptEnvelope::decode(&raw).unwrap();
    let r = Receipt::decode(env.receipt.message).unwrap();
    let id = env.id();
    assert_eq!(v["receipt_id"], fanlic_issuer::util::hex::encode(&id));
    (raw, r, id)
}

/// The root keys of the home, as products embed them.
fn roots(env: &Env) -> Vec<fanlic_verifier::RootKey> {
    fs::read_dir(env.home.join("public")).unwrap().map(|e| load_root_public_key(&e.unwrap().path()).unwrap()).collect()
}

/// The product's (or server's) check of a receipt (SPEC.md §6.4): Ok, or the
/// causes' codes.
fn verifier_accepts(
    env: &Env,
    lic: &Lic,
    armored: &str,
    token: &[u8],
    instance: Option<[u8; 32]>,
    previous: Option<Option<[u8; 32]>>,
) -> Result<(), String> {
    let mut lbuf = [0u8; MAX_LICENSE_FILE_LEN];
    let roots = roots(env);
    let signed = authenticate(&lic.raw, &mut lbuf, &roots).unwrap();
    let expect = fanlic_verifier::receipt::Expect {
        license: &signed.license,
        license_sha256: sha256(&lic.raw),
        issuing_key_id: signed.certificate.key_id,
        challenge_sha256: Some(sha256(token)),
        instance_public_key: instance,
        previous_receipt: previous,
        now: fanlic_formats::Timestamp(unix_now()),
    };
    let mut buf = vec![0u8; MAX_RECEIPT_FILE_LEN];
    fanlic_verifier::receipt::verify_receipt(armored.as_bytes(), &mut buf, &roots, &expect)
        .map(|_| ())
        .map_err(|e| e.causes().map(|c| c.code()).collect::<Vec<_>>().join(", "))
}

fn alerts(env: &Env) -> Vec<Value> {
    serde_json::from_str::<Value>(&ok(env, &["alerts", "--json"])).unwrap().as_array().unwrap().clone()
}

fn openssl_verifies(dir: &Path, name: &str, public_pem: &Path, message: &[u8], signature: &[u8; 64]) -> bool {
    let msg = dir.join(format!("{name}.msg"));
    let sig = dir.join(format!("{name}.sig"));
    fs::write(&msg, message).unwrap();
    fs::write(&sig, signature).unwrap();
    let out = Command::new("openssl")
        .args(["pkeyutl", "-verify", "-pubin", "-inkey"])
        .arg(public_pem)
        .arg("-rawin")
        .arg("-in")
        .arg(&msg)
        .arg("-sigfile")
        .arg(&sig)
        .output()
        .expect("openssl runs");
    out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Signature Verified Successfully")
}

/// A local container's receipt over `POST BASE/receipt`: CORS on that
/// endpoint only, a receipt the formats decoder reads and OpenSSL verifies
/// with the receipt key (certified by the root key for receipts only), the
/// same receipt from the phone's confirmation, recorded.
#[test]
fn receipt_endpoint_cors_decodes_and_openssl_verifies() {
    let env = home("30");
    let lic = issue(&env, "webroot", "local-container", None);
    let inspect: Value =
        serde_json::from_str(&ok(&env, &["inspect", env.dir.join("webroot.lic").to_str().unwrap(), "--json"])).unwrap();
    assert_eq!(inspect["license"]["activation_policy"], "receipt", "{inspect}");
    let server = Server::start(&env);
    let base = format!("http://{}/a", server.addr);

    // The preflight a browser sends before a cross-origin POST.
    let pre = curl("OPTIONS", &format!("{base}/receipt"), false, None);
    assert_eq!(pre.status, 204);
    assert_eq!(pre.header("access-control-allow-origin"), Some("*"));
    assert_eq!(pre.header("access-control-allow-methods"), Some("POST"));
    assert_eq!(pre.header("access-control-allow-headers"), Some("Content-Type"));
    assert_eq!(pre.header("access-control-allow-credentials"), None);

    let (raw, text) = token(&lic, 1, None, None);
    let before = unix_now();
    let r = curl("POST", &format!("{base}/receipt"), false, Some(&text));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert!(r.header("content-type").unwrap().starts_with("application/json"));
    let v = r.json();
    assert_eq!(v["license_id"], lic.id.to_string());
    assert_eq!(v["lease_until"], Value::Null, "no lease for a local container");
    let (file, receipt, _) = decode_receipt(&v);
    assert_eq!(receipt.license_id, lic.id);
    assert_eq!(receipt.license_sha256, sha256(&lic.raw));
    assert_eq!(receipt.challenge_sha256, sha256(&raw));
    assert_eq!(receipt.instance_public_key, None);
    assert_eq!(receipt.max_nodes, 2);
    assert!(receipt.vendor_time.0 >= before && receipt.vendor_time.0 <= unix_now());
    assert_eq!(receipt.revocation_sequence, 0);
    // The product's verifier accepts it for its pending challenge.
    verifier_accepts(&env, &lic, v["receipt"].as_str().unwrap(), &raw, None, None).unwrap();

    // OpenSSL: the root key signed the certificate, which grants receipts
    // only for 30 days, and the receipt key signed the receipt.
    let envelope = ReceiptEnvelope::decode(&file).unwrap();
    assert_eq!(envelope.revocation_list, None);
    let cert = IssuingKeyCertificate::decode(envelope.certificate.message).unwrap();
    assert_eq!(cert.purposes.0, 0x8);
    assert_eq!(cert.not_after.0 - cert.not_before.0, 30 * 86_400);
    let key_pem = env.home.join(format!("receipt-keys/receipt-{}.pub.pem", cert.key_id));
    assert!(openssl_verifies(&env.dir, "receipt", &key_pem, envelope.receipt.message, &envelope.receipt.signature));
    let root_pem = env.home.join(format!("public/root-{}.pub.pem", cert.root_key_id));
    assert!(openssl_verifies(
        &env.dir,
        "cert",
        &root_pem,
        envelope.certificate.message,
        &envelope.certificate.signature
    ));
    let mut forged = envelope.receipt.message.to_vec();
    forged[40] ^= 1;
    assert!(!openssl_verifies(&env.dir, "forged", &key_pem, &forged, &envelope.receipt.signature));

    // The phone's confirmation gives a receipt, not a code: JSON and page.
    let (_, text2) = token(&lic, 2, None, None);
    let confirm = curl("POST", &format!("{base}/{text2}"), true, None);
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    let v = confirm.json();
    assert!(v.get("code").is_none(), "{v}");
    decode_receipt(&v);
    let (_, text3) = token(&lic, 3, None, None);
    let page = curl("POST", &format!("{base}/{text3}"), false, None);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("-----BEGIN FANLIC RECEIPT-----"), "{}", page.body);
    assert!(page.body.contains("download=\"receipt.fanlic\""), "{}", page.body);
    assert!(!page.body.contains("class=\"digits\""));

    // No other endpoint sends a CORS header, whatever it answers.
    let (_, text4) = token(&lic, 4, None, None);
    for (method, url) in [
        ("GET", format!("http://{}/healthz", server.addr)),
        ("GET", format!("http://{}/revocations.bin", server.addr)),
        ("GET", format!("{base}/{text4}")),
        ("POST", format!("{base}/{text4}")),
        ("OPTIONS", format!("{base}/{text4}")),
        ("GET", format!("{base}/not-a-token")),
    ] {
        let r = curl(method, &url, true, None);
        assert!(r.cors_headers().is_empty(), "{method} {url}: {:?}", r.headers);
    }
    let n: i64 = rusqlite::Connection::open(env.home.join("fanlic.db"))
        .unwrap()
        .query_row("SELECT count(*) FROM receipts WHERE license_id = ?1", [lic.id.to_string()], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 4);
}

/// A code-policy license gets `wrong_policy` at the receipt endpoint; a
/// local container's binding alerts staff at its 11th receipt in a day;
/// a revoked receipt-policy license is refused.
#[test]
fn wrong_policy_local_burst_alert_and_revoked() {
    let env = home("30");
    let code_lic = issue(&env, "by-code", "local-container", Some("code"));
    let lic = issue(&env, "webroot", "local-container", None);
    let other = issue(&env, "other", "local-container", None);
    let server = Server::start(&env);
    let url = format!("http://{}/a/receipt", server.addr);

    let r = curl("POST", &url, false, Some(&token(&code_lic, 1, None, None).1));
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.codes(), ["wrong_policy"]);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"), "refusals are readable by the page too");

    for seq in 1..=10 {
        let r = curl("POST", &url, false, Some(&token(&lic, seq, None, None).1));
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert!(alerts(&env).is_empty(), "10 receipts a day is within the threshold");
    let r = curl("POST", &url, false, Some(&token(&lic, 11, None, None).1));
    assert_eq!(r.status, 200, "the 11th is issued, and alerts staff");
    let a = alerts(&env);
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0]["kind"], "receipt_burst");
    assert_eq!(a[0]["license_id"], lic.id.to_string());
    curl("POST", &url, false, Some(&token(&lic, 12, None, None).1));
    assert_eq!(alerts(&env).len(), 1, "one open alert per license and kind");
    let review = fanlic(&env, &["review"], None);
    assert!(String::from_utf8_lossy(&review.stderr).contains("1 open alert(s)"), "{review:?}");

    ok(&env, &["revoke", &lic.id.to_string(), "--reason", "test", "--no-mail", "--by", "staff"]);
    let r = curl("POST", &url, false, Some(&token(&lic, 13, None, None).1));
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.codes(), ["revoked"]);

    // Once a list is exported, every receipt carries it with its sequence.
    let list_file = env.dir.join("revocations.bin");
    ok(&env, &["revocations", "export", "-o", list_file.to_str().unwrap()]);
    let r = curl("POST", &url, false, Some(&token(&other, 1, None, None).1));
    assert_eq!(r.status, 200, "{}", r.body);
    let (file, receipt, _) = decode_receipt(&r.json());
    assert_eq!(receipt.revocation_sequence, 1);
    assert_eq!(ReceiptEnvelope::decode(&file).unwrap().revocation_list, Some(&fs::read(&list_file).unwrap()[..]));
}

/// An authorization server's chain of receipts: each names the one before;
/// a copy that asks with an older receipt (or none) is refused `forked`,
/// flagged for staff and gets nothing; the lease is the contract's, and its
/// reminder (only the newest receipt's) reaches the contract's address.
#[test]
fn server_chain_fork_refused_and_lease_reminder_mailed() {
    let env = home("1");
    let lic = issue(&env, "cloud", "private-cloud", None);
    let server = Server::start(&env);
    let url = format!("http://{}/a/receipt", server.addr);
    let instance = [7u8; 32];
    let with_key = |t: String| format!("{t}\ninstance-key {}\n", fanlic_issuer::util::hex::encode(&instance));

    let r = curl("POST", &url, false, Some(&token(&lic, 1, Some(&instance), None).1));
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.codes(), ["instance_key_missing"]);

    let r = curl("POST", &url, false, Some(&with_key(token(&lic, 2, Some(&instance), None).1)));
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let (_, r1, id1) = decode_receipt(&v);
    assert_eq!(r1.instance_public_key, Some(instance));
    assert_eq!(r1.previous_receipt, None);
    assert_eq!(r1.lease_until.map(|t| t.0), Some(r1.vendor_time.0 + 86_400));
    assert_eq!(v["lease_until"], r1.vendor_time.0 + 86_400);

    let (raw2, text2) = token(&lic, 3, Some(&instance), Some(id1));
    let r = curl("POST", &url, false, Some(&with_key(text2)));
    assert_eq!(r.status, 200, "{}", r.body);
    let v2 = r.json();
    let (_, r2, id2) = decode_receipt(&v2);
    assert_eq!(r2.previous_receipt, Some(id1));
    // The server's verifier accepts it: its instance key, its receipt before.
    verifier_accepts(&env, &lic, v2["receipt"].as_str().unwrap(), &raw2, Some(instance), Some(Some(id1))).unwrap();
    assert!(
        verifier_accepts(&env, &lic, v2["receipt"].as_str().unwrap(), &raw2, Some([8; 32]), Some(Some(id1))).is_err()
    );

    // A copy still holding the first receipt, then one holding none.
    for (seq, previous) in [(4, Some(id1)), (5, None)] {
        let r = curl("POST", &url, false, Some(&with_key(token(&lic, seq, Some(&instance), previous).1)));
        assert_eq!(r.status, 409, "{}", r.body);
        assert_eq!(r.codes(), ["forked"]);
    }
    let a = alerts(&env);
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0]["kind"], "forked");
    assert_eq!(a[0]["license_id"], lic.id.to_string());
    let audit = ok(&env, &["audit", "--license", &lic.id.to_string(), "--action", "forked", "--json"]);
    assert!(audit.contains("forked"), "{audit}");
    let conn = rusqlite::Connection::open(env.home.join("fanlic.db")).unwrap();
    let receipts: i64 = conn.query_row("SELECT count(*) FROM receipts", [], |r| r.get(0)).unwrap();
    assert_eq!(receipts, 2, "a fork gets nothing");

    // The original goes on.
    let r = curl("POST", &url, false, Some(&with_key(token(&lic, 6, Some(&instance), Some(id2)).1)));
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, _, id3) = decode_receipt(&r.json());

    // The phone's path: the QR code's URL carries the instance key in its
    // query, the page's form carries it on, the confirmation gives the receipt.
    let (_, text) = token(&lic, 7, Some(&instance), Some(id3));
    let query = format!("?instance_key={}", fanlic_issuer::util::hex::encode(&instance));
    let page = curl("GET", &format!("http://{}/a/{text}{query}", server.addr), false, None);
    assert!(page.body.contains(&format!("action=\"./{text}{query}\"")), "{}", page.body);
    let r = curl("POST", &format!("http://{}/a/{text}{query}", server.addr), true, None);
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, r4, _) = decode_receipt(&r.json());
    assert_eq!((r4.instance_public_key, r4.previous_receipt), (Some(instance), Some(id3)));

    // One reminder pending: each newer receipt withdrew the one before. A
    // one-day lease is due at once (7 days before its end).
    let pending: i64 =
        conn.query_row("SELECT count(*) FROM outbox WHERE status = 'pending'", [], |r| r.get(0)).unwrap();
    assert_eq!(pending, 1);
    let maildir = env.dir.join("maildir");
    let port = crate::common::smtp::free_port();
    let _smtp = crate::common::smtp::SmtpServer::start(port, &maildir);
    let out = fanlic(
        &env,
        &["outbox", "flush", "--smtp-host", "127.0.0.1", "--smtp-port", &port.to_string(), "--smtp-tls", "none"],
        None,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mails: Vec<PathBuf> = fs::read_dir(maildir.join("new")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(mails.len(), 1);
    let mail = fs::read(&mails[0]).unwrap();
    let parsed = mail_parser::MessageParser::default().parse(&mail).unwrap();
    assert_eq!(parsed.header("X-RcptTo").and_then(|v| v.as_text()), Some(ADDR));
    let text = parsed.body_text(0).unwrap();
    assert!(text.contains(&lic.id.to_string()) && text.contains("activated again"), "{text}");
    assert!(text.contains("重新激活"), "{text}");
}

/// With no valid receipt key the service refuses receipts, naming the
/// command that makes one, and binds nothing; a key made while it runs is
/// used at once.
#[test]
fn no_valid_receipt_key_is_refused_until_one_is_made() {
    let env = home("30");
    let lic = issue(&env, "webroot", "local-container", None);
    let conn = rusqlite::Connection::open(env.home.join("fanlic.db")).unwrap();
    // The key of `init` has expired.
    conn.execute("UPDATE receipt_keys SET not_before = 1000, not_after = 2000", []).unwrap();
    let server = Server::start(&env);
    let url = format!("http://{}/a/receipt", server.addr);
    let r = curl("POST", &url, false, Some(&token(&lic, 1, None, None).1));
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.codes(), ["no_receipt_key"]);
    assert!(r.json()["reasons"][0]["message"].as_str().unwrap().contains("fanlic keys receipt-key"), "{}", r.body);
    let bound: i64 = conn.query_row("SELECT count(*) FROM activation_bindings", [], |r| r.get(0)).unwrap();
    assert_eq!(bound, 0);

    ok(&env, &["keys", "receipt-key", "--root-key", env.home.join("root-key").to_str().unwrap()]);
    let r = curl("POST", &url, false, Some(&token(&lic, 2, None, None).1));
    assert_eq!(r.status, 200, "{}", r.body);
    decode_receipt(&r.json());
}

/// A confirmation that fails after its binding was written (here the
/// receipt cannot be recorded) is an internal error and leaves nothing: the
/// binding is rolled back with the rest.
#[test]
fn a_receipt_that_cannot_be_recorded_binds_nothing() {
    let env = home("30");
    let lic = issue(&env, "webroot", "local-container", None);
    let conn = rusqlite::Connection::open(env.home.join("fanlic.db")).unwrap();
    conn.execute_batch("CREATE TRIGGER no_receipts BEFORE INSERT ON receipts BEGIN SELECT RAISE(ABORT, 'test'); END;")
        .unwrap();
    let server = Server::start(&env);
    let url = format!("http://{}/a/receipt", server.addr);
    let r = curl("POST", &url, false, Some(&token(&lic, 1, None, None).1));
    assert_eq!(r.status, 500, "{}", r.body);
    assert_eq!(r.codes(), ["internal_error"]);
    for table in ["activation_bindings", "receipts", "activations"] {
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap();
        assert_eq!(n, 0, "{table}");
    }
}

/// The phone path of a receipt-policy local container, in headless
/// Chromium: the activation page shows the terms and binds nothing until
/// the person confirms; the confirmation page then offers the receipt as a
/// download (`receipt.fanlic`, a `data:` link, no script), and the file
/// the browser saves is exactly the receipt shown, which the product's
/// verifier accepts for its pending challenge.
#[test]
fn chromium_downloads_the_receipt_the_confirmation_page_offers() {
    let env = home("30");
    let lic = issue(&env, "phone-path", "local-container", None);
    let server = Server::start(&env);
    let (raw, text) = token(&lic, 9, None, None);
    let mut browser = chromium::Chromium::open(&env.dir.join("chromium"), &format!("http://{}/a/{text}", server.addr));
    let downloads = env.dir.join("downloads");
    browser.allow_downloads(&downloads);

    // Before the confirmation: the terms, and nothing bound.
    browser.wait_for("document.readyState === 'complete' && !!document.querySelector('form')", 30);
    let page = browser.eval("document.body.innerText");
    let page = page.as_str().unwrap();
    assert!(page.contains(COMPANY) && page.contains("phone-path") && page.contains("FineReport"), "{page}");
    let bound = || {
        let db = rusqlite::Connection::open(env.home.join("fanlic.db")).unwrap();
        let n: i64 = db.query_row("SELECT count(*) FROM receipts", [], |r| r.get(0)).unwrap();
        let b: i64 = db.query_row("SELECT count(*) FROM activation_bindings", [], |r| r.get(0)).unwrap();
        (n, b) != (0, 0)
    };
    assert!(!bound(), "the page bound the license before the person confirmed");

    browser.eval("document.querySelector('form').requestSubmit()");
    browser.wait_for("!!document.querySelector('a[download]') && document.readyState === 'complete'", 30);
    let shown = browser.eval("document.querySelector('pre').textContent");
    let shown = shown.as_str().unwrap().to_owned();
    assert!(shown.contains("\n-----BEGIN FANLIC RECEIPT-----\n"), "{shown}");
    let link = browser.eval("document.querySelector('a[download]').getAttribute('download')");
    assert_eq!(link, "receipt.fanlic");

    browser.eval("document.querySelector('a[download]').click()");
    let saved = downloads.join("receipt.fanlic");
    let start = std::time::Instant::now();
    while !saved.is_file() {
        assert!(start.elapsed().as_secs() < 30, "no download within 30 s; chromium said: {}", browser.log_text());
        std::thread::sleep(core::time::Duration::from_millis(100));
    }
    // Chromium writes a .crdownload first and renames it when complete.
    let file = fs::read_to_string(&saved).unwrap();
    assert_eq!(file.trim_end(), shown.trim_end(), "the saved file is not the receipt shown");
    verifier_accepts(&env, &lic, &file, &raw, None, None).unwrap();
    // Another pending challenge of the same product: not this receipt's.
    let (other, _) = token(&lic, 10, None, None);
    assert_eq!(verifier_accepts(&env, &lic, &file, &other, None, None), Err("receipt_challenge_mismatch".to_owned()));
    // Only the person's confirmation bound the license.
    assert!(bound());
}

//! The real binary over real HTTPS: activation by QR code and 6-digit code,
//! an application's register / heartbeat / deregister, restart on the same
//! state, and a second instance; applications authenticated by the join
//! secret; the admin's forms (CSRF token, Origin) in headless Chromium; the
//! code-entry lock across two server processes; the security headers; a
//! slowloris client and the connection cap. Needs `curl`, `openssl`,
//! `zbarimg` (package zbar-tools) and `chromium`.

use std::{
    fs,
    io::{BufRead as _, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use crate::common::{ACTIVATION_KEY, AnyCert, fixture, write_license_dir};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use ed25519_dalek::{Signature, SigningKey};
use fanlic_formats::LicenseKind;
use fanlic_formats::{
    Timestamp,
    activation::MAX_TOKEN_LEN,
    private_cloud::{AnswerKind, ServerAnswer, ServerAnswerEnvelope, instance_fingerprint},
};
use fanlic_license_server::keys::load_private_key;
use fanlic_verifier::{
    Environment, RootKey,
    activation::{ActivationKey, open_challenge, token_from_url},
    private_cloud::{JoinSecret, Request, RequestKey, verify_server_answer, verify_tls_binding},
};
use serde_json::{Value, json};

struct Server {
    child: Child,
    base: String,
    stderr: PathBuf,
}

impl Server {
    fn start(license_dir: &Path, config_dir: &Path, log_dir: &Path, name: &str) -> Self {
        let stderr = log_dir.join(format!("{name}.log"));
        let mut child = command(license_dir, config_dir, &stderr).stdout(Stdio::piped()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().strip_prefix("listening on https://").unwrap_or_else(|| {
            panic!("unexpected first line {line:?}; stderr: {}", fs::read_to_string(&stderr).unwrap_or_default())
        });
        let port = addr.rsplit(':').next().unwrap().to_owned();
        Self { child, base: format!("https://127.0.0.1:{port}"), stderr }
    }

    /// SIGTERM, and the exit must be clean.
    fn stop(mut self) -> String {
        let ok = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap().success();
        assert!(ok);
        let status = self.child.wait().unwrap();
        let log = fs::read_to_string(&self.stderr).unwrap();
        assert!(status.success(), "exit {status}; stderr:\n{log}");
        log
    }

    fn port(&self) -> &str {
        self.base.rsplit(':').next().unwrap()
    }
}

fn command(license_dir: &Path, config_dir: &Path, stderr: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fanruan-license-server"));
    for var in [
        "FANLIC_PORT",
        "FANLIC_LISTEN_ADDRESS",
        "FANLIC_ADDRESSES",
        "FANLIC_ACTIVATION_BASE_URL",
        "FANLIC_LICENSE_DIR",
        "FANLIC_CONFIG_DIR",
    ] {
        c.env_remove(var);
    }
    c.args(["--license-dir"])
        .arg(license_dir)
        .arg("--config-dir")
        .arg(config_dir)
        .args(["--port", "0", "--listen-address", "127.0.0.1", "--addresses", "127.0.0.1,fanlic-server.test"])
        .stdin(Stdio::null())
        .stderr(fs::File::create(stderr).unwrap());
    c
}

fn tool(name: &str, hint: &str) {
    let found = Command::new("sh").args(["-c", &format!("command -v {name}")]).output().unwrap().status.success();
    assert!(found, "`{name}` is needed by this test: {hint}");
}

/// `curl -k`: status and body.
fn curl(url: &str, json_body: Option<&Value>) -> (u16, Vec<u8>) {
    let mut c = Command::new("curl");
    c.args(["-sk", "--max-time", "20", "-w", "\n%{http_code}", url]);
    if let Some(body) = json_body {
        c.args(["-H", "Content-Type: application/json", "--data-binary", &body.to_string()]);
    }
    let out = c.output().unwrap();
    assert!(out.status.success(), "curl {url}: {}", String::from_utf8_lossy(&out.stderr));
    let split = out.stdout.iter().rposition(|&b| b == b'\n').unwrap();
    let status = String::from_utf8_lossy(&out.stdout[split + 1..]).parse().unwrap();
    (status, out.stdout[..split].to_vec())
}

/// `curl -k` with request headers and an optional form body: status and body as text.
fn curl_page(url: &str, headers: &[&str], form: Option<&str>) -> (u16, String) {
    curl_page_as(None, url, headers, form)
}

/// [`curl_page`] from the local address `from`, when given.
fn curl_page_as(from: Option<&str>, url: &str, headers: &[&str], form: Option<&str>) -> (u16, String) {
    let mut c = Command::new("curl");
    c.args(["-sk", "--max-time", "20", "-w", "\n%{http_code}", url]);
    if let Some(from) = from {
        c.args(["--interface", from]);
    }
    for h in headers {
        c.args(["-H", h]);
    }
    if let Some(body) = form {
        c.args(["--data", body]);
    }
    let out = c.output().unwrap();
    assert!(out.status.success(), "curl {url}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.parse().unwrap(), body.to_owned())
}

/// SHA-256 of the SubjectPublicKeyInfo the server presents, as OpenSSL's
/// handshake sees it.
fn served_spki_sha256(server: &Server) -> [u8; 32] {
    let out = Command::new("sh")
        .args([
            "-c",
            &format!(
                "openssl s_client -connect 127.0.0.1:{} -servername fanlic-server.test </dev/null 2>/dev/null | openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER",
                server.port()
            ),
        ])
        .output()
        .unwrap();
    assert!(out.status.success() && !out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    fanlic_license_server::tls::spki_sha256(&out.stdout)
}

/// `GET /api/v1/tls-binding`, decoded.
fn tls_binding(server: &Server) -> Vec<u8> {
    let (status, body) = curl(&format!("{}/api/v1/tls-binding", server.base), None);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    STANDARD.decode(json_of(&body)["tls_binding"].as_str().unwrap()).unwrap()
}

/// The CSRF token of a page's forms.
fn csrf_of(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("no CSRF token: {page}"))
        .to_owned()
}

fn json_of(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(body)))
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// The activation URL in the PNG QR code, read back with zbarimg.
fn qr_url(server: &Server, dir: &Path) -> String {
    let (status, png) = curl(&format!("{}/license/qrcode.png", server.base), None);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&png));
    let file = dir.join("qr.png");
    fs::write(&file, png).unwrap();
    let out = Command::new("zbarimg").args(["--raw", "-q"]).arg(&file).output().unwrap();
    assert!(out.status.success(), "zbarimg found no QR code");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// What the vendor's service would make of the URL: the challenge's server
/// instance fingerprint and the 6-digit code.
fn open(url: &str) -> ([u8; 32], u64, String) {
    let mut buf = [0u8; MAX_TOKEN_LEN];
    let token = token_from_url(url, &mut buf).unwrap();
    let (c, code) = open_challenge(token, &ActivationKey::from_bytes(ACTIVATION_KEY), Timestamp(now())).unwrap();
    let server = c.server.expect("an authorization server's challenge names its instance");
    (server.instance_fingerprint, server.generation, code.to_string())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The request key of the server's join secret, read from its config folder.
fn request_key(config_dir: &Path) -> RequestKey {
    JoinSecret::parse(&fs::read_to_string(config_dir.join("join-secret")).unwrap()).unwrap().request_key()
}

/// Posts an application request, signed with `key` (SPEC.md §7.3
/// "Authentication") unless `None`.
fn api_raw(server: &Server, op: &str, body: &Value, key: Option<&RequestKey>) -> (u16, Value) {
    let text = body.to_string();
    let mut c = Command::new("curl");
    c.args(["-sk", "--max-time", "20", "-w", "\n%{http_code}", &format!("{}/api/v1/{op}", server.base)]);
    c.args(["-H", "Content-Type: application/json", "--data-binary", &text]);
    if let Some(key) = key {
        let auth = key.authorization(&format!("/api/v1/{op}"), now(), text.as_bytes());
        c.args(["-H", &format!("Authorization: {}", auth.as_str())]);
    }
    let out = c.output().unwrap();
    assert!(out.status.success(), "curl: {}", String::from_utf8_lossy(&out.stderr));
    let split = out.stdout.iter().rposition(|&b| b == b'\n').unwrap();
    let status = String::from_utf8_lossy(&out.stdout[split + 1..]).parse().unwrap();
    (status, json_of(&out.stdout[..split]))
}

/// Posts an application request and checks the signed answer.
fn api(
    server: &Server,
    key: &RequestKey,
    op: &str,
    body: &Value,
    instance: &SigningKey,
    kind: AnswerKind,
) -> ServerAnswer {
    let (status, v) = api_raw(server, op, body, Some(key));
    assert_eq!(status, 200, "{v}");
    let file = STANDARD.decode(v["answer"].as_str().unwrap()).unwrap();
    let env = ServerAnswerEnvelope::decode(&file).unwrap();
    instance.verifying_key().verify_strict(env.answer.message, &Signature::from_bytes(&env.answer.signature)).unwrap();
    let a = ServerAnswer::decode(env.answer.message).unwrap();
    assert_eq!(a.kind, kind);
    // As a product checks it: root key → issuing key → server license →
    // image key → instance key, pinned.
    let roots = [RootKey::from_bytes(&fixture(2).root.public()).unwrap()];
    let product = Environment {
        app_name: "FineReport",
        version: "11.0.20",
        project: "webroot",
        nodes: 1,
        method: LicenseKind::PrivateCloud,
        now: Timestamp(now()),
        last_seen: None,
    };
    let request = Request { kind, node_id: a.node_id, nonce: a.nonce };
    let pinned = instance.verifying_key().to_bytes();
    if let Err(r) = verify_server_answer(&file, &roots, &product, &request, Some(&pinned)) {
        panic!("the product refuses the answer: {:?}", r.causes().collect::<Vec<_>>());
    }
    assert_eq!(hex(&a.nonce), body["nonce"].as_str().unwrap());
    assert_eq!(hex(&a.node_id), body["node_id"].as_str().unwrap());
    a
}

#[test]
fn activates_serves_applications_and_survives_a_restart() {
    tool("zbarimg", "install it with `apt-get install -y zbar-tools`");
    tool("curl", "install it with `apt-get install -y curl`");
    tool("openssl", "install it with `apt-get install -y openssl`");
    let tmp = tempfile::tempdir().unwrap();
    let (license_dir, config_dir) = (tmp.path().join("license"), tmp.path().join("config"));
    let f = fixture(2);
    write_license_dir(&license_dir, &f);

    let server = Server::start(&license_dir, &config_dir, tmp.path(), "first");
    let instance = load_private_key(&config_dir.join("instance.key")).unwrap();
    let fingerprint = instance_fingerprint(instance.verifying_key().as_bytes());

    // The served certificate's key is tls/key.pem's (ECDSA P-256), and the
    // instance key binds it (SPEC.md §7.7).
    let spki = served_spki_sha256(&server);
    let key_text = Command::new("openssl")
        .args(["pkey", "-noout", "-text", "-in"])
        .arg(config_dir.join("tls/key.pem"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&key_text.stdout).contains("prime256v1"));
    let binding = tls_binding(&server);
    let roots = fanlic_license_server::keys::load_root_keys(&license_dir.join("root-keys.pem")).unwrap();
    let bound = verify_tls_binding(&binding, &roots, Some(instance.verifying_key().as_bytes()), &spki).unwrap();
    assert_eq!(bound.instance_public_key, instance.verifying_key().to_bytes());

    // Without the join secret: `not_authorized` alone, no license terms.
    let key = request_key(&config_dir);
    let node = hex(&[1; 16]);
    let bad = json!({"app_name": "FineBI", "version": "11.0.3", "project": "webroot", "node_id": node, "nonce": hex(&[2; 16])});
    let stranger = JoinSecret::from_bytes([0xab; 32]).request_key();
    for k in [None, Some(&stranger)] {
        let (status, v) = api_raw(&server, "register", &bad, k);
        assert_eq!(status, 401, "{v}");
        assert_eq!(v["causes"].as_array().unwrap().len(), 1, "{v}");
        assert_eq!(v["causes"][0]["code"], "not_authorized");
        for term in ["webroot", "FineBI", "FineReport", "11.0", "Example Co.", &hex(&crate::common::LICENSE_ID)] {
            assert!(!v.to_string().contains(term), "an unauthenticated refusal shows {term}: {v}");
        }
    }
    // Not activated yet: authenticated applications are refused with every cause.
    let (status, v) = api_raw(&server, "register", &bad, Some(&key));
    assert_eq!(status, 403);
    assert_eq!(v["status"], "refused");
    let codes: Vec<&str> = v["causes"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["app_name_mismatch", "not_activated"]);

    // The QR page and the PNG.
    let (status, html) = curl(&format!("{}/license/qrcode", server.base), None);
    let html = String::from_utf8(html).unwrap();
    assert_eq!(status, 200);
    assert!(html.contains("<svg") && html.contains("name=\"code\""), "{html}");
    let url = qr_url(&server, tmp.path());
    assert!(url.starts_with("https://activate.example.invalid/a/"), "{url}");
    assert!(html.contains(&url), "the page and the PNG show the same QR code");
    let (fp, generation, code) = open(&url);
    assert_eq!(fp, fingerprint);
    assert_eq!(generation, 1);
    // In the browser's language: Chinese for zh*, the QR code's minutes left,
    // the license's expiry as the product writes dates.
    let zh = "Accept-Language: zh-CN,zh;q=0.9,en;q=0.8";
    let (status, page) = curl_page(&format!("{}/license/qrcode", server.base), &[zh], None);
    assert_eq!(status, 200);
    assert!(page.contains("<html lang=\"zh-CN\">") && page.contains("<h1>授权服务器</h1>"), "{page}");
    assert!(page.contains("用手机浏览器扫描此二维码") && page.contains("此二维码还剩 5 分钟有效"), "{page}");
    assert!(page.contains("有效期至 永久有效") && page.contains("刷新二维码"), "{page}");
    assert!(page.contains(&url.replace('&', "&amp;")), "the same QR code in every language");
    let (_, page) = curl_page(&format!("{}/license/qrcode", server.base), &["Accept-Language: en-GB"], None);
    assert!(page.contains("This QR code is valid for 5 minutes more (until "), "{page}");

    // The 6-digit code, as JSON.
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let (status, resp) = curl(&format!("{}/license/code", server.base), Some(&json!({"code": wrong})));
    assert_eq!((status, json_of(&resp)["code"].as_str()), (403, Some("wrong_code")));
    // The form, in Chinese: what happened and what to do next. It carries
    // the page's CSRF token.
    let csrf = csrf_of(&page);
    let (status, page) =
        curl_page(&format!("{}/license/code", server.base), &[zh], Some(&format!("csrf={csrf}&code={wrong}")));
    assert_eq!(status, 403);
    assert!(page.contains("验证码错误。再错 4 次，输入将被锁定 15 分钟。"), "{page}");
    assert!(page.contains("请核对手机上显示的 6 位数字后重新输入。"), "{page}");
    let (status, page) =
        curl_page(&format!("{}/license/code", server.base), &[zh], Some(&format!("csrf={csrf}&code=12ab")));
    assert_eq!(status, 400);
    assert!(page.contains("验证码必须是 6 位数字。"), "{page}");
    let (status, resp) = curl(&format!("{}/license/code", server.base), Some(&json!({"code": code})));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
    assert_eq!(json_of(&resp)["status"], "activated");
    // The admin is shown the join secret the applications need.
    assert_eq!(
        JoinSecret::parse(json_of(&resp)["join_secret"].as_str().unwrap())
            .unwrap()
            .request_key()
            .request_mac("/", 0, b""),
        key.request_mac("/", 0, b"")
    );

    // An application node.
    let nonce = hex(&[3; 16]);
    let reg =
        json!({"app_name": "FineReport", "version": "11.0.20", "project": "webroot", "node_id": node, "nonce": nonce});
    let a = api(&server, &key, "register", &reg, &instance, AnswerKind::Registered);
    assert_eq!(a.nodes, 1);
    let hb = json!({"node_id": node, "nonce": hex(&[4; 16])});
    let a = api(&server, &key, "heartbeat", &hb, &instance, AnswerKind::Heartbeat);
    assert_eq!(a.valid_until.0, a.at.0 + 86_400);
    let other = hex(&[9; 16]);
    let reg2 = json!({"app_name": "FineReport", "version": "11.0.20", "project": "webroot", "node_id": other, "nonce": hex(&[5; 16])});
    api(&server, &key, "register", &reg2, &instance, AnswerKind::Registered);
    let a = api(
        &server,
        &key,
        "deregister",
        &json!({"node_id": other, "nonce": hex(&[6; 16])}),
        &instance,
        AnswerKind::Deregistered,
    );
    assert_eq!(a.nodes, 1);
    let (status, v) = api_raw(&server, "heartbeat", &json!({"node_id": other, "nonce": hex(&[7; 16])}), Some(&key));
    assert_eq!((status, v["causes"][0]["code"].as_str()), (403, Some("not_registered")));
    // A request counts once: the same signed request again is refused.
    let (status, v) = api_raw(&server, "heartbeat", &hb, Some(&key));
    assert_eq!((status, v["causes"][0]["code"].as_str()), (401, Some("not_authorized")), "{v}");
    assert!(v["causes"][0]["message"].as_str().unwrap().contains("already received"), "{v}");

    let (_, resp) = curl(&format!("{}/license/status", server.base), None);
    let st = json_of(&resp);
    assert_eq!((st["activated"].as_bool(), st["nodes"].as_u64()), (Some(true), Some(1)));
    assert_eq!(st["instance_fingerprint"].as_str(), Some(hex(&fingerprint).as_str()));
    assert_eq!(st["license_id"].as_str(), Some(hex(&crate::common::LICENSE_ID).as_str()));
    let generation = st["generation"].as_u64().unwrap();
    // A browser gets the status as a page, in its language.
    let (status, page) =
        curl_page(&format!("{}/license/status", server.base), &["Accept: text/html,*/*;q=0.8", zh], None);
    assert_eq!(status, 200);
    assert!(page.contains("<h1>授权服务器状态</h1>") && page.contains("<dt>已注册节点</dt><dd>1 / "), "{page}");
    assert!(page.contains("<dt>激活状态</dt><dd>激活时间 20"), "{page}");
    assert!(page.contains(&format!("<dd>{}</dd>", hex(&crate::common::LICENSE_ID))), "{page}");
    let (_, page) = curl_page(&format!("{}/license/qrcode", server.base), &[zh], None);
    assert!(page.contains("激活。</p>") && page.contains("认证方式选择<b>私有云</b>"), "{page}");

    let log = server.stop();
    assert!(log.lines().all(|l| serde_json::from_str::<Value>(l).is_ok()), "one JSON object a line:\n{log}");
    assert!(log.contains("\"path\":\"/api/v1/heartbeat\""));
    assert!(log.contains("\"client\":\"127.0.0.1:"), "{log}");
    for secret in [code.as_str(), nonce.as_str(), &url[url.len() - 20..]] {
        assert!(!log.contains(secret), "the log shows {secret}");
    }

    // Restart on the same state: still activated, node kept, generation kept.
    let server = Server::start(&license_dir, &config_dir, tmp.path(), "second");
    let (_, resp) = curl(&format!("{}/license/status", server.base), None);
    let st = json_of(&resp);
    assert_eq!((st["activated"].as_bool(), st["nodes"].as_u64()), (Some(true), Some(1)));
    assert!(st["generation"].as_u64().unwrap() > generation, "{st}");
    api(
        &server,
        &key,
        "heartbeat",
        &json!({"node_id": node, "nonce": hex(&[8; 16])}),
        &instance,
        AnswerKind::Heartbeat,
    );
    // The same TLS key after a restart, so the same binding.
    assert_eq!(served_spki_sha256(&server), spki);
    assert_eq!(tls_binding(&server), binding);
    server.stop();

    // A copy of the image elsewhere: a new instance key, another fingerprint.
    let clone_dir = tmp.path().join("clone");
    let clone = Server::start(&license_dir, &clone_dir, tmp.path(), "clone");
    let (fp2, generation2, _) = open(&qr_url(&clone, tmp.path()));
    assert_ne!(fp2, fingerprint);
    assert_eq!(generation2, 1);
    clone.stop();

    // privateConfig without its instance.key: refused, not a silent new instance.
    let orphan = tmp.path().join("orphan");
    fs::create_dir_all(&orphan).unwrap();
    fs::copy(config_dir.join("privateConfig"), orphan.join("privateConfig")).unwrap();
    let out = command(&license_dir, &orphan, &tmp.path().join("orphan.log")).output().unwrap();
    assert!(!out.status.success());
    let err = fs::read_to_string(tmp.path().join("orphan.log")).unwrap();
    assert!(err.contains("instance.key is missing"), "{err}");
    // Nor with another instance's key.
    fs::copy(clone_dir.join("instance.key"), orphan.join("instance.key")).unwrap();
    let out = command(&license_dir, &orphan, &tmp.path().join("orphan2.log")).output().unwrap();
    assert!(!out.status.success());
    let err = fs::read_to_string(tmp.path().join("orphan2.log")).unwrap();
    assert!(err.contains("another instance key"), "{err}");
}

#[test]
fn refuses_to_start_with_a_bad_license_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let license_dir = tmp.path().join("license");
    let f = fixture(1);
    write_license_dir(&license_dir, &f);
    // A license from another image: image.key does not match.
    let other = fanlic_testkit::keys::TestKey::new("image-other").unwrap();
    let v1 = [
        [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20].as_slice(),
        &other.seed,
    ]
    .concat();
    fs::write(license_dir.join("image.key"), fanlic_testkit::keys::pem("PRIVATE KEY", &v1)).unwrap();
    let log = tmp.path().join("err.log");
    let out = command(&license_dir, &tmp.path().join("config"), &log).output().unwrap();
    assert!(!out.status.success());
    let err = fs::read_to_string(&log).unwrap();
    assert!(err.contains("image.key is not the key the license names"), "{err}");
    // Mode 0644 on a key file.
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(license_dir.join("image.key"), fs::Permissions::from_mode(0o644)).unwrap();
    let out = command(&license_dir, &tmp.path().join("config"), &log).output().unwrap();
    assert!(!out.status.success());
    assert!(fs::read_to_string(&log).unwrap().contains("chmod 600"));
}

/// A started server on a fresh license and config folder.
fn fresh(tmp: &Path, name: &str) -> (Server, PathBuf, PathBuf) {
    let (license_dir, config_dir) = (tmp.join("license"), tmp.join("config"));
    if !license_dir.exists() {
        write_license_dir(&license_dir, &fixture(2));
    }
    let server = Server::start(&license_dir, &config_dir, tmp, name);
    (server, license_dir, config_dir)
}

/// `curl -k` from the source address `from` (the loopback has all of
/// 127/8): another client than 127.0.0.1, for the server's per-client rules.
fn curl_from(from: &str, url: &str, headers: &[&str], form: Option<&str>) -> (u16, String) {
    curl_page_as(Some(from), url, headers, form)
}

/// The activation link of a QR page.
fn link_of(page: &str) -> String {
    page.split("<a href=\"").nth(1).and_then(|r| r.split('"').next()).unwrap().replace("&amp;", "&")
}

/// Headless Chromium (as root it needs `--no-sandbox`).
fn chromium(args: &[&str]) -> std::process::Output {
    let mut c = Command::new("chromium");
    c.args(["--headless", "--no-sandbox", "--disable-gpu", "--ignore-certificate-errors"]);
    c.arg(format!("--user-data-dir={}", tempfile::tempdir().unwrap().keep().display()));
    c.args(args).output().unwrap()
}

/// The code page in a real browser: Chromium renders the QR code (read back
/// from its screenshot), the page's forms carry the CSRF token, a refresh
/// is a POST that needs it, and a form another origin submits in Chromium
/// is refused. `GET ?refresh=1` changes nothing.
#[test]
fn the_code_page_in_chromium_posts_only_with_its_csrf_token() {
    tool("chromium", "install it with `apt-get install -y chromium`");
    tool("zbarimg", "install it with `apt-get install -y zbar-tools`");
    tool("openssl", "install it with `apt-get install -y openssl`");
    let tmp = tempfile::tempdir().unwrap();
    // An ECDSA P-256 pair mounted in tls/, as a customer may: browsers
    // refuse an Ed25519 certificate at the handshake.
    let tls = tmp.path().join("config").join("tls");
    fs::create_dir_all(&tls).unwrap();
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
        .args([
            "-subj",
            "/CN=fanlic test",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:fanlic-server.test",
        ])
        .arg("-keyout")
        .arg(tls.join("key.pem"))
        .arg("-out")
        .arg(tls.join("cert.pem"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (server, _, _) = fresh(tmp.path(), "chromium");
    let page_url = format!("{}/license/qrcode", server.base);
    let shot = tmp.path().join("page.png");
    let out = chromium(&["--window-size=600,1400", &format!("--screenshot={}", shot.display()), &page_url]);
    assert!(shot.exists(), "no screenshot: {}", String::from_utf8_lossy(&out.stderr));
    let read = Command::new("zbarimg").args(["--raw", "-q"]).arg(&shot).output().unwrap();
    let from_screen = String::from_utf8(read.stdout).unwrap().trim().to_owned();
    assert!(from_screen.starts_with("https://activate.example.invalid/a/"), "{from_screen:?}");
    // The DOM Chromium built: the same QR code (one per client), and forms
    // that post here with the CSRF token.
    let dom = String::from_utf8(chromium(&["--dump-dom", &page_url]).stdout).unwrap();
    assert_eq!(link_of(&dom), from_screen);
    assert!(dom.contains("<form method=\"post\" action=\"/license/refresh\">"), "{dom}");
    assert!(dom.contains("<form method=\"post\" action=\"/license/code\">"), "{dom}");
    assert!(!dom.contains("<script"), "no script on the page");
    let csrf = csrf_of(&dom);

    // GET never refreshes.
    let (_, page) = curl_page(&format!("{page_url}?refresh=1"), &[], None);
    assert_eq!(link_of(&page), from_screen, "GET ?refresh=1 changed the QR code");
    // A POST without the token, or from another origin, is refused.
    let refresh = format!("{}/license/refresh", server.base);
    let origin = format!("Origin: {}", server.base);
    assert_eq!(curl_page(&refresh, &[&origin], Some("csrf=")).0, 403);
    assert_eq!(curl_page(&refresh, &["Origin: https://evil.example"], Some(&format!("csrf={csrf}"))).0, 403);
    let other = "127.0.0.2";
    assert_eq!(curl_from(other, &refresh, &[], Some(&format!("csrf={csrf}"))).0, 403, "the token is the client's");
    // A third party's page that submits a form to the server, in Chromium.
    let evil = tmp.path().join("evil.html");
    fs::write(
        &evil,
        format!(
            "<form method=post action=\"{refresh}\"><input name=csrf value=x></form>\
             <script>document.forms[0].submit()</script>"
        ),
    )
    .unwrap();
    let dom = String::from_utf8(
        chromium(&["--virtual-time-budget=3000", "--dump-dom", &format!("file://{}", evil.display())]).stdout,
    )
    .unwrap();
    assert!(dom.contains("did not come from this server"), "{dom}");
    let (_, page) = curl_page(&page_url, &[], None);
    assert_eq!(link_of(&page), from_screen, "refused posts changed nothing");

    // The page's own form, as the browser posts it: a new QR code.
    let (status, page) = curl_page(&refresh, &[&origin], Some(&format!("csrf={csrf}")));
    assert_eq!(status, 200);
    assert_ne!(link_of(&page), from_screen);
    server.stop();
}

/// The wrong-code lock outlives the process: six wrong codes, the server
/// killed, a second process on the same config folder still refuses that
/// client, while another client (its own QR code) activates.
#[test]
fn a_code_entry_lock_survives_a_restart_and_binds_only_its_client() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut server, license_dir, config_dir) = fresh(tmp.path(), "lock1");
    let (_, page) = curl_page(&format!("{}/license/qrcode", server.base), &[], None);
    let (_, _, code) = open(&link_of(&page));
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for i in 0..6 {
        let (status, resp) = curl(&format!("{}/license/code", server.base), Some(&json!({"code": wrong})));
        assert_eq!(status, if i < 5 { 403 } else { 429 }, "{}", String::from_utf8_lossy(&resp));
    }
    let file = config_dir.join("code-entry-locks");
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    let server = Server::start(&license_dir, &config_dir, tmp.path(), "lock2");
    let (status, resp) = curl(&format!("{}/license/code", server.base), Some(&json!({"code": code})));
    let v = json_of(&resp);
    assert_eq!((status, v["code"].as_str()), (429, Some("locked")), "{v}");
    assert!(v["locked_until"].as_u64().unwrap() > now() + 800, "{v}");
    // Another client is not locked out: its own QR code, its right code.
    let (_, page) = curl_from("127.0.0.2", &format!("{}/license/qrcode", server.base), &[], None);
    let (_, _, code2) = open(&link_of(&page));
    let (status, page) = curl_from(
        "127.0.0.2",
        &format!("{}/license/code", server.base),
        &[],
        Some(&format!("csrf={}&code={code2}", csrf_of(&page))),
    );
    assert_eq!(status, 200, "{page}");
    let secret = fs::read_to_string(config_dir.join("join-secret")).unwrap();
    assert!(page.contains(&format!("<code id=\"join-secret\">{}</code>", secret.trim())), "{page}");
    server.stop();
}

/// Every response carries the anti-framing, CSP, nosniff, referrer and
/// no-store headers; the status page lists nodes, and evicting one takes
/// the join secret and the page's CSRF token.
#[test]
fn every_response_carries_the_security_headers_and_eviction_needs_the_join_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, _, config_dir) = fresh(tmp.path(), "headers");
    let headers_of = |path: &str, extra: &[&str]| {
        let mut c = Command::new("curl");
        c.args(["-sk", "-o", "/dev/null", "-D", "-", &format!("{}{path}", server.base)]);
        c.args(extra);
        String::from_utf8(c.output().unwrap().stdout).unwrap().to_ascii_lowercase()
    };
    for (path, extra) in [
        ("/license/qrcode", &[][..]),
        ("/license/qrcode.png", &[]),
        ("/license/status", &[]),
        ("/license/status", &["-H", "Accept: text/html"]),
        ("/api/v1/heartbeat", &["--data-binary", "{}"]),
        ("/license/code", &["-H", "Content-Type: application/json", "--data-binary", "{\"code\":\"1\"}"]),
        ("/nowhere", &[]),
    ] {
        let h = headers_of(path, extra);
        for want in [
            "x-frame-options: deny",
            "content-security-policy: default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            "x-content-type-options: nosniff",
            "referrer-policy: no-referrer",
            "cache-control: no-store",
        ] {
            assert!(h.contains(want), "{path}: no {want:?} in\n{h}");
        }
    }
    // Activate, register a node, then evict it from the status page.
    let (_, page) = curl_page(&format!("{}/license/qrcode", server.base), &[], None);
    let (_, _, code) = open(&link_of(&page));
    assert_eq!(curl(&format!("{}/license/code", server.base), Some(&json!({"code": code}))).0, 200);
    let key = request_key(&config_dir);
    let instance = load_private_key(&config_dir.join("instance.key")).unwrap();
    let node = hex(&[3; 16]);
    let reg = json!({"app_name": "FineReport", "version": "11.0.20", "project": "webroot", "node_id": node, "nonce": hex(&[1; 16])});
    api(&server, &key, "register", &reg, &instance, AnswerKind::Registered);
    let (_, page) = curl_page(&format!("{}/license/status", server.base), &["Accept: text/html"], None);
    assert!(page.contains(&format!("<code>{node}</code>")), "{page}");
    let csrf = csrf_of(&page);
    let evict = format!("{}/license/nodes/evict", server.base);
    let wrong = "ab".repeat(32);
    let (status, _) = curl_page(&evict, &[], Some(&format!("csrf={csrf}&node_id={node}&join_secret={wrong}")));
    assert_eq!(status, 403);
    let secret = fs::read_to_string(config_dir.join("join-secret")).unwrap();
    let (status, _) = curl_page(&evict, &[], Some(&format!("csrf=&node_id={node}&join_secret={}", secret.trim())));
    assert_eq!(status, 403, "no CSRF token");
    let (_, st) = curl(&format!("{}/license/status", server.base), None);
    assert_eq!(json_of(&st)["nodes"], 1);
    let (status, page) =
        curl_page(&evict, &[], Some(&format!("csrf={csrf}&node_id={node}&join_secret={}", secret.trim())));
    assert_eq!(status, 200, "{page}");
    let (_, st) = curl(&format!("{}/license/status", server.base), None);
    assert_eq!(json_of(&st)["nodes"], 0);
    server.stop();
}

/// A raw TLS client that sends a request's first line, then a header line a
/// second, never ending its headers (slowloris). Returns how long the
/// server kept the connection open.
fn slow_client(port: u16) -> std::thread::JoinHandle<core::time::Duration> {
    use std::io::{Read as _, Write as _};
    std::thread::spawn(move || {
        let start = std::time::Instant::now();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCert(provider)))
            .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
        let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        tcp.set_read_timeout(Some(core::time::Duration::from_millis(1000))).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        if tls.write_all(b"GET /license/status HTTP/1.1\r\nHost: x\r\n").is_err() {
            return start.elapsed();
        }
        loop {
            let mut b = [0u8; 1];
            match tls.read(&mut b) {
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
                // Closed, or anything the server says: the connection is over.
                _ => return start.elapsed(),
            }
            if tls.write_all(b"X-Slow: 1\r\n").is_err() {
                return start.elapsed();
            }
        }
    })
}

/// A slowloris client (headers a line a second) is cut off after the
/// header-read timeout; connections beyond the per-client cap are closed at
/// once, and the admin, from another address, is served all along.
#[test]
fn half_open_handshakes_are_capped_per_client_and_the_admin_is_served() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, _, _) = fresh(tmp.path(), "handshakes");
    let port: u16 = server.port().parse().unwrap();
    let cap = fanlic_license_server::tls::MAX_HANDSHAKES_PER_CLIENT;
    // A stranger opens TCP connections and never starts its handshake.
    let idle: Vec<std::net::TcpStream> = (0..cap + 4)
        .map(|_| {
            let s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.set_read_timeout(Some(core::time::Duration::from_millis(200))).unwrap();
            s
        })
        .collect();
    std::thread::sleep(core::time::Duration::from_millis(500));
    // The connections over the cap were closed at once (EOF), the others wait
    // for their handshake.
    let closed = idle
        .iter()
        .filter(|s| {
            use std::io::Read as _;
            let mut b = [0u8; 1];
            let start = std::time::Instant::now();
            matches!((&**s).read(&mut b), Ok(0)) && start.elapsed() < core::time::Duration::from_secs(2)
        })
        .count();
    assert_eq!(closed, 4, "the connections over the per-client handshake cap are closed at once");
    let (status, _) = curl_from("127.0.0.2", &format!("{}/license/status", server.base), &[], None);
    assert_eq!(status, 200, "the admin is served while a stranger holds its handshakes");
    drop(idle);
    let log = server.stop();
    assert!(log.contains("\"stage\":\"handshake\""), "{log}");
}

#[test]
fn a_slow_client_is_cut_off_and_the_connection_cap_keeps_the_admin_served() {
    tool("openssl", "install it with `apt-get install -y openssl`");
    let tmp = tempfile::tempdir().unwrap();
    let (server, _, _) = fresh(tmp.path(), "slow");
    let cap = fanlic_license_server::net::MAX_CONNECTIONS_PER_CLIENT;
    let port: u16 = server.port().parse().unwrap();
    let clients: Vec<_> = (0..cap + 4).map(|_| slow_client(port)).collect();
    std::thread::sleep(core::time::Duration::from_secs(3));
    let (status, _) = curl_from("127.0.0.2", &format!("{}/license/status", server.base), &[], None);
    assert_eq!(status, 200, "the admin is served while a stranger holds its cap");
    let lifetimes: Vec<core::time::Duration> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    // The extra connections are closed at once; the slow ones at the
    // header-read timeout, not before.
    let timeout = fanlic_license_server::net::HEADER_READ_TIMEOUT;
    let early = lifetimes.iter().filter(|t| **t < core::time::Duration::from_secs(3)).count();
    assert_eq!(early, 4, "{lifetimes:?}");
    let late =
        lifetimes.iter().filter(|t| **t >= timeout && **t < timeout + core::time::Duration::from_secs(5)).count();
    assert_eq!(late, cap, "{lifetimes:?}");
    let log = server.stop();
    assert!(log.contains("\"reason\":\"too many connections\""), "{log}");
}

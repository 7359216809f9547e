//! The admin's first step in a real browser: headless Chromium opens
//! `https://127.0.0.1:PORT/license/qrcode` of the running server and takes a
//! screenshot, and `zbarimg` reads the QR code back from the PNG; the URL is
//! the activation URL the page links to. Chromium refuses Ed25519
//! certificates at the handshake (`ERR_SSL_PROTOCOL_ERROR`), so this needs
//! the ECDSA P-256 certificate (SPEC.md §7.7). It runs with
//! `--ignore-certificate-errors` (the certificate is self-signed, which a
//! browser only warns about); a separate `openssl s_client` handshake shows
//! the key is EC prime256v1 and the handshake signature ECDSA, so the pass
//! is the key's doing, not the flag's. Needs `chromium`, `zbarimg`
//! (zbar-tools), `openssl` and `curl`: without them the test FAILS and says
//! what to install.

use core::time::Duration;
use std::{
    fs,
    io::{BufRead as _, BufReader, Write as _},
    path::Path,
    process::{Child, Command, Stdio},
};

use crate::common::{BASE_URL, fixture, write_license_dir};

struct Server {
    child: Child,
    port: String,
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
            .args(["--port", "0", "--listen-address", "127.0.0.1", "--addresses", "127.0.0.1"])
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
        Self { child, port: addr.rsplit(':').next().unwrap().to_owned() }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tool(name: &str, install: &str) {
    let found = Command::new("sh").args(["-c", &format!("command -v {name}")]).output().unwrap().status.success();
    assert!(found, "`{name}` is needed by this test: {install}");
}

/// The handshake as OpenSSL sees it, and the server's certificate as text.
fn openssl_handshake(port: &str) -> (String, String) {
    let mut s_client = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `</dev/null`: close stdin at once, so s_client ends after the handshake.
    drop(s_client.stdin.take());
    let out = s_client.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let pem_start = text.find("-----BEGIN CERTIFICATE-----").unwrap_or_else(|| panic!("no certificate: {text}"));
    let pem_end = text.find("-----END CERTIFICATE-----").unwrap() + "-----END CERTIFICATE-----".len();
    let mut x509 = Command::new("openssl")
        .args(["x509", "-noout", "-text"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    x509.stdin.take().unwrap().write_all(&text.as_bytes()[pem_start..pem_end]).unwrap();
    let cert = x509.wait_with_output().unwrap();
    assert!(cert.status.success());
    (text, String::from_utf8(cert.stdout).unwrap())
}

/// SPEC.md §7.7: the server's HTTPS is one a browser accepts. Chromium
/// loads the QR page over the real handshake and the QR code in its
/// screenshot decodes to the page's activation URL; OpenSSL shows the
/// certificate's key is EC prime256v1 and the handshake signed with ECDSA.
#[test]
fn chromium_opens_the_qr_page_over_ecdsa_p256_and_its_qr_code_reads_back() {
    tool("chromium", "apt-get install -y --no-install-recommends chromium");
    tool("zbarimg", "apt-get install -y zbar-tools");
    tool("openssl", "apt-get install -y openssl");
    tool("curl", "apt-get install -y curl");
    let tmp = tempfile::tempdir().unwrap();
    let (license_dir, config_dir) = (tmp.path().join("license"), tmp.path().join("config"));
    write_license_dir(&license_dir, &fixture(2));
    let server = Server::start(&license_dir, &config_dir, &tmp.path().join("server.log"));
    let url = format!("https://127.0.0.1:{}/license/qrcode", server.port);

    // What a browser negotiates: not Ed25519, which Chromium refuses.
    let (handshake, cert) = openssl_handshake(&server.port);
    assert!(handshake.contains("Peer signature type: ECDSA"), "not an ECDSA handshake: {handshake}");
    assert!(handshake.contains("Server public key is 256 bit"), "{handshake}");
    assert!(cert.contains("Public Key Algorithm: id-ecPublicKey"), "{cert}");
    assert!(cert.contains("ASN1 OID: prime256v1"), "{cert}");
    assert!(cert.contains("IP Address:127.0.0.1"), "{cert}");

    // One page in headless Chromium, its own profile, a screenshot.
    let shot = tmp.path().join("qrcode.png");
    let profile = tmp.path().join("chromium-profile");
    let mut chromium = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--ignore-certificate-errors", "--no-first-run"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .args(["--window-size=900,1400", "--hide-scrollbars", &url])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Chromium may hang on some machines after the screenshot: 60 s at most.
    let mut waited = Duration::ZERO;
    while chromium.try_wait().unwrap().is_none() {
        assert!(waited < Duration::from_secs(60), "chromium did not finish within 60 s");
        std::thread::sleep(Duration::from_millis(200));
        waited += Duration::from_millis(200);
    }
    let out = chromium.wait_with_output().unwrap();
    let chromium_log = String::from_utf8_lossy(&out.stderr).into_owned();
    // What Chromium logs when it refuses a certificate's key (Ed25519: net
    // error -113 here, ERR_SSL_PROTOCOL_ERROR on a page).
    assert!(!chromium_log.contains("handshake failed"), "Chromium refused the handshake: {chromium_log}");
    assert!(shot.is_file(), "no screenshot; chromium said: {chromium_log}");
    let server_log = fs::read_to_string(tmp.path().join("server.log")).unwrap();
    assert!(
        server_log.contains("\"path\":\"/license/qrcode\"") && server_log.contains("\"status\":200"),
        "the server did not serve the page to Chromium: {server_log}"
    );

    let read = Command::new("zbarimg").args(["--raw", "-q"]).arg(&shot).output().unwrap();
    let decoded = String::from_utf8_lossy(&read.stdout).trim().to_owned();
    assert!(
        read.status.success() && !decoded.is_empty(),
        "no QR code in the screenshot; chromium said: {chromium_log}"
    );
    assert!(decoded.starts_with(&format!("{BASE_URL}/")), "{decoded}");

    // The activation URL the page shows (the QR code is kept for 5 minutes).
    let page = Command::new("curl").args(["-sk", "--max-time", "20", &url]).output().unwrap();
    let html = String::from_utf8(page.stdout).unwrap();
    let shown = html
        .split("<a href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no activation link on the QR page: {html}"))
        .replace("&amp;", "&");
    assert_eq!(decoded, shown, "the browser's QR code is the page's activation URL");
}

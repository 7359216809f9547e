//! `fanlic console` over plain HTTP: logins, sessions, CSRF, lockouts and
//! the headers every answer carries. (What a person does in the pages is
//! tested in a real browser, in `console_browser`.)

use crate::common::console::{Console, PASSWORD, add_staff, hidden};
use crate::common::{Env, fanlic, ok};

fn home_with_admin() -> Env {
    let env = Env::temp();
    ok(&env, &["init"]);
    add_staff(&env, "alice", "admin");
    env
}

#[test]
fn a_page_without_a_session_goes_to_login_and_back_after_it() {
    let env = home_with_admin();
    let console = Console::start(&env, &[]);
    let mut c = console.client();
    let r = c.get("/?page=2");
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/login?next=/%3Fpage%3D2"));
    let page = c.get("/login?next=/%3Fpage%3D2");
    let csrf = hidden(&page.body, "csrf").unwrap();
    assert_eq!(hidden(&page.body, "next").as_deref(), Some("/?page=2"));
    let r = c.post("/login", &[("username", "alice"), ("password", PASSWORD), ("csrf", &csrf), ("next", "/?page=2")]);
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/?page=2"));
    let cookie = r.headers.iter().find(|(k, v)| k == "set-cookie" && v.starts_with("fanlic_session=")).unwrap();
    assert!(cookie.1.contains("HttpOnly") && cookie.1.contains("SameSite=Lax"), "{}", cookie.1);
    assert!(!cookie.1.contains("Secure"), "no Secure over plain HTTP: {}", cookie.1);
    // Somewhere else after login is never followed (no open redirect).
    let mut d = console.client();
    let page = d.get("/login");
    let csrf = hidden(&page.body, "csrf").unwrap();
    let r = d
        .post("/login", &[("username", "alice"), ("password", PASSWORD), ("csrf", &csrf), ("next", "//evil.example/")]);
    assert_eq!(r.header("location"), Some("/"));
    assert!(console.stop(), "SIGTERM ends the console with status 0");
}

#[test]
fn every_answer_carries_the_security_headers() {
    let env = home_with_admin();
    let console = Console::start(&env, &[]);
    let mut c = console.login("alice");
    for path in ["/", "/login", "/no-such-page", "/static/console.css"] {
        let r = c.get(path);
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{path}");
        let csp = r.header("content-security-policy").unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"), "{path}: {csp}");
    }
    assert_eq!(c.get("/no-such-page").status, 404);
}

#[test]
fn a_post_without_the_sessions_csrf_token_is_refused_and_changes_nothing() {
    let env = home_with_admin();
    let console = Console::start(&env, &[]);
    let mut c = console.login("alice");
    assert_eq!(c.post("/logout", &[]).status, 403);
    assert_eq!(c.post("/logout", &[("csrf", "0".repeat(64).as_str())]).status, 403);
    // Still logged in: the forged logouts did nothing.
    assert_eq!(c.get("/").status, 200);
    // The login form refuses a token that is not its cookie's.
    let mut other = console.client();
    let r = other.post("/login", &[("username", "alice"), ("password", PASSWORD), ("csrf", "x"), ("next", "/")]);
    assert_eq!(r.status, 403);
    // With the token, logout ends the session.
    let r = c.post_form("/", "/logout", &[]);
    assert_eq!(r.status, 303);
    assert_eq!(c.get("/").status, 303);
}

#[test]
fn five_failed_logins_lock_the_name_until_an_admin_unlocks_it() {
    let env = home_with_admin();
    add_staff(&env, "bob", "issuer");
    let console = Console::start(&env, &[]);
    let mut c = console.client();
    for i in 1..=5 {
        let page = c.get("/login");
        let csrf = hidden(&page.body, "csrf").unwrap();
        let r = c.post("/login", &[("username", "bob"), ("password", "wrong password"), ("csrf", &csrf)]);
        assert_eq!(r.status, 401, "attempt {i}");
        let locked = r.body.contains("locked") || r.body.contains("锁定");
        assert_eq!(locked, i == 5, "attempt {i}: {}", r.body);
    }
    // Locked: even the right password is refused now.
    let page = c.get("/login");
    let csrf = hidden(&page.body, "csrf").unwrap();
    let r = c.post("/login", &[("username", "bob"), ("password", PASSWORD), ("csrf", &csrf)]);
    assert_eq!(r.status, 401);
    let listed = ok(&env, &["staff", "list"]);
    assert!(listed.contains("locked: bob"), "{listed}");
    ok(&env, &["staff", "unlock", "bob", "--client", "127.0.0.1"]);
    console.login("bob");
    let audit = ok(&env, &["audit", "--json"]);
    for action in ["login-failed", "login-locked", "staff-unlock", "login"] {
        assert!(audit.contains(&format!("\"action\": \"{action}\"")), "{action} audited: {audit}");
    }
    assert!(!audit.contains("wrong password\""), "no password in the audit trail");
}

#[test]
fn staff_accounts_from_the_cli() {
    let env = home_with_admin();
    let out = fanlic(&env, &["staff", "add", "carol", "--role", "viewer", "--password-stdin"], Some(b"short"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 10 characters"));
    add_staff(&env, "carol", "viewer");
    let out =
        fanlic(&env, &["staff", "add", "carol", "--role", "viewer", "--password-stdin"], Some(PASSWORD.as_bytes()));
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists already"));
    // The last admin cannot be disabled.
    let out = fanlic(&env, &["staff", "disable", "alice"], None);
    assert!(String::from_utf8_lossy(&out.stderr).contains("last enabled admin"), "{out:?}");
    let console = Console::start(&env, &[]);
    let mut c = console.login("carol");
    assert_eq!(c.get("/").status, 200);
    ok(&env, &["staff", "disable", "carol"]);
    assert_eq!(c.get("/").status, 303, "disabling ends the session");
    let db = std::fs::read(env.home.join("fanlic.db")).unwrap();
    assert!(!db.windows(PASSWORD.len()).any(|w| w == PASSWORD.as_bytes()), "no password in the database");
}

/// A self-signed certificate for 127.0.0.1 made by OpenSSL: (cert, key).
fn openssl_cert(env: &Env) -> (std::path::PathBuf, std::path::PathBuf) {
    let (cert, key) = (env.dir.join("console.crt"), env.dir.join("console.key"));
    let out = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"])
        .args(["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl is installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (cert, key)
}

#[test]
fn over_tls_the_session_cookie_is_secure_and_curl_verifies_the_certificate() {
    let env = home_with_admin();
    let (cert, key) = openssl_cert(&env);
    let console = Console::start(&env, &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()]);
    let url = format!("https://{}/login", console.addr);
    // curl checks the chain against the certificate (no -k): a real TLS handshake.
    let out = std::process::Command::new("curl")
        .args(["-sS", "-D", "-", "-o", "/dev/null", "--cacert"])
        .arg(&cert)
        .arg(&url)
        .output()
        .expect("curl is installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let head = String::from_utf8_lossy(&out.stdout).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("strict-transport-security: max-age="), "{head}");
    assert!(head.contains("set-cookie: fanlic_login=") && head.contains("; secure"), "{head}");
    // Plain HTTP on the TLS port gets no page.
    let mut plain = console.client();
    let raw = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| plain.get("/login")));
    assert!(raw.map_or(true, |a| a.status != 200), "plain HTTP is not served on the TLS listener");
}

#[test]
fn a_bad_certificate_or_key_is_refused_at_start_saying_which_file() {
    let env = home_with_admin();
    let (cert, _) = openssl_cert(&env);
    let junk = env.dir.join("junk.pem");
    std::fs::write(&junk, "not a key").unwrap();
    let out = fanlic(
        &env,
        &[
            "console",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            junk.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("junk.pem") && err.contains("private key"), "{err}");
}

#[test]
fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
    let env = home_with_admin();
    // Not trusted: a client cannot pick the address its failures count against.
    let console = Console::start(&env, &[]);
    let mut c = console.client();
    for i in 0..5 {
        let page = c.get("/login");
        let csrf = hidden(&page.body, "csrf").unwrap();
        let body = format!("username=nobody{i}&password=wrong+password+x&csrf={csrf}");
        let fake = format!("203.0.113.{i}");
        c.send(
            "POST",
            "/login",
            &[("Content-Type", "application/x-www-form-urlencoded"), ("X-Forwarded-For", &fake)],
            Some(body.as_bytes()),
        );
    }
    let listed = ok(&env, &["staff", "list"]);
    assert!(listed.contains("locked: 127.0.0.1"), "the real peer is locked out: {listed}");
    assert!(!listed.contains("203.0.113."), "{listed}");
    drop(console);
    ok(&env, &["staff", "unlock", "x", "--client", "127.0.0.1"]);
    // Trusted: the proxy's X-Forwarded-For names the client.
    let console = Console::start(&env, &["--trusted-proxy", "127.0.0.1"]);
    let mut c = console.client();
    for i in 0..5 {
        let page = c.get("/login");
        let csrf = hidden(&page.body, "csrf").unwrap();
        let body = format!("username=someone{i}&password=wrong+password+x&csrf={csrf}");
        c.send(
            "POST",
            "/login",
            &[("Content-Type", "application/x-www-form-urlencoded"), ("X-Forwarded-For", "198.51.100.7, 127.0.0.1")],
            Some(body.as_bytes()),
        );
    }
    let listed = ok(&env, &["staff", "list"]);
    assert!(listed.contains("locked: 198.51.100.7"), "{listed}");
    // And X-Forwarded-Proto: https from it makes the cookies Secure.
    let r = c.send("GET", "/login", &[("X-Forwarded-Proto", "https")], None);
    let cookie = r.header("set-cookie").unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");
}

//! The staff console in a real browser: headless Chromium driven over
//! WebDriver (Debian's chromedriver) against the real `fanlic console`.
//! A person logs in through the form, approves and rejects held requests
//! and finds the replies in the outbox, previews a CSV import with an
//! error, is refused what their role or a foreign page may not do, and
//! reads customers' text as text. Screenshots of every page, in English and
//! Chinese, are left under `target/console-screenshots/` for people to
//! look at.
//!
//! One browser serves every test ([`browser`]); each test has its own home
//! and console.

use std::{
    io::{BufRead as _, BufReader, Write as _},
    net::TcpListener,
};

use serde_json::{Value, json};

use crate::common::console::{Console, PASSWORD, add_staff};
use crate::common::webdriver::{Browser, browser};
use crate::common::{BODY, CONTRACT_ADDR, Env, PASS, add_contract, issue_license, mail, ok, replace_line, setup};

/// A home with the usual contract, an admin `alice`, and one request held
/// for its special requirements note (which only staff can clear); its id.
fn home_with_held() -> (Env, String) {
    let env = setup();
    ok(&env, &["config", "--reply-from", "licenses@vendor.example"]);
    add_staff(&env, "alice", "admin");
    let id = hold(&env, "special-1@customer.example", "webroot");
    (env, id)
}

/// Ingests a clean request for `project` with a special requirements note
/// (held for staff); its review id.
fn hold(env: &Env, message_id: &str, project: &str) -> String {
    let body = replace_line(BODY, "Thank you.", "Special requirements: please add our test server too.\n\nThank you.");
    let body = replace_line(&body, "Project name: webroot", &format!("Project name: {project}"));
    let path = env.dir.join(format!("{message_id}.eml"));
    std::fs::write(&path, mail(Some(PASS), message_id, &body)).unwrap();
    let v: Value = serde_json::from_str(ok(env, &["ingest", "--json", path.to_str().unwrap()]).trim()).unwrap();
    assert_eq!(v["decision"], "held", "{v}");
    held_ids(env, message_id).expect("held")
}

/// The review id of the held request with `message_id`, while it is held.
fn held_ids(env: &Env, message_id: &str) -> Option<String> {
    let held: Value = serde_json::from_str(&ok(env, &["review", "--json"])).unwrap();
    let row = held.as_array().unwrap().iter().find(|r| r["message_id"] == message_id)?;
    Some(row["id"].as_i64().unwrap().to_string())
}

/// Logs in through the form, as a person does, and waits to leave it.
fn log_in(b: &mut Browser, console: &Console, name: &str) {
    b.goto(&format!("{}/login", console.url()));
    b.fill("#username", name);
    b.fill("#password", PASSWORD);
    b.click_css("#login");
    b.wait_until("the login to finish", |b| !b.path().starts_with("/login"));
}

/// The `<h1>` of the page.
fn heading(b: &mut Browser) -> String {
    b.text_of("h1")
}

fn has_cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[test]
fn logging_in_through_the_form_then_the_language_switch_sticks() {
    let env = setup();
    add_staff(&env, "alice", "admin");
    let console = Console::start(&env, &[]);
    let mut b = browser();
    // A page without a session sends the browser to the form and back.
    b.goto(&format!("{}/?page=1", console.url()));
    b.wait_path("/login");
    b.fill("#username", "alice");
    b.fill("#password", "not the password");
    b.click_css("#login");
    assert!(b.text_of("#login-error").contains("Wrong name or password"));
    b.fill("#password", PASSWORD);
    b.click_css("#login");
    b.wait_path("/?page=1");
    assert_eq!(heading(&mut b), "Dashboard");
    assert_eq!(b.text_of("#held-count .n"), "0");
    assert!(b.text_of("header").contains("alice"));
    // The switch: Chinese, and it stays Chinese on the next page.
    b.click_css("#lang-switch");
    b.wait_until("the Chinese dashboard", |b| b.text_of("h1") == "概览");
    b.goto(&console.url());
    assert_eq!(heading(&mut b), "概览");
    let root = b.find("html");
    assert_eq!(b.attr(&root, "lang").as_deref(), Some("zh-CN"));
    b.click_css("#logout");
    b.wait_path("/login");
    assert!(b.text_of("h1").contains("员工控制台"));
    // Logged out: the dashboard is the login form again.
    b.goto(&console.url());
    b.wait_path("/login");
}

/// A page on another origin (its own port) with `form`: what a site a
/// logged-in staff member visits could send them.
struct Foreign {
    url: String,
}

impl Foreign {
    fn serve(form: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let page = format!("<!doctype html><html><body><h1>A page elsewhere</h1>{form}</body></html>");
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { return };
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut line = String::new();
                while r.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                    page.len()
                );
            }
        });
        Self { url }
    }
}

#[test]
fn a_form_posted_from_another_origin_is_refused_and_changes_nothing() {
    let (env, id) = home_with_held();
    let console = Console::start(&env, &[]);
    let base = console.url();
    // The session cookie is SameSite=Lax, but another port of the same host
    // is the same site: the browser sends it, and only the CSRF token stops
    // the forged POSTs.
    let foreign = Foreign::serve(format!(
        r#"<form method="post" action="{base}/review/{id}/approve"><input type="hidden" name="confirm" value="yes"><button id="approve-it">Win a prize</button></form>
<form method="post" action="{base}/logout"><input type="hidden" name="csrf" value="{zeros}"><button id="log-out">Log out</button></form>"#,
        zeros = "0".repeat(64)
    ));
    let mut b = browser();
    log_in(&mut b, &console, "alice");
    for button in ["#approve-it", "#log-out"] {
        b.goto(&foreign.url);
        b.click_css(button);
        b.wait_until("the console's answer", |b| b.url().starts_with(&base));
        assert_eq!(heading(&mut b), "The form has expired", "{button}");
        assert!(b.text_of("main").contains("security token"), "{button}");
    }
    // Nothing happened: still held, still logged in.
    assert_eq!(held_ids(&env, "special-1@customer.example").as_deref(), Some(id.as_str()));
    b.goto(&base);
    assert_eq!(heading(&mut b), "Dashboard");
    let audit = ok(&env, &["audit", "--json"]);
    assert!(!audit.contains("\"action\": \"logout\"") && !audit.contains("approved"), "{audit}");
}

#[test]
fn approving_a_held_request_shows_the_reply_first_then_it_is_in_the_outbox() {
    let (env, id) = home_with_held();
    let console = Console::start(&env, &[]);
    let mut b = browser();
    log_in(&mut b, &console, "alice");
    b.click_css("#held-count");
    b.wait_path("/review");
    b.click_css(&format!("#list a[href=\"/review/{id}\"]"));
    b.wait_path(&format!("/review/{id}"));
    assert!(b.text_of("pre.mail").contains("Special requirements: please add our test server too."));
    b.click_css("#approve");
    // The preview: the reply that will be sent, and nothing sent yet.
    let preview = b.text_of("main");
    assert!(preview.contains(CONTRACT_ADDR), "{preview}");
    assert!(preview.contains("Container.lic"), "{preview}");
    assert!(held_ids(&env, "special-1@customer.example").is_some(), "a preview changes nothing");
    b.click_css("#confirm");
    b.wait_path(&format!("/review/{id}?done=approved"));
    let notice = b.text_of("[role=status]");
    let queued: Value = serde_json::from_str(&ok(&env, &["outbox", "list", "--all", "--json"])).unwrap();
    let reply = queued.as_array().unwrap().iter().find(|r| r["to"] == CONTRACT_ADDR).expect("a reply queued");
    assert!(notice.contains(&reply["id"].to_string()), "the notice names outbox reply {}: {notice}", reply["id"]);
    assert!(held_ids(&env, "special-1@customer.example").is_none(), "no longer held");
    // The outbox page lists it.
    b.goto(&format!("{}/outbox", console.url()));
    let list = b.text_of("#list");
    assert!(list.contains(CONTRACT_ADDR) && list.contains(reply["subject"].as_str().unwrap()), "{list}");
    let audit: Value = serde_json::from_str(&ok(&env, &["audit", "--json"])).unwrap();
    assert!(
        audit.as_array().unwrap().iter().any(|r| r["by"] == "alice" && r["action"] == "approved"),
        "approved by the logged-in account: {audit}"
    );
}

#[test]
fn rejecting_with_a_standard_reason_and_a_text_sends_both() {
    let (env, id) = home_with_held();
    let console = Console::start(&env, &[]);
    let mut b = browser();
    log_in(&mut b, &console, "alice");
    b.goto(&format!("{}/review/{id}", console.url()));
    // A standard reason, and words of one's own after it.
    b.select("select[name=reason]", "wrong_signing_date");
    b.fill("textarea[name=text], input[name=text]", "Please send the signed contract's scan first.");
    b.click_css("#reject");
    let preview = b.text_of("main");
    assert!(preview.contains("Please send the signed contract's scan first."), "{preview}");
    assert!(held_ids(&env, "special-1@customer.example").is_some(), "a preview changes nothing");
    b.click_css("#confirm");
    b.wait_path(&format!("/review/{id}?done=rejected"));
    assert!(b.find_all("[role=status]").len() == 1);
    assert!(held_ids(&env, "special-1@customer.example").is_none());
    ok(&env, &["outbox", "flush"]);
    let replies: Vec<String> = std::fs::read_dir(env.home.join("outbox"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(replies.len(), 1);
    assert!(replies[0].contains(&format!("To: {CONTRACT_ADDR}")), "{}", replies[0]);
    // The text part is quoted-printable: undo its soft line breaks.
    let unfolded = replies[0].replace("=\r\n", "").replace("=\n", "");
    assert!(unfolded.contains("signing date"), "the standard reason: {}", replies[0]);
    assert!(unfolded.contains("Please send the signed contract's scan first."), "{}", replies[0]);
    assert!(!replies[0].contains("Container.lic"));
}

#[test]
fn a_csv_import_with_an_error_shows_it_by_line_and_writes_nothing() {
    let env = setup();
    add_staff(&env, "alice", "admin");
    let before = ok(&env, &["contract", "list"]);
    let csv = env.dir.join("contracts.csv");
    std::fs::write(
        &csv,
        "company,email,signed,product,methods,max_nodes,version,expires\n\
         Northwind Trading Co.,alice@northwind.example,2026/11/20,FineReport,local-container,3,11.0,2099-12-31\n\
         Contoso Ltd.,li.ming@contoso.example,2026/03/15,FineReport,local-container,lots,11.0,2099-12-31\n",
    )
    .unwrap();
    let console = Console::start(&env, &[]);
    let mut b = browser();
    log_in(&mut b, &console, "alice");
    b.goto(&format!("{}/contracts/import", console.url()));
    // The file chooser, as a person picks the file.
    b.fill("input[name=csv]", csv.to_str().unwrap());
    b.click_css("#preview");
    let preview = b.text_of("#preview");
    assert!(preview.contains("Northwind Trading Co."), "every row: {preview}");
    // Each row carries its line; the problems follow their line's row.
    assert!(b.text_of("#preview tr[data-line=\"2\"]").contains("Northwind Trading Co."), "{preview}");
    let line3 = b.text_of("#preview tr[data-line=\"3\"]");
    assert!(line3.starts_with('3') && line3.contains("Contoso Ltd."), "{line3}");
    let problems = b.text_of("#preview tr[data-problems-of=\"3\"]");
    assert!(problems.contains("max_nodes \"lots\""), "the error by line: {preview}");
    assert!(b.try_find("#preview tr[data-problems-of=\"2\"]").is_none(), "line 2 is clean: {preview}");
    assert!(b.try_find("#import").is_none(), "no import while there is an error");
    assert_eq!(ok(&env, &["contract", "list"]), before, "nothing written");
}

#[test]
fn a_viewer_is_refused_an_approve_and_nothing_changes() {
    let (env, id) = home_with_held();
    add_staff(&env, "victor", "viewer");
    let console = Console::start(&env, &[]);
    let mut b = browser();
    log_in(&mut b, &console, "victor");
    b.goto(&format!("{}/review/{id}", console.url()));
    assert!(b.text_of("pre.mail").contains("Special requirements"), "a viewer reads the request");
    if b.try_find("#approve").is_some() {
        b.click_css("#approve");
    } else {
        // No button for a viewer: post the form the page would have had,
        // with the session's own token, as a tampered page could.
        b.execute(
            "const f = document.createElement('form'); f.method = 'post'; f.action = arguments[0];
             f.appendChild(document.querySelector('input[name=csrf]').cloneNode());
             const c = document.createElement('input'); c.name = 'confirm'; c.value = 'yes'; f.appendChild(c);
             document.body.appendChild(f); f.submit();",
            &[json!(format!("/review/{id}/approve"))],
        );
    }
    b.wait_until("the refusal", |b| b.text_of("h1") == "Not allowed");
    assert!(b.text_of("main").contains("victor"));
    assert_eq!(held_ids(&env, "special-1@customer.example").as_deref(), Some(id.as_str()), "still held");
    let queued: Value = serde_json::from_str(&ok(&env, &["outbox", "list", "--all", "--json"])).unwrap();
    assert_eq!(queued.as_array().unwrap().len(), 0, "nothing sent");
}

#[test]
fn a_company_name_with_a_script_tag_is_shown_as_text() {
    let env = setup();
    add_staff(&env, "alice", "admin");
    let evil = "<script>alert('xss')</script> Evil Co.";
    add_contract(&env, evil, "boss@evil.example", "2026/11/20", "3");
    let license = issue_license(&env, evil, "webroot");
    let console = Console::start(&env, &[]);
    let mut b = browser();
    log_in(&mut b, &console, "alice");
    for path in ["/contracts?q=Evil".to_owned(), format!("/licenses?q={license}"), format!("/licenses/{license}")] {
        b.goto(&format!("{}{path}", console.url()));
        assert_eq!(b.alert_text(), None, "{path}: no script ran");
        assert!(b.text_of("main").contains(evil), "{path}: the name as typed, as text");
        assert!(b.source().contains("&lt;script&gt;alert"), "{path}: escaped in the page");
        assert!(b.find_all("main script").is_empty(), "{path}: no script element");
    }
}

/// The pages of a home with something on each, and the path of each
/// screenshot's page: what people look at under `target/console-screenshots/`.
#[test]
fn screenshots_of_every_page_in_english_and_chinese() {
    let (env, id) = home_with_held();
    let other = hold(&env, "special-2@customer.example", "second");
    ok(&env, &["approve", &other, "--by", "alice"]);
    let license = issue_license(&env, "Customer Trading Co., Ltd.", "third");
    let console = Console::start(&env, &[]);
    let base = console.url();
    let mut b = browser();
    let mut shots = Vec::new();
    for lang in ["en", "zh"] {
        b.clear_cookies();
        b.goto(&format!("{base}/login"));
        if lang == "zh" {
            b.click_css("#lang-switch");
            b.wait_until("the Chinese login form", |b| has_cjk(&b.text_of("h1")));
        }
        shots.push(b.screenshot(&format!("login-{lang}")));
        log_in(&mut b, &console, "alice");
        let pages: [(&str, String); 10] = [
            ("dashboard", "/".into()),
            ("review-list", "/review".into()),
            ("review-detail", format!("/review/{id}")),
            ("contracts-list", "/contracts".into()),
            ("contract-import", "/contracts/import".into()),
            ("licenses-list", "/licenses".into()),
            ("license", format!("/licenses/{license}")),
            ("audit", "/audit".into()),
            ("outbox", "/outbox".into()),
            ("staff", "/staff".into()),
        ];
        for (name, path) in pages {
            b.goto(&format!("{base}{path}"));
            check_page(&mut b, lang, &path);
            shots.push(b.screenshot(&format!("{name}-{lang}")));
            match name {
                "review-detail" => {
                    b.click_css("#approve");
                    b.find("#confirm");
                    check_page(&mut b, lang, "the approve preview");
                    shots.push(b.screenshot(&format!("approve-preview-{lang}")));
                }
                "contract-import" => {
                    b.fill(
                        "textarea[name=csv_text]",
                        "company,email,signed,product,methods,max_nodes,version,expires\n\
                         Northwind Trading Co.,alice@northwind.example,2026/11/20,FineReport,local-container,3,11.0,2099-12-31\n\
                         Contoso Ltd.,li.ming@contoso.example,2026/03/15,FineReport,local-container,lots,11.0,2099-12-31\n",
                    );
                    b.click_css("#preview");
                    b.find("#preview");
                    check_page(&mut b, lang, "the import preview");
                    shots.push(b.screenshot(&format!("contract-import-preview-{lang}")));
                }
                _ => {}
            }
        }
    }
    assert_eq!(shots.len(), 2 * 13);
    eprintln!("screenshots: {}", crate::common::webdriver::screenshot_dir().display());
}

/// A console page (not an error page) in `lang`: Chinese pages have a
/// Chinese heading, English ones none.
fn check_page(b: &mut Browser, lang: &str, what: &str) {
    let root = b.find("html");
    let want = if lang == "zh" { "zh-CN" } else { "en" };
    assert_eq!(b.attr(&root, "lang").as_deref(), Some(want), "{what}: {}", b.source());
    assert!(b.try_find("header.top nav").is_some(), "{what}: a console page, not an error: {}", b.source());
    let h1 = heading(b);
    assert_eq!(has_cjk(&h1), lang == "zh", "{what}: heading {h1:?} in {lang}");
}

/// The README's walk-through: `fanlic demo --keep DIR`, the first admin,
/// the console, and a held request of the demo approved in the browser.
#[test]
fn a_held_request_of_the_demos_kept_home_is_approved_in_the_browser() {
    let env = Env::temp();
    let home = env.home.to_str().unwrap();
    let out = ok(&env, &["demo", "--keep", home]);
    assert!(out.contains(&format!("fanlic --home {home} staff add admin --role admin --password-stdin")), "{out}");
    assert!(out.contains(&format!("fanlic --home {home} console")) && out.contains("http://127.0.0.1:8390"), "{out}");
    // A kept home is never written over.
    let again = crate::common::fanlic(&env, &["demo", "--keep", home], None);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("new or empty folder"));
    let change = held_ids(&env, "demo-change-1@northwind.example").expect("the demo leaves a request held");
    assert!(held_ids(&env, "demo-spoof-1@northwind.example").is_some(), "and the spoof");
    add_staff(&env, "admin", "admin");
    let console = Console::start(&env, &[]);
    let mut b = browser();
    log_in(&mut b, &console, "admin");
    b.click_css("header nav a[href=\"/review\"]");
    b.click_css(&format!("#list a[href=\"/review/{change}\"]"));
    b.click_css("#approve");
    assert!(b.text_of("main").contains("alice@northwind.example"), "the reply, before it is sent");
    b.click_css("#confirm");
    b.wait_path(&format!("/review/{change}?done=approved"));
    assert!(held_ids(&env, "demo-change-1@northwind.example").is_none());
    // The reply it queued is the newest in the outbox, named by the notice.
    let queued: Value = serde_json::from_str(&ok(&env, &["outbox", "list", "--all", "--json"])).unwrap();
    let newest = queued.as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).max().unwrap();
    let notice = b.text_of("[role=status]");
    assert!(notice.contains(&newest.to_string()), "outbox reply {newest}: {notice}");
    b.click_css("header nav a[href=\"/outbox\"]");
    assert!(b.text_of("#list").contains(&newest.to_string()));
}

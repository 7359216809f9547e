//! The console's audit, outbox, dashboard and staff pages over plain HTTP,
//! against the real `fanlic console` and records made by the real `fanlic`
//! commands: filters and pages of the audit trail, its CSV export, an
//! outbox failure retried (and refused to a viewer), the dashboard's counts
//! beside what the CLI says, and staff accounts managed by an admin only.

use std::fs;

use serde_json::Value;

use crate::common::console::{Client, Console, PASSWORD, add_staff, hidden};
use crate::common::smtp::free_port;
use crate::common::{BODY, Env, PASS, fanlic, issue_license, mail, ok, replace_line, setup};

/// Rows of the page's list (`<tr id="audit-…">`, `<tr id="outbox-…">`, …).
fn rows(page: &str, prefix: &str) -> usize {
    page.matches(&format!("<tr id=\"{prefix}-")).count()
}

fn ingest(env: &Env, name: &str, text: &str) -> Value {
    let path = env.dir.join(name);
    fs::write(&path, text).unwrap();
    serde_json::from_str(ok(env, &["ingest", "--json", path.to_str().unwrap()]).trim()).unwrap()
}

/// `fanlic outbox flush` to an SMTP port nobody listens on: its report.
fn flush_to_nowhere(env: &Env, port: u16) -> Value {
    let port = port.to_string();
    let out =
        ok(env, &["outbox", "flush", "--smtp-host", "127.0.0.1", "--smtp-port", &port, "--smtp-tls", "none", "--json"]);
    serde_json::from_str(&out).unwrap()
}

fn contract(env: &Env, company: &str, email: &str, max_licenses: &str, by: &str) {
    ok(
        env,
        &[
            "contract",
            "add",
            "--company",
            company,
            "--email",
            email,
            "--signed",
            "2026/11/20",
            "--product",
            "FineReport",
            "--methods",
            "local-container",
            "--max-nodes",
            "3",
            "--version",
            "11.0",
            "--expires",
            "2099-12-31",
            "--max-licenses",
            max_licenses,
            "--by",
            by,
        ],
    );
}

/// Audit entries of `fanlic audit --json` whose action is `action`.
fn cli_audit(env: &Env, action: &str) -> Vec<Value> {
    let all: Value = serde_json::from_str(&ok(env, &["audit", "--json"])).unwrap();
    all.as_array().unwrap().iter().filter(|e| e["action"] == action).cloned().collect()
}

#[test]
fn audit_filters_pages_and_exports_csv_safely() {
    let env = setup();
    add_staff(&env, "alice", "admin");
    add_staff(&env, "vera", "viewer");
    for i in 0..55 {
        contract(&env, &format!("Company {i:02}"), &format!("it{i}@company{i}.example"), "5", "carol");
    }
    let license = issue_license(&env, "Customer Trading Co., Ltd.", "webroot");
    let formula = "=HYPERLINK(\"http://evil.example\",\"click\")";
    ok(&env, &["revoke", &license, "--reason", formula, "--no-mail", "--by", "alice"]);
    let console = Console::start(&env, &[]);
    // A viewer reads the audit trail.
    let mut c = console.login("vera");

    // By action: only contract-add rows, 50 on the first page, the rest on page 2.
    let p1 = c.get("/audit?action=contract-add");
    assert_eq!(p1.status, 200);
    assert_eq!(rows(&p1.body, "audit"), 50, "{}", p1.body);
    assert_eq!(p1.body.matches("<span class=\"tag\">").count(), 50, "only contract-add rows");
    assert_eq!(p1.body.matches("<span class=\"tag\">contract-add<").count(), 50);
    assert!(p1.body.contains("rel=\"next\" href=\"/audit?action=contract-add&amp;page=2\""), "{}", p1.body);
    // One more than the CLI's contract-add rows: the contract setup() added.
    let total = cli_audit(&env, "contract-add").len();
    assert_eq!(total, 56);
    let p2 = c.get("/audit?action=contract-add&page=2");
    assert_eq!(rows(&p2.body, "audit"), total - 50);
    assert!(!p2.body.contains("rel=\"next\""));
    // Newest first: Company 54's row is on page 1, the oldest on page 2.
    assert!(p1.body.contains("/contracts/56\"") && p2.body.contains("/contracts/1\""));

    // By who: carol's rows are her 55 contracts, alice's the revocation and her logins.
    let carol = c.get("/audit?by=carol&page=2");
    assert_eq!(rows(&carol.body, "audit"), 5);
    let alice = c.get("/audit?by=alice");
    assert_eq!(rows(&alice.body, "audit"), 1, "{}", alice.body);
    assert!(alice.body.contains(&format!("/licenses/{license}\"")), "rows link to the license page");
    // By who and action together, by text, by license, by date.
    assert_eq!(rows(&c.get("/audit?by=carol&action=revoke").body, "audit"), 0);
    assert_eq!(rows(&c.get("/audit?q=HYPERLINK").body, "audit"), 1);
    assert_eq!(rows(&c.get(&format!("/audit?license={license}")).body, "audit"), cli_license_rows(&env, &license));
    assert_eq!(rows(&c.get("/audit?action=contract-add&until=2000-01-01").body, "audit"), 0);
    // A bad date is a message, not a crash.
    let bad = c.get("/audit?since=yesterday");
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("YYYY-MM-DD"), "{}", bad.body);

    // The export: a header, every matching row, the formula defused.
    let csv = c.get("/audit.csv?by=alice");
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(csv.header("content-disposition"), Some("attachment; filename=\"fanlic-audit.csv\""));
    let lines: Vec<&str> = csv.body.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "id,at,by,action,license_id,contract_id,decision_id,why");
    assert_eq!(lines.len(), 2, "{}", csv.body);
    assert!(
        lines[1].ends_with(",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\""),
        "quoted, its quotes doubled, behind a ': {}",
        lines[1]
    );
    let all = c.get("/audit.csv?action=contract-add");
    assert_eq!(all.body.split("\r\n").filter(|l| !l.is_empty()).count(), total + 1, "every row, not one page");
}

/// How many entries `fanlic audit --license` shows for `license` (its own rows).
fn cli_license_rows(env: &Env, license: &str) -> usize {
    let v: Value = serde_json::from_str(&ok(env, &["audit", "--license", license, "--json"])).unwrap();
    v.as_array().unwrap().iter().filter(|e| e["license_id"] == license).count()
}

#[test]
fn an_outbox_failure_is_listed_and_an_issuer_makes_it_due_again() {
    let env = setup();
    add_staff(&env, "alice", "admin");
    add_staff(&env, "ivan", "issuer");
    add_staff(&env, "vera", "viewer");
    let v = ingest(&env, "clean.eml", &mail(Some(PASS), "clean-1@customer.example", BODY));
    assert_eq!(v["decision"], "issued", "{v}");
    let port = free_port();
    let first = flush_to_nowhere(&env, port);
    let id = first["failed"][0]["id"].as_i64().unwrap();
    assert_eq!(first["failed"][0]["attempts"], 1, "{first}");
    // Backing off: a flush now does not try it.
    assert_eq!(flush_to_nowhere(&env, port)["not_due"], 1);

    let console = Console::start(&env, &[]);
    let mut vera = console.login("vera");
    let page = vera.get("/outbox?status=failed");
    assert_eq!(rows(&page.body, "outbox"), 1, "{}", page.body);
    assert!(page.body.contains("alice@customer.example"));
    assert!(page.body.contains("Connection refused") || page.body.contains("connection"), "{}", page.body);
    assert!(!page.body.contains(&format!("id=\"retry-{id}\"")), "no retry button for a viewer");
    let r = vera.post_form("/outbox", &format!("/outbox/{id}/retry"), &[]);
    assert_eq!(r.status, 403);
    assert_eq!(flush_to_nowhere(&env, port)["not_due"], 1, "the viewer's retry changed nothing");
    assert!(cli_audit(&env, "outbox-retry").is_empty());

    let mut ivan = console.login("ivan");
    let page = ivan.get("/outbox?status=failed");
    assert!(page.body.contains(&format!("id=\"retry-{id}\"")), "{}", page.body);
    let r = ivan.post_form("/outbox?status=failed", &format!("/outbox/{id}/retry"), &[]);
    assert_eq!(r.status, 303, "{}", r.body);
    let shown = ivan.get(r.header("location").unwrap());
    assert!(shown.body.contains("role=\"status\""), "{}", shown.body);
    // Due again now: the next flush tries it (and fails again, attempts kept and counted on).
    let again = flush_to_nowhere(&env, port);
    assert_eq!(again["failed"][0]["id"], id, "{again}");
    assert_eq!(again["failed"][0]["attempts"], 2, "{again}");
    let audited = cli_audit(&env, "outbox-retry");
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0]["by"], "ivan");
    // Delivered (to files, the default), it is sent: listed so, nothing to retry.
    ivan.post_form("/outbox", &format!("/outbox/{id}/retry"), &[]);
    let sent: Value = serde_json::from_str(&ok(&env, &["outbox", "flush", "--json"])).unwrap();
    assert_eq!(sent["sent"][0]["id"], id, "{sent}");
    let page = ivan.get("/outbox?status=sent");
    assert_eq!(rows(&page.body, "outbox"), 1);
    assert!(!page.body.contains(&format!("id=\"retry-{id}\"")));
    assert_eq!(rows(&ivan.get("/outbox?status=failed").body, "outbox"), 0);
    let r = ivan.post_form("/outbox", &format!("/outbox/{id}/retry"), &[]);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("sent already"), "{}", r.body);
    assert_eq!(ivan.post_form("/outbox", "/outbox/999/retry", &[]).status, 404);
}

#[test]
fn the_dashboard_counts_what_the_cli_shows() {
    let env = setup();
    add_staff(&env, "alice", "admin");
    // Issued today: one by ingest, one by hand.
    let v = ingest(&env, "clean.eml", &mail(Some(PASS), "clean-2@customer.example", BODY));
    assert_eq!(v["decision"], "issued", "{v}");
    issue_license(&env, "Customer Trading Co., Ltd.", "second");
    // Held: a request with a note only staff can clear.
    let note = replace_line(BODY, "Thank you.", "Special requirements: add our test server.\n\nThank you.");
    let held = ingest(&env, "held.eml", &mail(Some(PASS), "held-1@customer.example", &note));
    assert_eq!(held["decision"], "held", "{held}");
    // An outbox failure.
    flush_to_nowhere(&env, free_port());
    // Expiring in 10 days; and a contract with 1 of 2 licenses used (one short).
    let soon = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 86_400) + 10;
    let soon = fanlic_formats::Date::from_days_since_epoch(soon).to_string();
    contract(&env, "Near Limit Ltd", "it@near.example", "2", "alice");
    let out = fanlic(
        &env,
        &[
            "issue",
            "--company",
            "Near Limit Ltd",
            "--project",
            "p1",
            "--app",
            "FineReport",
            "--version",
            "11.0",
            "--nodes",
            "3",
            "--expires",
            &soon,
            "--signed",
            "2026/11/20",
            "-o",
            "near.lic",
        ],
        None,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let console = Console::start(&env, &[]);
    let mut c = console.login("alice");
    let page = c.get("/");
    assert_eq!(page.status, 200);
    let card = |id: &str| -> u64 {
        let at = page.body.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no card {id}: {}", page.body));
        let rest = &page.body[at..];
        let n = &rest[rest.find("class=\"n\">").unwrap() + 10..];
        n[..n.find('<').unwrap()].parse().unwrap()
    };
    let review: Value = serde_json::from_str(&ok(&env, &["review", "--json"])).unwrap();
    assert_eq!(card("held-count"), review.as_array().unwrap().len() as u64);
    assert_eq!(card("held-count"), 1);
    let issued = cli_audit(&env, "issued").len() + cli_audit(&env, "issue").len();
    assert_eq!(card("issued-today"), issued as u64);
    assert_eq!(card("issued-today"), 3);
    let outbox: Value = serde_json::from_str(&ok(&env, &["outbox", "list", "--json"])).unwrap();
    let failing = outbox.as_array().unwrap().iter().filter(|e| e["status"] == "failed" || e["attempts"] != 0).count();
    assert_eq!(card("outbox-failed"), failing as u64);
    assert_eq!(card("outbox-failed"), 1);
    assert_eq!(card("expiring-soon"), 1);
    assert_eq!(card("contracts-near-limit"), 1);
    let near_id = ok(&env, &["contract", "show", "Near Limit Ltd", "--json"]);
    let near_id = serde_json::from_str::<Value>(&near_id).unwrap()["id"].as_i64().unwrap();
    assert!(page.body.contains(&format!("href=\"/contracts/{near_id}\"")), "{}", page.body);
    assert!(page.body.contains("href=\"/outbox?status=failed\"") && page.body.contains("href=\"/review\""));
}

fn lock_out(console: &Console, name: &str) {
    let mut c = console.client();
    for _ in 0..5 {
        let page = c.get("/login");
        let csrf = hidden(&page.body, "csrf").unwrap();
        c.post("/login", &[("username", name), ("password", "wrong password"), ("csrf", &csrf)]);
    }
}

fn can_log_in(console: &Console, name: &str) -> bool {
    let mut c: Client = console.client();
    let page = c.get("/login");
    let csrf = hidden(&page.body, "csrf").unwrap();
    c.post("/login", &[("username", name), ("password", PASSWORD), ("csrf", &csrf), ("next", "/")]).status == 303
}

#[test]
fn only_an_admin_manages_staff_and_lifts_lockouts() {
    let env = Env::temp();
    ok(&env, &["init"]);
    add_staff(&env, "alice", "admin");
    add_staff(&env, "bob", "issuer");
    let console = Console::start(&env, &[]);
    let mut bob = console.login("bob");
    assert_eq!(bob.get("/staff").status, 403);
    let r = bob.post_form("/", "/staff", &[("name", "mallory"), ("role", "admin"), ("password", PASSWORD)]);
    assert_eq!(r.status, 403);
    assert_eq!(bob.post_form("/", "/staff/alice/disable", &[]).status, 403);

    let mut alice = console.login("alice");
    // Five wrong passwords lock bob's name and this address; the page shows
    // both lockouts and unlocking lifts them.
    lock_out(&console, "bob");
    assert!(!can_log_in(&console, "bob"));
    let page = alice.get("/staff");
    assert!(page.body.contains("id=\"unlock-bob\""), "{}", page.body);
    assert!(page.body.contains("id=\"unlock-client-"), "{}", page.body);
    assert_eq!(alice.post_form("/staff", "/staff/bob/unlock", &[]).status, 303);
    assert!(!can_log_in(&console, "bob"), "the address is still locked");
    assert_eq!(alice.post_form("/staff", "/staff/-/unlock", &[("client", "127.0.0.1")]).status, 303);
    assert!(can_log_in(&console, "bob"));
    assert!(!alice.get("/staff").body.contains("id=\"unlock-"));

    let page = alice.get("/staff");
    assert_eq!(page.status, 200);
    assert_eq!(rows(&page.body, "staff"), 2);
    // A weak password is refused with the rule, nothing added.
    let r = alice.post_form("/staff", "/staff", &[("name", "dave"), ("role", "issuer"), ("password", "short")]);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("10 characters"), "{}", r.body);
    let r = alice.post_form("/staff", "/staff", &[("name", "dave"), ("role", "issuer"), ("password", PASSWORD)]);
    assert_eq!(r.status, 303, "{}", r.body);
    let shown = alice.get(r.header("location").unwrap());
    assert!(shown.body.contains("role=\"status\"") && shown.body.contains("dave"), "{}", shown.body);
    assert!(can_log_in(&console, "dave"));
    // Role change and disable, through the library (audited under alice).
    assert_eq!(alice.post_form("/staff", "/staff/dave/role", &[("role", "viewer")]).status, 303);
    assert!(ok(&env, &["staff", "list"]).lines().any(|l| l.contains("dave") && l.contains("viewer")));
    assert_eq!(alice.post_form("/staff", "/staff/dave/disable", &[]).status, 303);
    assert!(!can_log_in(&console, "dave"));
    // The last admin stays.
    assert_eq!(alice.post_form("/staff", "/staff/alice/disable", &[]).status, 400);

    let by_alice: Vec<Value> =
        ["staff-add", "staff-role", "staff-disable", "staff-unlock"].iter().flat_map(|a| cli_audit(&env, a)).collect();
    assert!(by_alice.iter().filter(|e| e["by"] == "alice").count() >= 5, "{by_alice:?}");
}

#[test]
fn audit_text_search_and_an_export_longer_than_one_read() {
    let env = Env::temp();
    ok(&env, &["init"]);
    add_staff(&env, "alice", "admin");
    // 4,500 entries, many recorded in the same second (the export reads
    // past them by id), a few with a rare text, one in Chinese.
    {
        let mut conn = rusqlite::Connection::open(env.home.join("fanlic.db")).unwrap();
        let tx = conn.transaction().unwrap();
        for i in 0..4500_i64 {
            let why = match i {
                7 | 1234 | 4000 => format!("entry {i} needle-xyz"),
                99 => "客户要求的测试原因".to_owned(),
                _ => format!("entry {i}"),
            };
            tx.execute(
                "INSERT INTO audit (at, by, action, why) VALUES (?1, 'loader', 'contract-update', ?2)",
                rusqlite::params![1_790_000_000 + i / 100, why],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    let console = Console::start(&env, &[]);
    let mut c = console.login("alice");
    let rare = c.get("/audit?q=needle-xyz");
    assert_eq!(rows(&rare.body, "audit"), 3, "{}", rare.body);
    assert_eq!(rows(&c.get("/audit?q=NEEDLE").body, "audit"), 3, "any case");
    assert_eq!(rows(&c.get("/audit?q=测试原因").body, "audit"), 1);
    assert_eq!(rows(&c.get("/audit?q=原因").body, "audit"), 1, "two characters: no trigram, still found");
    assert_eq!(rows(&c.get("/audit?q=entry+1234+").body, "audit"), 1);
    let common = c.get("/audit?q=entry&by=loader");
    assert_eq!(rows(&common.body, "audit"), 50);
    assert!(common.body.contains("rel=\"next\""));
    // 50%_ are not wildcards.
    assert_eq!(rows(&c.get("/audit?q=%25").body, "audit"), 0);

    let csv = c.get("/audit.csv?by=loader");
    let lines: Vec<&str> = csv.body.split("\r\n").filter(|l| !l.is_empty()).skip(1).collect();
    assert_eq!(lines.len(), 4500);
    let mut ids: Vec<i64> = lines.iter().map(|l| l.split(',').next().unwrap().parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first, each once");
    ids.dedup();
    assert_eq!(ids.len(), 4500);
}

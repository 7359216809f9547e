//! The console's license pages over plain HTTP, against the real binary:
//! search, the license page, the bearer-file download and who may have it,
//! resending, revoking (previewed first) and unbinding, each audited under
//! the logged-in account; what customers wrote shown as text.

use serde_json::Value;

use crate::common::console::{Answer, Client, Console, add_staff};
use crate::common::{BODY, CONTRACT_ADDR, Env, PASS, bind, issue_license, mail, ok, setup};

const COMPANY: &str = "Customer Trading Co., Ltd.";

/// A home with the contract of [`setup`], an admin `alice`, an issuer
/// `ian` and a viewer `vic`.
fn home() -> Env {
    let env = setup();
    add_staff(&env, "alice", "admin");
    add_staff(&env, "ian", "issuer");
    add_staff(&env, "vic", "viewer");
    env
}

fn json(env: &Env, args: &[&str]) -> Value {
    serde_json::from_str(&ok(env, args)).unwrap()
}

/// GET `path` in English (without Accept-Language the console speaks Chinese).
fn en(c: &mut Client, path: &str) -> Answer {
    c.send("GET", path, &[("Accept-Language", "en")], None)
}

/// The license ids linked from the list `path` shows.
fn listed(c: &mut Client, path: &str) -> Vec<String> {
    let r = c.get(path);
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    r.body
        .split("href=\"/licenses/")
        .skip(1)
        .filter_map(|s| s.get(..32))
        .filter(|id| id.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned)
        .collect()
}

/// A list of one license id.
fn one(id: &str) -> Vec<String> {
    vec![id.to_owned()]
}

/// Audit entries of `action` for license `id`.
fn audited(env: &Env, id: &str, action: &str) -> Vec<Value> {
    let all = json(env, &["audit", "--license", id, "--json"]);
    all.as_array().unwrap().iter().filter(|e| e["action"] == action).cloned().collect()
}

#[test]
fn licenses_are_found_by_company_project_license_id_and_contract_address() {
    let env = home();
    let ours = issue_license(&env, COMPANY, "webroot");
    let other = issue_license(&env, "Northwind Traders", "bi-main");
    let chinese = issue_license(&env, "北京帆软软件有限公司", "report");
    let console = Console::start(&env, &[]);
    let mut c = console.login("vic");

    let all = listed(&mut c, "/licenses");
    assert!(all.contains(&ours) && all.contains(&other) && all.contains(&chinese), "{all:?}");
    assert!(c.get("/licenses").body.contains("id=\"list\""));
    // Company: from its start, case and width folded.
    assert_eq!(listed(&mut c, "/licenses?q=customer%20trading"), one(&ours));
    assert_eq!(listed(&mut c, "/licenses?q=NORTHWIND"), one(&other));
    // Anywhere in the company or project when nothing starts so.
    assert_eq!(listed(&mut c, "/licenses?q=trading"), one(&ours));
    assert_eq!(listed(&mut c, "/licenses?q=%E5%B8%86%E8%BD%AF"), one(&chinese), "帆软");
    // Project.
    assert_eq!(listed(&mut c, "/licenses?q=bi-ma"), one(&other));
    assert_eq!(listed(&mut c, "/licenses?q=webroot"), one(&ours));
    // License id: a prefix, any case.
    let prefix = ours[..10].to_ascii_uppercase();
    assert_eq!(listed(&mut c, &format!("/licenses?q={prefix}")), one(&ours));
    assert_eq!(listed(&mut c, &format!("/licenses?q={ours}")), one(&ours));
    // Contract address: the licenses of its contract's company.
    assert_eq!(listed(&mut c, &format!("/licenses?q={CONTRACT_ADDR}")), one(&ours));
    assert_eq!(listed(&mut c, "/licenses?q=Alice%40Customer.example"), one(&ours));
    // Nothing matches.
    assert!(listed(&mut c, "/licenses?q=nobody%40nowhere.example").is_empty());
    assert!(en(&mut c, "/licenses?q=zzz").body.contains("No license matches"));
    // State filter, and a page past the end.
    assert_eq!(listed(&mut c, "/licenses?state=revoked"), Vec::<String>::new());
    assert_eq!(listed(&mut c, "/licenses?state=live&q=webroot"), one(&ours));
    assert!(listed(&mut c, "/licenses?page=9").is_empty());
    assert_eq!(c.get("/licenses?page=x&state=y").status, 200, "bad values are ignored, not a failure");
}

#[test]
fn expiring_lists_the_live_licenses_ending_within_the_days_given() {
    let env = home();
    let never = issue_license(&env, COMPANY, "webroot");
    let today = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 86_400;
    let soon = fanlic_formats::Date::from_days_since_epoch(today + 10).to_string();
    let later = fanlic_formats::Date::from_days_since_epoch(today + 90).to_string();
    let issue = |project: &str, expires: &str| {
        let out = format!("{project}-Container.lic");
        let v = json(
            &env,
            &[
                "issue",
                "--company",
                COMPANY,
                "--project",
                project,
                "--app",
                "FineReport",
                "--version",
                "11.0",
                "--nodes",
                "3",
                "--expires",
                expires,
                "--signed",
                "2026/11/20",
                "-o",
                &out,
                "--json",
            ],
        );
        v["license_id"].as_str().unwrap().to_owned()
    };
    let ending = issue("ending-soon", &soon);
    let ending_later = issue("ending-later", &later);
    let console = Console::start(&env, &[]);
    let mut c = console.login("vic");
    assert_eq!(listed(&mut c, "/licenses?expiring=30"), one(&ending));
    let both = listed(&mut c, "/licenses?expiring=120");
    assert_eq!(both, [ending.clone(), ending_later.clone()], "soonest first");
    assert!(!both.contains(&never));
    assert!(en(&mut c, "/licenses?expiring=30").body.contains("expiring within 30 days"));
}

#[test]
fn the_license_page_shows_its_terms_binding_and_audit() {
    let env = home();
    let id = issue_license(&env, COMPANY, "webroot");
    bind(&env, &id, [7; 32]);
    let console = Console::start(&env, &[]);
    let mut c = console.login("vic");
    let page = en(&mut c, &format!("/licenses/{id}"));
    assert_eq!(page.status, 200);
    let body = &page.body;
    assert!(body.contains("id=\"terms\""), "{body}");
    for want in [id.as_str(), COMPANY, "webroot", "FineReport", "11.0", "2026-11-20", "never", "local container"] {
        assert!(body.contains(&want.replace('\'', "&#39;")), "{want} on the page: {body}");
    }
    assert!(body.contains("id=\"binding\""));
    assert!(body.contains(&"07".repeat(32)), "the bound project's fingerprint: {body}");
    assert!(body.contains("Not revoked."));
    assert!(body.contains(">issue<"), "the audit trail has the issue row: {body}");
    // A viewer sees no bearer file and no action.
    for id_attr in ["id=\"download\"", "id=\"resend\"", "id=\"revoke\"", "id=\"unbind\"", "/Container.lic\""] {
        assert!(!body.contains(id_attr), "{id_attr} shown to a viewer");
    }
    // In Chinese.
    let zh = c.send("GET", &format!("/licenses/{id}"), &[("Accept-Language", "zh-CN")], None);
    assert!(zh.body.contains("授权条款") && zh.body.contains("项目绑定"), "{}", zh.body);
    // No such license; not a license id.
    assert_eq!(c.get(&format!("/licenses/{}", "0".repeat(32))).status, 404);
    assert_eq!(c.get("/licenses/not-an-id").status, 404);
    assert_eq!(c.get("/licenses/not-an-id/Container.lic").status, 403, "the role is checked first");
}

#[test]
fn container_lic_is_for_issuers_and_is_the_file_fanlic_issue_wrote() {
    let env = home();
    let id = issue_license(&env, COMPANY, "webroot");
    let written = std::fs::read(env.dir.join("webroot-Container.lic")).unwrap();
    let console = Console::start(&env, &[]);
    let path = format!("/licenses/{id}/Container.lic");

    let mut viewer = console.login("vic");
    let r = viewer.get(&path);
    assert_eq!(r.status, 403);
    assert!(!r.bytes.windows(written.len().min(64)).any(|w| w == &written[..written.len().min(64)]));

    let mut issuer = console.login("ian");
    assert!(issuer.get(&format!("/licenses/{id}")).body.contains(&format!("href=\"{path}\"")));
    let r = issuer.get(&path);
    assert_eq!(r.status, 200);
    assert_eq!(r.bytes, written, "byte for byte the stored file");
    assert_eq!(r.header("content-disposition"), Some("attachment; filename=\"Container.lic\""));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // Not a private cloud: no image.
    assert_eq!(issuer.get(&format!("/licenses/{id}/image")).status, 400);
    assert_eq!(viewer.get(&format!("/licenses/{id}/image")).status, 403);
}

#[test]
fn resend_queues_the_license_mail_to_the_contract_address_under_the_logged_in_name() {
    let env = home();
    let id = issue_license(&env, COMPANY, "webroot");
    let stray = issue_license(&env, "No Contract Ltd", "orphan");
    let written = std::fs::read(env.dir.join("webroot-Container.lic")).unwrap();
    let console = Console::start(&env, &[]);
    let page = format!("/licenses/{id}");

    let mut viewer = console.login("vic");
    assert_eq!(viewer.post_form(&page, &format!("{page}/resend"), &[]).status, 403);

    let mut issuer = console.login("ian");
    let r = issuer.post_form(&page, &format!("{page}/resend"), &[]);
    assert_eq!(r.status, 303, "{}", r.body);
    let location = r.header("location").unwrap().to_owned();
    assert!(location.starts_with(&format!("{page}?done=resent&outbox=")), "{location}");
    let done = issuer.get(&location);
    assert!(done.body.contains("role=\"status\""), "{}", done.body);

    let outbox = json(&env, &["outbox", "list", "--all", "--json"]);
    let entries = outbox.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{outbox}");
    assert_eq!(entries[0]["to"], CONTRACT_ADDR);
    assert!(location.ends_with(&format!("outbox={}", entries[0]["id"])), "{location}");
    let attachment = &entries[0]["attachments"][0];
    assert_eq!(attachment["file_name"], "Container.lic");
    assert_eq!(attachment["size"], written.len());
    let rows = audited(&env, &id, "resent");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["by"], "ian");
    assert!(rows[0]["why"].as_str().unwrap().contains(CONTRACT_ADDR));

    // No contract for the company: refused, saying why; nothing queued.
    let stray_page = format!("/licenses/{stray}");
    let r = issuer.post_form(&stray_page, &format!("{stray_page}/resend"), &[]);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("no contract for company"), "{}", r.body);
    assert_eq!(json(&env, &["outbox", "list", "--all", "--json"]).as_array().unwrap().len(), 1);
    // Without the session's CSRF token: refused.
    assert_eq!(issuer.post(&format!("{page}/resend"), &[]).status, 403);
}

#[test]
fn revoke_is_for_admins_and_is_previewed_before_it_is_done() {
    let env = home();
    let id = issue_license(&env, COMPANY, "webroot");
    let console = Console::start(&env, &[]);
    let page = format!("/licenses/{id}");
    let revoke = format!("{page}/revoke");
    let revoked = || json(&env, &["revocations", "list", "--json"])["licenses"].as_array().unwrap().clone();

    let mut issuer = console.login("ian");
    assert!(!issuer.get(&page).body.contains("id=\"revoke\""));
    let r = issuer.post_form(&page, &revoke, &[("reason", "contract ended"), ("confirm", "yes")]);
    assert_eq!(r.status, 403);
    assert!(revoked().is_empty());

    let mut admin = console.login("alice");
    assert!(admin.get(&page).body.contains("id=\"revoke\""));
    let preview = admin.post_form(&page, &revoke, &[("reason", "contract ended")]);
    assert_eq!(preview.status, 200);
    assert!(preview.body.contains("id=\"confirm\"") && preview.body.contains("contract ended"), "{}", preview.body);
    assert!(preview.body.contains(CONTRACT_ADDR), "who gets the confirmation: {}", preview.body);
    assert!(revoked().is_empty(), "the preview changes nothing");
    assert_eq!(admin.post_form(&page, &revoke, &[("reason", "  ")]).status, 400, "a reason is required");

    let r = admin.post_form(&page, &revoke, &[("reason", "contract ended"), ("confirm", "yes")]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some(format!("{page}?done=revoked").as_str()));
    let entries = revoked();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["id"], id.as_str());
    assert_eq!(entries[0]["by"], "alice");
    assert_eq!(entries[0]["reason"], "contract ended");
    let rows = audited(&env, &id, "revoke");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["by"], "alice");
    let after = admin.get(&format!("{page}?done=revoked"));
    assert!(after.body.contains("role=\"status\"") && after.body.contains("contract ended"));
    assert!(!after.body.contains("id=\"revoke\"") && !after.body.contains("id=\"resend\""));
    // Twice: refused, saying when and by whom.
    let again = admin.post_form(&page, &revoke, &[("reason", "again"), ("confirm", "yes")]);
    assert_eq!(again.status, 400);
    assert_eq!(revoked().len(), 1);
    // A revoked license is not sent again.
    let r = issuer.post_form(&page, &format!("{page}/resend"), &[]);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("is revoked"), "{}", r.body);
    let mut c = console.login("vic");
    assert_eq!(listed(&mut c, "/licenses?state=revoked"), one(&id));
}

#[test]
fn unbind_frees_the_license_for_a_new_project() {
    let env = home();
    let id = issue_license(&env, COMPANY, "webroot");
    bind(&env, &id, [9; 32]);
    let console = Console::start(&env, &[]);
    let page = format!("/licenses/{id}");

    let mut issuer = console.login("ian");
    assert_eq!(issuer.post_form(&page, &format!("{page}/unbind"), &[]).status, 403);

    let mut admin = console.login("alice");
    assert!(admin.get(&page).body.contains("id=\"unbind\""));
    let r = admin.post_form(&page, &format!("{page}/unbind"), &[]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some(format!("{page}?done=unbound").as_str()));
    let after = en(&mut admin, &format!("{page}?done=unbound"));
    assert!(after.body.contains("role=\"status\""));
    assert!(after.body.contains("Not bound to a project"), "{}", after.body);
    assert!(after.body.contains(&"09".repeat(32)), "the old binding in the history: {}", after.body);
    let rows = audited(&env, &id, "unbind");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["by"], "alice");
    assert_eq!(rows[0]["why"], "09".repeat(32));
    // Not bound any more: a second unbind is refused.
    assert_eq!(admin.post_form(&page, &format!("{page}/unbind"), &[]).status, 400);
}

#[test]
fn what_customers_wrote_is_shown_as_text() {
    let env = home();
    let project = "<script>alert(1)</script>";
    let id = issue_license(&env, "<b>Evil</b> Co", project);
    let console = Console::start(&env, &[]);
    let mut c = console.login("alice");
    for path in ["/licenses".to_owned(), "/licenses?q=%3Cscript".to_owned(), format!("/licenses/{id}")] {
        let r = c.get(&path);
        assert_eq!(r.status, 200, "{path}");
        assert!(r.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{path}: {}", r.body);
        assert!(!r.body.contains("<script>") && !r.body.contains("<b>Evil"), "{path}: {}", r.body);
    }
}

#[test]
fn a_private_clouds_image_is_built_as_fanlic_image_builds_it_and_sent_again() {
    let env = home();
    // A static ELF stands in for the authorization server binary: fanlic
    // checks only that it is one.
    let server = env.dir.join("fanruan-license-server");
    std::fs::write(&server, crate::common::static_elf(64 << 10)).unwrap();
    ok(&env, &["config", "--license-server-binary", server.to_str().unwrap()]);
    let v = json(
        &env,
        &[
            "issue",
            "--company",
            COMPANY,
            "--project",
            "cloud",
            "--app",
            "FineReport",
            "--version",
            "11.0",
            "--kind",
            "private-cloud",
            "--nodes",
            "3",
            "--expires",
            "never",
            "--signed",
            "2026/11/20",
            "-o",
            "cloud.tar",
            "--json",
        ],
    );
    let id = v["license"]["license_id"].as_str().unwrap().to_owned();
    let written = std::fs::read(env.dir.join("cloud.tar")).unwrap();
    let console = Console::start(&env, &[]);
    let page = format!("/licenses/{id}");
    let image = format!("{page}/image");

    let mut viewer = console.login("vic");
    assert!(!viewer.get(&page).body.contains("id=\"image\""));
    assert_eq!(viewer.get(&image).status, 403);

    let mut issuer = console.login("ian");
    assert!(issuer.get(&page).body.contains(&format!("href=\"{image}\"")));
    let r = issuer.get(&image);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-disposition"), Some("attachment; filename=\"fanruan_license_server.tar\""));
    assert_eq!(r.bytes, written, "the same bytes as fanlic issue -o cloud.tar");

    // Sent again: the image, to the contract's address.
    assert_eq!(issuer.post_form(&page, &format!("{page}/resend"), &[]).status, 303);
    let outbox = json(&env, &["outbox", "list", "--all", "--json"]);
    let entry = &outbox.as_array().unwrap()[0];
    assert_eq!(entry["to"], CONTRACT_ADDR);
    assert_eq!(entry["attachments"][0]["file_name"], "fanruan_license_server.tar");
    assert_eq!(entry["attachments"][0]["size"], written.len());
    // No leftover temporary image in the home.
    let left: Vec<_> = std::fs::read_dir(&env.home)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".image-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // Without the server binary: a page that says how to build it.
    std::fs::remove_file(&server).unwrap();
    let r = en(&mut issuer, &image);
    assert_eq!(r.status, 503);
    assert!(r.body.contains("cargo build --release -p fanlic-license-server"), "{}", r.body);
}

#[test]
fn the_license_page_shows_the_mail_it_came_from_and_its_activations() {
    let env = home();
    let path = env.dir.join("request.eml");
    std::fs::write(&path, mail(Some(PASS), "req-1@customer.example", BODY)).unwrap();
    let out = ok(&env, &["ingest", "--json", path.to_str().unwrap()]);
    let decided: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    let id = decided["license_id"].as_str().unwrap().to_owned();
    // What `fanlic serve` records of a confirmation, written directly.
    let conn = rusqlite::Connection::open(env.home.join("fanlic.db")).unwrap();
    conn.execute(
        "INSERT INTO activations (license_id, project_fingerprint, node_id, nodes, at, client_addr, outcome)
         VALUES (?1, ?2, ?3, 2, 1795000000, '192.0.2.7', 'too_many_nodes')",
        rusqlite::params![id, [5u8; 32].as_slice(), [6u8; 32].as_slice()],
    )
    .unwrap();
    drop(conn);
    let console = Console::start(&env, &[]);
    let mut c = console.login("vic");
    let page = en(&mut c, &format!("/licenses/{id}"));
    assert_eq!(page.status, 200);
    let body = &page.body;
    // The decision: issued, from the contract's authenticated sender, with its reply.
    let decisions = &body[body.find("class=\"decisions\"").expect("the mail's table")..];
    assert!(decisions.contains(">issued<"), "{decisions}");
    assert!(decisions.to_lowercase().contains(CONTRACT_ADDR), "{decisions}");
    assert!(!decisions.contains("unauthenticated"), "{decisions}");
    // The activation attempt.
    let activations = &body[body.find("class=\"activations\"").expect("the activations' table")..];
    for want in ["too_many_nodes", "192.0.2.7", "0505050505050505"] {
        assert!(activations.contains(want), "{want}: {activations}");
    }
    // Listed under the contract's address too.
    assert_eq!(listed(&mut c, &format!("/licenses?q={CONTRACT_ADDR}")), one(&id));
}

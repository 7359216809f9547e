//! The console's contract pages over plain HTTP (the real binary): search,
//! add and edit with the logged-in account as the author, role refusals,
//! escaping, and the CSV import's preview (nothing written) and import.

use serde_json::Value;

use crate::common::console::{Answer, Client, Console, add_staff, hidden};
use crate::common::{Env, add_contract, issue_license, ok};

const HEADER: &str = "company,email,signed,product,methods,max_nodes,version,expires\n";

/// A home with alice (admin), ivan (issuer), vera (viewer).
fn home() -> Env {
    let env = Env::temp();
    ok(&env, &["init"]);
    add_staff(&env, "alice", "admin");
    add_staff(&env, "ivan", "issuer");
    add_staff(&env, "vera", "viewer");
    env
}

/// Logged in as `name`, reading English (the switch's cookie).
fn login(console: &Console, name: &str) -> Client {
    let mut c = console.login(name);
    c.cookies.insert("fanlic_lang".to_owned(), "en".to_owned());
    c
}

fn contracts(env: &Env) -> Vec<Value> {
    let out = ok(env, &["contract", "list", "--all", "--json"]);
    serde_json::from_str::<Value>(&out).unwrap().as_array().unwrap().clone()
}

fn contract_audit(env: &Env) -> Vec<Value> {
    let out = ok(env, &["audit", "--json"]);
    let all: Value = serde_json::from_str(&out).unwrap();
    let rows = all.as_array().cloned().or_else(|| all["entries"].as_array().cloned()).unwrap();
    rows.into_iter().filter(|e| e["action"].as_str().is_some_and(|a| a.starts_with("contract-"))).collect()
}

/// POSTs `fields` as `multipart/form-data` (`files`: name, file name,
/// bytes) with the session's CSRF token read from `from`.
fn post_multipart(
    c: &mut Client,
    from: &str,
    path: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &str, &[u8])],
) -> Answer {
    let page = c.get(from);
    let csrf = hidden(&page.body, "csrf").unwrap_or_else(|| panic!("no csrf field on {from}: {}", page.body));
    let boundary = "----fanlic-test-boundary-7d1f";
    let mut body = Vec::new();
    let mut all: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    all.extend_from_slice(fields);
    for (name, value) in all {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    for (name, file_name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\n\
                 Content-Type: text/csv\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let ct = format!("multipart/form-data; boundary={boundary}");
    c.send("POST", path, &[("Content-Type", &ct)], Some(&body))
}

/// POSTs a multipart body of `len` bytes, writing what the server takes
/// before it answers (it may stop reading), and returns the answer's status.
fn status_of_huge_post(c: &Client, path: &str, len: usize) -> u16 {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(&c.addr).unwrap();
    let jar: Vec<String> = c.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nCookie: {}\r\n\
         Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {len}\r\n\r\n\
         --b\r\nContent-Disposition: form-data; name=\"csv\"; filename=\"huge.csv\"\r\n\r\n",
        c.addr,
        jar.join("; ")
    );
    s.write_all(head.as_bytes()).unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    let mut sent = head.len();
    while sent < len {
        if s.write_all(&chunk).is_err() {
            break;
        }
        sent += chunk.len();
    }
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    text.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or_else(|| panic!("no answer: {text:?}"))
}

/// The text of an element's whole start tag to its end, found by id (for
/// assertions on a table).
fn element<'p>(page: &'p str, id: &str) -> &'p str {
    let at = page.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in {page}"));
    let rest = &page[at..];
    let end = rest.find("</table>").or_else(|| rest.find("</ul>")).unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn search_finds_contracts_by_company_address_number_and_state() {
    let env = home();
    add_contract(&env, "Acme Data Ltd", "it@acme.example", "2026/11/20", "2");
    add_contract(&env, "北京帆软软件有限公司", "cto@fanruan.example", "2026/11/20", "4");
    add_contract(&env, "Beta Trading", "ops@beta.example", "2026/11/20", "1");
    ok(&env, &["contract", "disable", "Beta Trading"]);
    // Full: one project covered, one live license.
    ok(
        &env,
        &[
            "contract",
            "add",
            "--company",
            "Full Co",
            "--email",
            "it@full.example",
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
            "never",
            "--max-licenses",
            "1",
        ],
    );
    let license = issue_license(&env, "Full Co", "Reports");
    let console = Console::start(&env, &[]);
    let mut c = login(&console, "vera");
    let list = c.get("/contracts");
    assert_eq!(list.status, 200);
    for name in ["Acme Data Ltd", "北京帆软软件有限公司", "Beta Trading"] {
        assert!(element(&list.body, "list").contains(name), "{name} listed: {}", list.body);
    }
    // A piece of the name, folded like the registry's key (case, full width).
    let found = c.get("/contracts?q=%EF%BC%A1CME");
    let table = element(&found.body, "list");
    assert!(table.contains("Acme Data Ltd") && !table.contains("Beta Trading"), "{table}");
    let found = c.get("/contracts?q=%E5%B8%86%E8%BD%AF"); // 帆软
    assert!(element(&found.body, "list").contains("北京帆软软件有限公司"), "{}", found.body);
    // A contract address, whole or a piece.
    let found = c.get("/contracts?q=CTO%40fanruan.example");
    let table = element(&found.body, "list");
    assert!(table.contains("北京帆软软件有限公司") && !table.contains("Acme"), "{table}");
    let found = c.get("/contracts?q=beta.example");
    assert!(element(&found.body, "list").contains("Beta Trading"), "{}", found.body);
    // The contract number links to its page.
    let acme = contracts(&env).into_iter().find(|c| c["company"] == "Acme Data Ltd").unwrap();
    let id = acme["id"].as_i64().unwrap();
    let found = c.get(&format!("/contracts?q=%23{id}"));
    assert!(element(&found.body, "list").contains(&format!("href=\"/contracts/{id}\"")), "{}", found.body);
    // By state.
    let found = c.get("/contracts?status=disabled");
    let table = element(&found.body, "list");
    assert!(table.contains("Beta Trading") && !table.contains("Acme"), "{table}");
    // By product: every FineReport contract (the CLI adds FineReport).
    let found = c.get("/contracts?q=finereport");
    assert!(element(&found.body, "list").contains("Acme Data Ltd"), "{}", found.body);
    assert!(!c.get("/contracts?q=FineBI").body.contains("id=\"list\""));
    let found = c.get("/contracts?status=full");
    let table = element(&found.body, "list");
    assert!(table.contains("Full Co") && !table.contains("Acme") && table.contains("1 / 1"), "{table}");
    let full = contracts(&env).into_iter().find(|c| c["company"] == "Full Co").unwrap();
    let page = c.get(&format!("/contracts/{}", full["id"]));
    let licenses = element(&page.body, "licenses");
    assert!(licenses.contains(&format!("href=\"/licenses/{license}\"")) && licenses.contains("Reports"), "{licenses}");
    let found = c.get("/contracts?q=nothing-like-this");
    assert!(!found.body.contains("id=\"list\""), "nothing found: {}", found.body);
    // A viewer sees no form that changes anything.
    assert!(!list.body.contains("/contracts/new") && !list.body.contains("/contracts/import"));
    let page = c.get(&format!("/contracts/{id}"));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("it@acme.example") && page.body.contains("id=\"history\""), "{}", page.body);
    assert!(!page.body.contains("id=\"disable\"") && !page.body.contains("id=\"edit\""), "{}", page.body);
    assert_eq!(c.get("/contracts/new").status, 403);
    assert_eq!(c.get("/contracts/999999").status, 404);
    assert_eq!(c.get("/contracts/x'1").status, 404);
}

#[test]
fn an_admin_adds_and_edits_a_contract_as_the_logged_in_account() {
    let env = home();
    let console = Console::start(&env, &[]);
    let mut c = login(&console, "alice");
    let form = c.get("/contracts/new");
    assert_eq!(form.status, 200);
    assert!(form.body.contains("id=\"save\""), "{}", form.body);
    // Every problem next to its field, and what was typed given back.
    let bad = [
        ("company", "Gamma Ltd"),
        ("email", "not-an-address"),
        ("signed", "2026/13/40"),
        ("product", "FineReport"),
        ("methods", "local-container"),
        ("max_nodes", "0"),
        ("version", "11.0"),
        ("expires", "never"),
        ("max_licenses", "2"),
        ("activation_policy", "code"),
        ("lease_days", ""),
    ];
    let r = c.post_form("/contracts/new", "/contracts", &bad);
    assert_eq!(r.status, 422, "{}", r.body);
    for field in ["email", "signed", "max_nodes"] {
        assert!(r.body.contains(&format!("id=\"{field}-error\"")), "{field} error shown: {}", r.body);
    }
    assert!(!r.body.contains("id=\"company-error\""), "{}", r.body);
    assert!(r.body.contains("value=\"Gamma Ltd\"") && r.body.contains("value=\"not-an-address\""), "{}", r.body);
    assert!(contracts(&env).is_empty(), "nothing recorded");
    // Good values: recorded, by alice.
    let mut good = bad;
    good[1].1 = " Ops@Gamma.example; it@gamma.example ";
    good[2].1 = "2026-11-20";
    good[5].1 = "3";
    let r = c.post_form("/contracts/new", "/contracts", &good);
    assert_eq!(r.status, 303, "{}", r.body);
    let location = r.header("location").unwrap().to_owned();
    assert!(location.ends_with("?done=added"), "{location}");
    let all = contracts(&env);
    assert_eq!(all.len(), 1);
    let g = &all[0];
    assert_eq!(g["company"], "Gamma Ltd");
    assert_eq!(g["emails"], serde_json::json!(["ops@gamma.example", "it@gamma.example"]));
    assert_eq!((g["max_nodes"].as_i64(), g["max_licenses"].as_i64()), (Some(3), Some(2)));
    assert_eq!(g["created_by"], "alice");
    let audit = contract_audit(&env);
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!((audit[0]["action"].as_str(), audit[0]["by"].as_str()), (Some("contract-add"), Some("alice")));
    let page = c.get(&location);
    assert!(page.body.contains("role=\"status\""), "{}", page.body);
    // A second contract for the same company is refused by the company field.
    let r = c.post_form("/contracts/new", "/contracts", &good);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("id=\"company-error\"") && r.body.contains("already has contract"), "{}", r.body);
    // Edit: the form holds the terms; a change is one audit row by alice.
    let id = g["id"].as_i64().unwrap();
    let edit_path = format!("/contracts/{id}/edit");
    let form = c.get(&edit_path);
    assert!(form.body.contains("value=\"ops@gamma.example; it@gamma.example\""), "{}", form.body);
    let mut changed = good;
    changed[5].1 = "8";
    let r = c.post_form(&edit_path, &edit_path, &changed);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(contracts(&env)[0]["max_nodes"], 8);
    let page = c.get(&format!("/contracts/{id}"));
    let history = element(&page.body, "history");
    assert!(history.contains("max_nodes") && history.contains("3 → 8") && history.contains("alice"), "{history}");
    // The same terms again change nothing and record nothing.
    let r = c.post_form(&edit_path, &edit_path, &changed);
    assert!(r.header("location").unwrap().ends_with("?done=unchanged"));
    // Disable, then enable again: each one audit row by alice.
    let r = c.post_form(&format!("/contracts/{id}"), &format!("/contracts/{id}/disable"), &[]);
    assert_eq!(r.status, 303);
    assert_eq!(contracts(&env)[0]["enabled"], false);
    let page = c.get(&format!("/contracts/{id}?done=disabled"));
    assert!(page.body.contains("id=\"enable\"") && page.body.contains("role=\"status\""), "{}", page.body);
    let r = c.post_form(&format!("/contracts/{id}"), &format!("/contracts/{id}/enable"), &[]);
    assert_eq!(r.status, 303);
    assert_eq!(contracts(&env)[0]["enabled"], true);
    let actions: Vec<(String, String)> = contract_audit(&env)
        .iter()
        .map(|e| (e["action"].as_str().unwrap().to_owned(), e["by"].as_str().unwrap().to_owned()))
        .collect();
    let want = ["contract-add", "contract-update", "contract-disable", "contract-enable"];
    assert_eq!(actions, want.map(|a| (a.to_owned(), "alice".to_owned())), "{actions:?}");
}

#[test]
fn an_issuers_or_viewers_post_is_refused_and_changes_nothing() {
    let env = home();
    add_contract(&env, "Acme Data Ltd", "it@acme.example", "2026/11/20", "2");
    let id = contracts(&env)[0]["id"].as_i64().unwrap();
    let console = Console::start(&env, &[]);
    let before = ok(&env, &["contract", "list", "--all", "--json"]);
    let terms = [
        ("company", "Intruder Ltd"),
        ("email", "x@intruder.example"),
        ("signed", "2026-11-20"),
        ("product", "FineReport"),
        ("methods", "local-container"),
        ("max_nodes", "9"),
        ("version", "11.0"),
        ("expires", "never"),
    ];
    let csv = format!("{HEADER}Intruder Ltd,x@intruder.example,2026/11/20,FineReport,local-container,1,11.0,never\n");
    for name in ["ivan", "vera"] {
        let mut c = login(&console, name);
        let page = c.get(&format!("/contracts/{id}"));
        assert!(!page.body.contains("id=\"disable\""), "{name} sees no form");
        assert_eq!(c.get(&format!("/contracts/{id}/edit")).status, 403, "{name}");
        assert_eq!(c.get("/contracts/import").status, 403, "{name}");
        let from = format!("/contracts/{id}");
        assert_eq!(c.post_form(&from, "/contracts", &terms).status, 403, "{name} add");
        assert_eq!(c.post_form(&from, &format!("/contracts/{id}/edit"), &terms).status, 403, "{name} edit");
        assert_eq!(c.post_form(&from, &format!("/contracts/{id}/disable"), &[]).status, 403, "{name} disable");
        let r = c.post_form(&from, "/contracts/import", &[("csv_text", &csv), ("confirm", "yes")]);
        assert_eq!(r.status, 403, "{name} import");
        let r = post_multipart(
            &mut c,
            &from,
            "/contracts/import",
            &[("confirm", "yes")],
            &[("csv", "c.csv", csv.as_bytes())],
        );
        assert_eq!(r.status, 403, "{name} multipart import");
    }
    // An admin without the session's token is refused as well.
    let mut a = login(&console, "alice");
    let r = a.post("/contracts/import", &[("csv_text", &csv), ("confirm", "yes")]);
    assert_eq!(r.status, 403);
    let r = a.send(
        "POST",
        "/contracts/import",
        &[("Content-Type", "multipart/form-data; boundary=b")],
        Some(b"--b\r\nContent-Disposition: form-data; name=\"csv_text\"\r\n\r\nx\r\n--b\r\nContent-Disposition: form-data; name=\"confirm\"\r\n\r\nyes\r\n--b--\r\n"),
    );
    assert_eq!(r.status, 403);
    assert_eq!(ok(&env, &["contract", "list", "--all", "--json"]), before, "nothing changed");
    assert_eq!(contract_audit(&env).len(), 1, "only the CLI's add is audited");
}

#[test]
fn a_company_name_with_markup_is_shown_as_text() {
    let env = home();
    add_contract(&env, "<script>alert(1)</script> Ltd", "it@evil.example", "2026/11/20", "2");
    let id = contracts(&env)[0]["id"].as_i64().unwrap();
    let console = Console::start(&env, &[]);
    let mut c = login(&console, "alice");
    for path in [
        "/contracts".to_owned(),
        "/contracts?q=%3Cscript".to_owned(),
        format!("/contracts/{id}"),
        format!("/contracts/{id}/edit"),
    ] {
        let page = c.get(&path);
        assert_eq!(page.status, 200, "{path}");
        assert!(!page.body.contains("<script>"), "{path}: {}", page.body);
        assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt; Ltd"), "{path}: {}", page.body);
    }
    // In the import preview too.
    let csv =
        format!("{HEADER}<script>alert(2)</script>,x@y.example,2026/11/20,FineReport,local-container,1,11.0,never\n");
    let r = c.post_form("/contracts/import", "/contracts/import", &[("csv_text", &csv)]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains("<script>") && r.body.contains("&lt;script&gt;alert(2)"), "{}", r.body);
}

#[test]
fn an_import_preview_lists_each_error_by_line_and_writes_nothing() {
    let env = home();
    add_contract(&env, "Taken Co", "owner@taken.example", "2026/11/20", "1");
    let console = Console::start(&env, &[]);
    let mut c = login(&console, "alice");
    let form = c.get("/contracts/import");
    assert!(form.body.contains("name=\"csv\"") && form.body.contains("id=\"preview\""), "{}", form.body);
    // Line 3 has a bad address and a bad node count; line 4 repeats line
    // 2's company; line 5 takes an address of an enabled contract.
    let csv = format!(
        "\u{feff}{HEADER}\
         Acme Data Ltd,it@acme.example,2026/11/20,FineReport,local-container,2,11.0,never\n\
         Beta Co,not-an-address,2026/11/20,FineBI,local-container,0,6.1,never\n\
         ACME  data ltd,x@acme2.example,2026/11/20,FineBI,local-container,1,6.1,never\n\
         Delta Co,Owner@Taken.example,2026/11/20,FineBI,local-container,1,6.1,never\n"
    );
    let r = post_multipart(
        &mut c,
        "/contracts/import",
        "/contracts/import",
        &[("csv_text", "")],
        &[("csv", "contracts.csv", csv.as_bytes())],
    );
    assert_eq!(r.status, 422, "{}", r.body);
    let errors = element(&r.body, "errors");
    assert!(errors.contains("line 3: email") && errors.contains("line 3: max_nodes"), "{errors}");
    assert!(errors.contains("line 4: company") && errors.contains("also on line 2"), "{errors}");
    assert!(errors.contains("line 5: email owner@taken.example already belongs to enabled contract"), "{errors}");
    let table = element(&r.body, "preview");
    assert!(table.contains("data-line=\"3\" data-action=\"invalid\""), "{table}");
    assert!(table.contains("data-line=\"2\" data-action=\"new\""), "{table}");
    assert!(!r.body.contains("id=\"import\""), "no confirm form with an error");
    // The CSV comes back to be edited.
    assert!(r.body.contains("Beta Co,not-an-address"), "{}", r.body);
    assert_eq!(contracts(&env).len(), 1, "nothing written");
    assert_eq!(contract_audit(&env).len(), 1);
    // A confirm of a bad file writes nothing either.
    let r = c.post_form("/contracts/import", "/contracts/import", &[("csv_text", &csv), ("confirm", "yes")]);
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(contracts(&env).len(), 1, "nothing written");
    // A file that is not UTF-8 (GBK) is refused by line, as the CLI does.
    let mut gbk = HEADER.as_bytes().to_vec();
    gbk.extend_from_slice(b"\xb7\xab\xc8\xed,a@b.example,2026/11/20,FineReport,local-container,1,11.0,never\n");
    let r = post_multipart(&mut c, "/contracts/import", "/contracts/import", &[], &[("csv", "gbk.csv", &gbk)]);
    assert_eq!(r.status, 422);
    assert!(element(&r.body, "errors").contains("line 2: is not UTF-8 text"), "{}", r.body);
    // Larger than the limit: a clear refusal, as a file or as text.
    let big = vec![b'x'; 8 * 1024 * 1024 + 1];
    let r = post_multipart(&mut c, "/contracts/import", "/contracts/import", &[], &[("csv", "big.csv", &big)]);
    assert_eq!(r.status, 413);
    assert!(r.body.contains("8 MiB"), "{}", r.body);
    let r = c.post_form("/contracts/import", "/contracts/import", &[("csv_text", &"x".repeat(8 * 1024 * 1024 + 1))]);
    assert_eq!(r.status, 413);
    // A body over the route's limit is answered before it is all sent.
    assert_eq!(status_of_huge_post(&c, "/contracts/import", 30 * 1024 * 1024), 413);
}

#[test]
fn a_clean_import_previews_then_imports_as_the_logged_in_account() {
    let env = home();
    add_contract(&env, "Acme Data Ltd", "it@acme.example", "2026/11/20", "2");
    let console = Console::start(&env, &[]);
    let mut c = login(&console, "alice");
    let csv = format!(
        "{HEADER}\
         acme data ltd,it@acme.example;ops@acme.example,2026/11/20,FineReport,local-container,5,11.0,never\n\
         Beta Co,cto@beta.example,2026/11/20,FineBI,\"local-container,private-cloud\",1,6.1,2099-12-31\n"
    );
    // Without --update the existing company is a problem.
    let r = c.post_form("/contracts/import", "/contracts/import", &[("csv_text", &csv)]);
    assert_eq!(r.status, 422);
    assert!(element(&r.body, "errors").contains("line 2: company"), "{}", r.body);
    // With update: a clean preview, nothing written yet.
    let r = post_multipart(
        &mut c,
        "/contracts/import",
        "/contracts/import",
        &[("update", "yes")],
        &[("csv", "c.csv", csv.as_bytes())],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let table = element(&r.body, "preview");
    assert!(table.contains("data-line=\"2\" data-action=\"update\""), "{table}");
    assert!(table.contains("data-line=\"3\" data-action=\"new\""), "{table}");
    assert!(r.body.contains("id=\"import\""), "{}", r.body);
    assert_eq!(hidden(&r.body, "confirm").as_deref(), Some("yes"));
    assert_eq!(hidden(&r.body, "update").as_deref(), Some("yes"));
    assert_eq!(contracts(&env).len(), 1, "the preview wrote nothing");
    assert_eq!(contract_audit(&env).len(), 1);
    // The confirm form carries the same CSV.
    let carried = hidden(&r.body, "csv_text").unwrap().replace("&quot;", "\"").replace("&amp;", "&");
    assert_eq!(carried, csv);
    let r = c.post_form(
        "/contracts/import",
        "/contracts/import",
        &[("csv_text", &carried), ("update", "yes"), ("confirm", "yes")],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/contracts?done=imported&n=2"));
    let list = c.get("/contracts?done=imported&n=2");
    assert!(list.body.contains("role=\"status\"") && list.body.contains("Imported 2 contract(s)"), "{}", list.body);
    let all = contracts(&env);
    assert_eq!(all.len(), 2);
    let acme = all.iter().find(|c| c["company"] == "acme data ltd").unwrap();
    assert_eq!(acme["max_nodes"], 5);
    let audit = contract_audit(&env);
    let imported: Vec<&Value> = audit.iter().filter(|e| e["action"] == "contract-import").collect();
    assert_eq!(imported.len(), 2, "one audit row per contract: {audit:?}");
    assert!(imported.iter().all(|e| e["by"] == "alice"), "{imported:?}");
}

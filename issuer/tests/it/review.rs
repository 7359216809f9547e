//! Staff at work on held requests, with the real `fanlic` binary: `approve`
//! issues what only staff could clear (a special requirements note), never
//! what is still wrong; `reject` answers an authenticated sender with the
//! reason, never an unauthenticated one; replies come from the address set
//! with `fanlic config --reply-from`.

use std::fs;

use crate::common::{BODY, CONTRACT_ADDR, Env, PASS, fanlic, mail, ok, replace_line, setup};
use serde_json::Value;

const VENDOR: &str = "licenses@vendor.example";

fn ingest(env: &Env, name: &str, text: &str) -> Value {
    let path = env.dir.join(name);
    fs::write(&path, text).unwrap();
    let out = ok(env, &["ingest", "--json", path.to_str().unwrap()]);
    serde_json::from_str(out.trim()).unwrap()
}

fn codes(v: &Value) -> Vec<&str> {
    v["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect()
}

/// The id `fanlic review` shows for the held request with `message_id`.
fn held_id(env: &Env, message_id: &str) -> String {
    let held: Value = serde_json::from_str(&ok(env, &["review", "--json"])).unwrap();
    let row = held.as_array().unwrap().iter().find(|r| r["message_id"] == message_id).expect("not held");
    row["id"].as_i64().unwrap().to_string()
}

/// The replies written by `fanlic outbox flush` (as .eml files), as text.
fn flushed(env: &Env) -> Vec<String> {
    ok(env, &["outbox", "flush"]);
    let mut files: Vec<_> = fs::read_dir(env.home.join("outbox")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.iter().map(|p| fs::read_to_string(p).unwrap()).collect()
}

fn special(id: &str) -> String {
    mail(
        Some(PASS),
        id,
        &replace_line(BODY, "Thank you.", "Special requirements: please add our test server too.\n\nThank you."),
    )
}

#[test]
fn approve_issues_a_request_held_for_its_special_requirements_note() {
    let env = setup();
    ok(&env, &["config", "--reply-from", VENDOR]);
    let v = ingest(&env, "special.eml", &special("special-1@customer.example"));
    assert_eq!((v["decision"].as_str(), codes(&v)), (Some("held"), vec!["special_requirements"]));
    let id = held_id(&env, "special-1@customer.example");

    let out: Value = serde_json::from_str(&ok(&env, &["approve", &id, "--by", "alice", "--json"])).unwrap();
    assert_eq!(out["decision"], "issued", "{out}");
    let file = out["files"][0].as_str().unwrap();
    let verify = fanlic(
        &env,
        &["verify", file, "--app", "FineReport", "--version", "11.0.20", "--project", "webroot", "--nodes", "3"],
        None,
    );
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
    // The sender was authenticated: the license goes back, from the vendor's address.
    let replies = flushed(&env);
    assert_eq!(replies.len(), 1);
    assert!(replies[0].contains(&format!("From: {VENDOR}")), "{}", replies[0]);
    assert!(replies[0].contains(&format!("To: {CONTRACT_ADDR}")), "{}", replies[0]);
    assert!(replies[0].contains("Container.lic"));
    let audit = ok(&env, &["audit"]);
    assert!(audit.contains("approved") && audit.contains("by alice"), "{audit}");
}

#[test]
fn approve_refuses_what_staff_cannot_clear() {
    let env = setup();
    // Held for its note, but it also asks for more nodes than the contract has.
    let body = replace_line(
        &replace_line(BODY, "Maximum number of registration: 3", "Maximum number of registration: 9"),
        "Thank you.",
        "Special requirements: call us first.\n\nThank you.",
    );
    let v = ingest(&env, "over.eml", &mail(Some(PASS), "over-1@customer.example", &body));
    // Rejected outright: a wrong value is not for staff to wave through.
    assert_eq!(v["decision"], "rejected", "{v}");
    // An unauthenticated copy is held; approving it still finds the node count.
    let v = ingest(&env, "over-noauth.eml", &mail(None, "over-2@customer.example", &body));
    assert_eq!(v["decision"], "held");
    let id = held_id(&env, "over-2@customer.example");
    let out = fanlic(&env, &["approve", &id, "--by", "alice"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nodes_exceed_contract") && err.contains("fanlic reject"), "{err}");
    assert!(!env.home.join("issued").exists() || fs::read_dir(env.home.join("issued")).unwrap().next().is_none());
}

#[test]
fn staff_rejection_answers_an_authenticated_sender_only() {
    let env = setup();
    ok(&env, &["config", "--reply-from", VENDOR]);
    // Authenticated, held for its note: the reason goes back to the contract's address.
    ingest(&env, "special.eml", &special("special-2@customer.example"));
    let id = held_id(&env, "special-2@customer.example");
    let out: Value = serde_json::from_str(&ok(
        &env,
        &["reject", &id, "--reason", "Send one request per project, please.", "--by", "alice", "--json"],
    ))
    .unwrap();
    assert_eq!(out["decision"], "rejected");
    assert_eq!(codes(&out), ["special_requirements", "staff_rejected"]);
    // Unauthenticated (its From may be forged): no reply at all.
    ingest(&env, "noauth.eml", &mail(None, "noauth-1@customer.example", BODY));
    let id = held_id(&env, "noauth-1@customer.example");
    ok(&env, &["reject", &id, "--reason", "Who are you?", "--by", "alice"]);
    // Authenticated, but staff want no reply.
    ingest(&env, "special3.eml", &special("special-3@customer.example"));
    let id = held_id(&env, "special-3@customer.example");
    ok(&env, &["reject", &id, "--reason", "duplicate of a phone request", "--no-reply", "--by", "alice"]);

    let replies = flushed(&env);
    assert_eq!(replies.len(), 1, "{replies:#?}");
    let r = &replies[0];
    assert!(r.contains(&format!("From: {VENDOR}")) && r.contains(&format!("To: {CONTRACT_ADDR}")), "{r}");
    assert!(r.contains("In-Reply-To: <special-2@customer.example>"), "{r}");
    assert!(r.contains("[staff_rejected] Send one request per project, please."), "{r}");
    assert!(!r.contains("Container.lic"));
    // Every rejection is in the audit trail, by the staff member.
    let audit = ok(&env, &["audit"]);
    assert_eq!(audit.matches("staff-rejected").count(), 3, "{audit}");
    // Decided: nothing left to review.
    assert_eq!(ok(&env, &["review", "--json"]).trim(), "[]");
}

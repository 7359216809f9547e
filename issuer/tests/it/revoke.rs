//! Revocation and unbinding with the real `fanlic` binary: `revoke` and
//! `unbind` are audited and confirmed by mail to the contract's address
//! only; refusals change nothing and exit 1; `revocations export` writes a
//! list the verifier products embed accepts, with a growing sequence.

use std::{fs, os::unix::fs::PermissionsExt as _};

use crate::common::{CONTRACT_ADDR, Env, bind, fanlic, issue_license, ok, query_texts, setup};
use fanlic_formats::{KeyId, LicenseId};
use fanlic_issuer::Home;
use serde_json::Value;

const COMPANY: &str = "Customer Trading Co., Ltd.";
const VENDOR: &str = "licenses@vendor.example";
/// A time in the past, for changes that need no key (their mail is due at once).
const PAST: &str = "2026-01-05T08:00:00Z";

fn json(env: &Env, args: &[&str]) -> Value {
    serde_json::from_str(&ok(env, args)).unwrap()
}

/// `fanlic ARGS`, which must be refused with exit status 1: its stderr.
fn refused(env: &Env, args: &[&str]) -> String {
    let out = fanlic(env, args, None);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stderr).unwrap()
}

fn outbox(env: &Env) -> Vec<Value> {
    json(env, &["outbox", "list", "--all", "--json"]).as_array().unwrap().clone()
}

fn audit(env: &Env, id: &str) -> Vec<String> {
    query_texts(
        env,
        &format!(
            "SELECT action || '|' || why || '|' || by FROM audit WHERE license_id = '{id}' AND decision_id IS NULL AND action <> 'issue' ORDER BY audit_id"
        ),
    )
}

#[test]
fn revoke_is_audited_mailed_to_the_contract_and_refused_twice() {
    let env = setup();
    ok(&env, &["config", "--reply-from", VENDOR]);
    let id = issue_license(&env, COMPANY, "webroot");

    let v = json(&env, &["revoke", &id, "--reason", "contract terminated", "--by", "alice", "--now", PAST, "--json"]);
    assert_eq!(v["license_id"], id.as_str());
    assert_eq!(v["by"], "alice");
    assert_eq!(v["at"], PAST);
    assert_eq!(v["mail"]["to"], serde_json::json!([CONTRACT_ADDR]), "{v}");
    assert_eq!(audit(&env, &id), ["revoke|contract terminated|alice"]);
    assert_eq!(
        query_texts(&env, "SELECT license_id || '|' || reason || '|' || revoked_by FROM revoked_licenses"),
        [format!("{id}|contract terminated|alice")]
    );

    let queued = outbox(&env);
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0]["to"], CONTRACT_ADDR, "{:?}", queued[0]);
    ok(&env, &["outbox", "flush"]);
    let eml = fs::read_to_string(env.home.join("outbox").join(format!("{}.eml", queued[0]["id"]))).unwrap();
    assert!(eml.contains(&format!("From: {VENDOR}")), "{eml}");
    assert!(eml.contains(&format!("To: {CONTRACT_ADDR}")), "{eml}");
    assert!(eml.contains(&id), "{eml}");

    // Again: refused, saying when and by whom; nothing more recorded or mailed.
    let err = refused(&env, &["revoke", &id, "--reason", "again"]);
    assert!(err.contains("already revoked") && err.contains(PAST) && err.contains("alice"), "{err}");
    assert_eq!(audit(&env, &id).len(), 1);
    assert_eq!(outbox(&env).len(), 1);
}

#[test]
fn revoke_of_an_unknown_license_exits_1_and_no_contract_means_no_mail() {
    let env = setup();
    let err = refused(&env, &["revoke", "0123456789abcdef0123456789abcdef", "--reason", "x"]);
    assert!(err.contains("no license 0123456789abcdef0123456789abcdef"), "{err}");
    assert!(err.contains("fanlic audit"), "{err}");

    // No contract for this company: revoked all the same, and said so.
    let id = issue_license(&env, "Nobody Ltd", "bi");
    let v = json(&env, &["revoke", &id, "--reason", "test", "--json"]);
    assert_eq!(v["mail"], Value::Null, "{v}");
    assert!(v["mail_note"].as_str().unwrap().contains("no enabled contract"), "{v}");
    let text = ok(&env, &["revoke", &issue_license(&env, "Nobody Ltd", "bi2"), "--reason", "test"]);
    assert!(text.contains("NO confirmation mail was queued"), "{text}");
    assert!(outbox(&env).is_empty());
}

#[test]
fn unbind_removes_the_binding_audits_the_old_fingerprint_and_mails() {
    let env = setup();
    let id = issue_license(&env, COMPANY, "webroot");
    let fingerprint = [0xab; 32];
    bind(&env, &id, fingerprint);

    let v = json(&env, &["unbind", &id, "--by", "bob", "--json"]);
    assert_eq!(v["project_fingerprint"], "ab".repeat(32));
    assert_eq!(v["mail"]["to"], serde_json::json!([CONTRACT_ADDR]), "{v}");
    assert!(query_texts(&env, "SELECT license_id FROM activation_bindings").is_empty());
    assert_eq!(audit(&env, &id), [format!("unbind|{}|bob", "ab".repeat(32))]);
    let queued = outbox(&env);
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0]["to"], CONTRACT_ADDR);

    // Nothing bound any more: refused, nothing changed.
    let err = refused(&env, &["unbind", &id]);
    assert!(err.contains("not bound to any project; nothing to do"), "{err}");
    assert_eq!(audit(&env, &id).len(), 1);

    // --no-mail; and a revoked license is never unbound.
    bind(&env, &id, fingerprint);
    let v = json(&env, &["unbind", &id, "--no-mail", "--json"]);
    assert_eq!(v["mail"], Value::Null);
    bind(&env, &id, fingerprint);
    ok(&env, &["revoke", &id, "--reason", "leaked", "--no-mail"]);
    let err = refused(&env, &["unbind", &id]);
    assert!(err.contains("revoked"), "{err}");
    assert_eq!(query_texts(&env, "SELECT license_id FROM activation_bindings"), [id.as_str()]);
    assert_eq!(outbox(&env).len(), 1);
}

#[test]
fn revoking_the_signing_key_needs_force() {
    let env = setup();
    let keys = json(&env, &["keys", "list", "--json"]);
    let key = keys["issuing_keys"][0]["key_id"].as_str().unwrap().to_owned();

    let err = refused(&env, &["revoke", "--issuing-key", &key, "--reason", "leaked"]);
    assert!(err.contains("fanlic keys rotate"), "{err}");
    let err = refused(&env, &["revoke", "--issuing-key", "0123456789abcdef", "--reason", "x"]);
    assert!(err.contains("no issuing key 0123456789abcdef"), "{err}");

    let v = json(&env, &["revoke", "--issuing-key", &key, "--reason", "leaked", "--force", "--json"]);
    assert_eq!((v["key_id"].as_str(), v["was_signing"].as_bool()), (Some(key.as_str()), Some(true)));
    // A revoked key signs no revocation list: rotate first.
    let out = fanlic(&env, &["revocations", "export", "-o", "list.bin"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("keys rotate"));
    assert!(!env.dir.join("list.bin").exists());
    // Regression: a revoked signing key signed licenses until `issue` checked it.
    let out = fanlic(
        &env,
        &[
            "issue",
            "--company",
            "Acme",
            "--project",
            "p",
            "--app",
            "FineReport",
            "--version",
            "11.0",
            "--expires",
            "never",
            "--signed",
            "2026/11/20",
            "-o",
            "after-revoke.lic",
        ],
        None,
    );
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is revoked") && err.contains("keys rotate"), "{err}");
    assert!(!env.dir.join("after-revoke.lic").exists());
}

#[test]
fn export_writes_a_list_the_verifier_accepts_with_a_growing_sequence() {
    let env = setup();
    let id = issue_license(&env, COMPANY, "webroot");
    let kept = issue_license(&env, COMPANY, "other");
    ok(&env, &["revoke", &id, "--reason", "contract terminated", "--no-mail"]);

    // Signed at the key's first instant: --now is the list's issued_at.
    let not_before =
        json(&env, &["keys", "list", "--json"])["issuing_keys"][0]["not_before"].as_str().unwrap().to_owned();
    let v = json(&env, &["revocations", "export", "-o", "list.bin", "--now", &not_before, "--json"]);
    assert_eq!((v["sequence"].as_u64(), v["licenses"].clone()), (Some(1), serde_json::json!([id])));
    let path = env.dir.join("list.bin");
    assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o644);

    let roots = Home::open(&env.home).unwrap().root_keys().unwrap();
    let bytes = fs::read(&path).unwrap();
    let list = fanlic_verifier::verify_revocations(&bytes, &roots, None).unwrap();
    assert_eq!(list.sequence(), 1);
    assert_eq!(list.issued_at().to_string(), not_before);
    assert!(list.revokes_license(&id.parse::<LicenseId>().unwrap()));
    assert!(!list.revokes_license(&kept.parse::<LicenseId>().unwrap()));

    // The file is not replaced without --force; the next export takes the next sequence.
    let out = fanlic(&env, &["revocations", "export", "-o", "list.bin"], None);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    ok(&env, &["revoke", &kept, "--reason", "duplicate", "--no-mail"]);
    let v = json(&env, &["revocations", "export", "-o", "list.bin", "--force", "--json"]);
    assert_eq!(v["sequence"].as_u64(), Some(2));
    let bytes = fs::read(&path).unwrap();
    let list = fanlic_verifier::verify_revocations(&bytes, &roots, Some(1)).unwrap();
    assert_eq!(list.sequence(), 2);
    assert_eq!(list.licenses().count(), 2);
    assert_eq!(list.issuing_keys().count(), 0);
    let signed_by: KeyId = v["signed_by"].as_str().unwrap().parse().unwrap();
    assert!(!list.revokes_key(&signed_by));

    let listed = json(&env, &["revocations", "list", "--json"]);
    let seqs: Vec<u64> = listed["lists"].as_array().unwrap().iter().map(|l| l["sequence"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2]);
    assert!(listed["licenses"].as_array().unwrap().iter().all(|l| l["published"] == true), "{listed}");
}

#[test]
fn verify_with_the_exported_list_reports_revoked_in_both_languages() {
    let env = setup();
    let id = issue_license(&env, COMPANY, "webroot");
    let verify = |list: &str, extra: &[&str]| {
        let mut args =
            vec!["verify", "webroot-Container.lic", "--app", "FineReport", "--version", "11.0.20", "--project"];
        args.extend(["webroot", "--revocations", list]);
        args.extend(extra);
        fanlic(&env, &args, None)
    };

    // A list that does not name the license changes nothing.
    ok(&env, &["revocations", "export", "-o", "before.bin"]);
    let out = verify("before.bin", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    ok(&env, &["revoke", &id, "--reason", "contract terminated", "--no-mail"]);
    ok(&env, &["revocations", "export", "-o", "after.bin"]);
    let out = verify("after.bin", &["--lang", "zh-CN"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with(&format!("许可证内容不正确。厂商已在吊销列表 2 中吊销此许可证（{id}）\n")), "{text}");
    assert!(text.contains("请联系商务人员"), "{text}");

    let v: Value = serde_json::from_slice(&verify("after.bin", &["--json"]).stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["lang"], "en");
    let cause = &v["causes"][0];
    assert_eq!(
        (cause["code"].as_str(), cause["title"].as_str()),
        (Some("revoked"), Some("License content is incorrect"))
    );
    assert_eq!((cause["license_id"].as_str(), cause["sequence"].as_u64()), (Some(id.as_str()), Some(2)));
    assert!(cause["prompt"].as_str().unwrap().contains("revoked this license"), "{cause}");

    // A damaged list is refused (exit 2) naming the file, and verifies nothing.
    let mut bytes = fs::read(env.dir.join("after.bin")).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    fs::write(env.dir.join("damaged.bin"), bytes).unwrap();
    let out = verify("damaged.bin", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("damaged.bin: revocation list refused: the signature does not hold"), "{err}");
    let out = verify("missing.bin", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.bin"));
}

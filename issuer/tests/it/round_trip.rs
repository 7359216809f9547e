//! The vendor's loop through the library and the binary: issue, inspect,
//! verify; key rotation; file modes; refusing to overwrite.

use fanlic_issuer::{HomeError, StoreError};
use std::{
    fs,
    os::unix::fs::PermissionsExt as _,
    path::{Path, PathBuf},
};

use fanlic_formats::{LicenseKind, Timestamp, armor, encode_license_file, encode_license_payload, wire};
use fanlic_issuer::Error;
use fanlic_issuer::Home;
use fanlic_issuer::InitOptions;
use fanlic_issuer::IssueInput;
use fanlic_issuer::IssueRequest;
use fanlic_issuer::home::keys::SigningKey;
use fanlic_issuer::home::load_root_public_key;
use fanlic_issuer::license::inspect::inspect;
use fanlic_issuer::license::verify::{CheckSpec, verify};
use fanlic_issuer::util::clock;

const DAY: u64 = 86_400;

fn now() -> Timestamp {
    clock::now().unwrap()
}

fn init(dir: &Path) -> Home {
    let opts = InitOptions { authserv_ids: vec!["mx.example.com".into()], valid_for_days: None, now: now() };
    Home::init(dir, &opts).unwrap().0
}

fn request(out: PathBuf, expires: &str) -> IssueRequest {
    IssueRequest::parse(
        &IssueInput {
            company: "Acme Data Ltd",
            project: "webroot",
            app: "FineReport",
            version: "11.0",
            expires,
            signed: "2026/11/20",
            not_before: None,
        },
        LicenseKind::LocalContainer,
        2,
        out,
        false,
    )
    .unwrap()
}

fn env_ok(now: Timestamp) -> CheckSpec {
    CheckSpec {
        app_name: "FineReport".into(),
        version: "11.0.20".into(),
        project: "webroot".into(),
        nodes: 2,
        method: None,
        now,
        last_seen: None,
    }
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn files_with_suffix(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_with_suffix(&p, suffix));
        } else if p.to_string_lossy().ends_with(suffix) {
            out.push(p);
        }
    }
    out
}

#[test]
fn issue_inspect_verify_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let mut home = init(&tmp.path().join("home"));
    let out = tmp.path().join("Container.lic");
    let issued = home.issue(&request(out.clone(), "2099-12-31"), now()).unwrap();

    let text = fs::read(&out).unwrap();
    assert_eq!(text, issued.armored.as_bytes());
    // The id is 32 lowercase hex digits everywhere.
    let id = issued.license_id.to_string();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    assert!(issued.armored.starts_with(&format!("# fanlic license {id} for Acme Data Ltd / webroot\n")));

    // inspect: no keys, same license JSON as verify's.
    let seen = inspect(&text);
    assert!(seen.decoded());
    assert_eq!(seen.license.as_ref(), Some(&issued.license));
    assert_eq!(seen.comments.len(), 3);
    assert_eq!(seen.to_json()["signatures_checked"], false);
    assert_eq!(seen.to_json()["license"]["license_id"], id.as_str());

    let roots = home.root_keys().unwrap();
    let report = verify(&text, &roots, &env_ok(now()));
    assert!(report.valid, "{:?}", report.causes);
    assert_eq!(report.license.as_ref(), Some(&issued.license));
    assert_eq!(report.to_json()["license"], seen.to_json()["license"]);

    // The raw file verifies and inspects too.
    assert!(verify(&issued.raw, &roots, &env_ok(now())).valid);
    assert_eq!(inspect(&issued.raw).format, "raw");

    // Recorded with its file.
    let stored = home.stored_license(&id).unwrap().unwrap();
    assert_eq!(stored.file_bytes, issued.raw);
    assert_eq!(stored.armored, issued.armored);
    assert_eq!(stored.issuing_key_id, issued.issuing_key_id.to_string());
    assert_eq!(home.license_count().unwrap(), 1);
    assert_eq!(home.authserv_ids().unwrap(), ["mx.example.com"]);

    // Several causes at once, with details.
    let bad = CheckSpec {
        app_name: "FineBI".into(),
        version: "10.0".into(),
        project: "sales".into(),
        nodes: 9,
        method: Some(LicenseKind::PrivateCloud),
        now: Timestamp(now().0 + 200 * 365 * DAY),
        last_seen: None,
    };
    let report = verify(&text, &roots, &bad);
    let codes: Vec<_> = report.causes.iter().map(|c| c.code).collect();
    assert_eq!(
        codes,
        [
            "license_expired",
            "version_mismatch",
            "app_name_mismatch",
            "license_exhausted",
            "project_content_mismatch",
            "license_type_mismatch"
        ]
    );
    let json = report.to_json();
    assert_eq!(json["valid"], false);
    assert_eq!(json["causes"][0]["expiry"], "2099-12-31");
    assert_eq!(json["causes"][1]["licensed"], "11.0");
    assert_eq!(json["causes"][1]["local"], "10.0");
    assert_eq!(json["causes"][3]["max_nodes"], 2);
    assert_eq!(json["causes"][3]["nodes"], 9);
}

#[test]
fn database_schema_is_versioned() {
    let tmp = tempfile::tempdir().unwrap();
    let home = init(&tmp.path().join("home"));
    let conn = rusqlite::Connection::open(home.db_path()).unwrap();
    let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(v, fanlic_issuer::SCHEMA_VERSION);
    // A newer schema is refused, not misread.
    conn.pragma_update(None, "user_version", v + 1).unwrap();
    drop(conn);
    drop(home);
    let err = Home::open(&tmp.path().join("home")).unwrap_err();
    assert!(matches!(err, Error::Store(StoreError::SchemaTooNew { .. })), "{err}");
}

#[test]
fn rotation_keeps_old_licenses_valid() {
    let tmp = tempfile::tempdir().unwrap();
    let home_dir = tmp.path().join("home");
    let mut home = init(&home_dir);
    let old = home.issue(&request(tmp.path().join("old.lic"), "never"), now()).unwrap();

    // The root key goes offline; rotation gets it back by path.
    let offline = tmp.path().join("usb-stick");
    fs::rename(home_dir.join("root-key"), &offline).unwrap();
    let rotated = home.rotate(&offline, Some(30), now()).unwrap();
    assert_ne!(rotated.new_key.key_id, old.issuing_key_id);
    assert_eq!(rotated.retired, [old.issuing_key_id]);
    assert_eq!(rotated.new_key.not_after.0 - rotated.new_key.not_before.0, 30 * DAY);

    // Another customer's: one live license per company and project.
    let mut second = request(tmp.path().join("new.lic"), "never");
    second.company = "Other Data Ltd".to_owned();
    let new = home.issue(&second, now()).unwrap();
    assert_eq!(new.issuing_key_id, rotated.new_key.key_id);
    assert_eq!(new.license["issuing_key_id"], rotated.new_key.key_id.to_string());

    let roots = home.root_keys().unwrap();
    for lic in [&old, &new] {
        let r = verify(lic.armored.as_bytes(), &roots, &env_ok(now()));
        assert!(r.valid, "{:?}", r.causes);
    }
    // A perpetual license outlives its issuing key: the window bounds issued_at.
    let far = Timestamp(now().0 + 50 * 365 * DAY);
    assert!(verify(old.armored.as_bytes(), &roots, &env_ok(far)).valid);
    assert!(verify(new.armored.as_bytes(), &roots, &env_ok(far)).valid);

    let keys = home.list_keys(now()).unwrap();
    assert_eq!(keys.signing, Some(rotated.new_key.key_id));
    let statuses: Vec<_> = keys.issuing_keys.iter().map(|k| keys.status(k)).collect();
    assert_eq!(statuses, ["retired", "active"]);
    let json = keys.to_json();
    assert_eq!(json["root_keys"][0]["private_key_on_this_machine"], false);
    assert_eq!(json["issuing_keys"][1]["signing"], true);

    // The new key cannot sign past its window.
    let late = Timestamp(now().0 + 31 * DAY);
    let err = home.issue(&request(tmp.path().join("late.lic"), "never"), late).unwrap_err();
    assert!(matches!(err, Error::Home(HomeError::IssuingKeyOutsideWindow { .. })), "{err}");
}

#[test]
fn rotation_refuses_a_foreign_root_key() {
    let tmp = tempfile::tempdir().unwrap();
    let mut home = init(&tmp.path().join("home"));
    init(&tmp.path().join("other"));
    let err = home.rotate(&tmp.path().join("other/root-key"), None, now()).unwrap_err();
    assert!(matches!(err, Error::Home(HomeError::UnknownRootKey { .. })), "{err}");
    assert_eq!(home.issuing_keys().unwrap().len(), 1);
}

#[test]
fn key_files_are_private() {
    let tmp = tempfile::tempdir().unwrap();
    let home_dir = tmp.path().join("home");
    let mut home = init(&home_dir);
    home.rotate(&home_dir.join("root-key"), None, now()).unwrap();
    home.make_receipt_keys(&home_dir.join("root-key"), 1, now()).unwrap();
    assert_eq!(mode(&home_dir.join("receipt-keys")), 0o700);
    let private = files_with_suffix(&home_dir, ".key.pem");
    assert_eq!(private.len(), 5, "{private:?}"); // root + two issuing keys + two receipt keys
    for p in &private {
        assert_eq!(mode(p), 0o600, "{}", p.display());
        assert!(fs::read_to_string(p).unwrap().starts_with("-----BEGIN PRIVATE KEY-----\n"));
    }
    for p in files_with_suffix(&home_dir, ".pub.pem") {
        let text = fs::read_to_string(&p).unwrap();
        assert!(text.starts_with("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA"), "{}", p.display());
        load_root_public_key(&p).unwrap();
    }
    assert_eq!(mode(&home_dir), 0o700);
    assert_eq!(mode(&home_dir.join("root-key")), 0o700);
    assert_eq!(mode(&home_dir.join("issuing-keys")), 0o700);
}

#[test]
fn init_refuses_an_existing_home() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("home");
    let home = init(&dir);
    let root_files = files_with_suffix(&dir.join("root-key"), ".key.pem");
    let before = fs::read(&root_files[0]).unwrap();
    drop(home);
    let opts = InitOptions { authserv_ids: vec![], valid_for_days: None, now: now() };
    let err = Home::init(&dir, &opts).unwrap_err();
    assert!(matches!(err, Error::Home(HomeError::Exists { .. })), "{err}");
    assert_eq!(fs::read(&root_files[0]).unwrap(), before);

    // Any non-empty folder is refused; an empty one is used.
    let other = tmp.path().join("other");
    fs::create_dir(&other).unwrap();
    fs::write(other.join("notes.txt"), "mine").unwrap();
    assert!(matches!(Home::init(&other, &opts), Err(Error::Home(HomeError::Exists { .. }))));
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    Home::init(&empty, &opts).unwrap();
    // No temporary folders were left behind.
    let leftovers: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".fanlic"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn output_is_not_overwritten_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let mut home = init(&tmp.path().join("home"));
    let out = tmp.path().join("Container.lic");
    fs::write(&out, "precious").unwrap();
    let err = home.issue(&request(out.clone(), "never"), now()).unwrap_err();
    assert!(matches!(err, Error::OutputExists { .. }), "{err}");
    assert_eq!(fs::read_to_string(&out).unwrap(), "precious");
    assert_eq!(home.license_count().unwrap(), 0, "a refused license is not recorded");

    let mut forced = request(out.clone(), "never");
    forced.force = true;
    let issued = home.issue(&forced, now()).unwrap();
    assert_eq!(fs::read_to_string(&out).unwrap(), issued.armored);
    // A bearer credential: owner only (regression: it was 0644).
    assert_eq!(mode(&out), 0o600);
    assert_eq!(home.license_count().unwrap(), 1);
}

#[test]
fn inputs_are_checked_with_a_fix() {
    let base = IssueInput {
        company: "Acme",
        project: "webroot",
        app: "FineReport",
        version: "11.0",
        expires: "never",
        signed: "2026/11/20",
        not_before: None,
    };
    let parse = |i: &IssueInput<'_>| {
        IssueRequest::parse(i, LicenseKind::LocalContainer, 1, "x.lic".into(), false)
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    assert!(parse(&IssueInput { app: "Excel", ..base.clone() }).contains("must be FineReport or FineBI"));
    assert!(parse(&IssueInput { version: "11", ..base.clone() }).contains("MAJOR.MINOR"));
    assert!(parse(&IssueInput { expires: "2027-02-30", ..base.clone() }).contains("YYYY-MM-DD"));
    assert!(parse(&IssueInput { signed: "20/11/2026", ..base.clone() }).contains("--signed"));
    assert!(parse(&IssueInput { project: "webroot ", ..base.clone() }).contains("white space"));
    assert!(parse(&IssueInput { not_before: Some("soon"), ..base.clone() }).contains("--not-before"));
    // `--product` spelling differences are forgiven; the license has the exact name.
    let ok =
        IssueRequest::parse(&IssueInput { app: "finebi", ..base }, LicenseKind::LocalContainer, 1, "x".into(), false);
    assert_eq!(ok.unwrap().app_name, "FineBI");
}

#[test]
fn an_expired_license_is_refused_at_issuance() {
    let tmp = tempfile::tempdir().unwrap();
    let mut home = init(&tmp.path().join("home"));
    let err = home.issue(&request(tmp.path().join("a.lic"), "2020-01-01"), now()).unwrap_err();
    assert!(err.to_string().contains("expired from the start"), "{err}");
}

/// A license with an activation key (made by hand: `issue` has no option for
/// one yet) is shown as `activation_key_present`, never the key.
#[test]
fn inspect_never_shows_the_activation_key() {
    let tmp = tempfile::tempdir().unwrap();
    let home_dir = tmp.path().join("home");
    let home = init(&home_dir);
    let row = home.signing_key().unwrap();
    let key = SigningKey::load(&home_dir.join(&row.private_key_path)).unwrap();
    let secret = [0x5a_u8; 32];
    let t = now().0;
    let payload = wire::LicensePayload {
        license_id: [9; 16],
        kind: wire::Kind::LocalContainer,
        app_name: "FineReport",
        company: "Acme",
        project: "webroot",
        contract_signed: wire::Date { year: 2026, month: 11, day: 20 },
        issued_at: t,
        not_before: t,
        expiry: wire::Expiry::Never,
        version: wire::Version { major: 11, minor: 0 },
        max_nodes: 2,
        activation_key: Some(secret),
        activation_base_url: Some("https://activate.example.com/a"),
        image_public_key: None,
        supersedes: None,
        request_email_sha256: None,
    };
    let msg = encode_license_payload(&payload).unwrap();
    let sig = key.sign(&msg);
    let raw = encode_license_file(&row.certificate_message, &row.certificate_signature, &msg, &sig).unwrap();
    let text = armor::encode(&raw, &[]).unwrap();

    let secret_hex = "5a".repeat(32);
    let seen = inspect(text.as_bytes());
    let json = seen.to_json().to_string();
    assert!(json.contains("\"activation_key_present\":true"), "{json}");
    assert!(!json.contains(&secret_hex));
    assert!(!seen.human().contains(&secret_hex));
    let report = verify(text.as_bytes(), &home.root_keys().unwrap(), &env_ok(now()));
    assert!(report.valid, "{:?}", report.causes);
    assert!(!report.to_json().to_string().contains(&secret_hex));
}

/// `fanlic ARGS` in `cwd`, with no `FANLIC_HOME`.
fn fanlic_in(args: &[&str], cwd: &Path) -> std::process::Output {
    crate::common::fanlic_cmd().args(args).current_dir(cwd).env_remove("FANLIC_HOME").output().unwrap()
}

/// Through the binary: $FANLIC_HOME, exit codes, and no secret on screen.
#[test]
fn cli_uses_fanlic_home_and_prints_no_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("vendor");
    let run_env = |args: &[&str]| {
        crate::common::fanlic_cmd().args(args).current_dir(tmp.path()).env("FANLIC_HOME", &home).output().unwrap()
    };
    let init = run_env(&["init", "--json"]);
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let init_json: serde_json::Value = serde_json::from_slice(&init.stdout).unwrap();
    assert_eq!(init_json["home"], home.display().to_string());
    let list = run_env(&["keys", "list"]);
    assert!(list.status.success());

    let issue = run_env(&[
        "issue",
        "--company",
        "Acme",
        "--project",
        "webroot",
        "--app",
        "FineReport",
        "--version",
        "11.0",
        "--expires",
        "never",
        "--signed",
        "2026/11/20",
        "--json",
    ]);
    assert!(issue.status.success(), "{}", String::from_utf8_lossy(&issue.stderr));
    let lic: serde_json::Value = serde_json::from_slice(&issue.stdout).unwrap();
    assert_eq!(lic["kind"], "local-container");
    assert_eq!(lic["max_nodes"], 1);
    assert!(tmp.path().join("Container.lic").is_file(), "-o defaults to Container.lic");

    // No private key material in anything printed.
    for p in files_with_suffix(&home, ".key.pem") {
        let pem_text = fs::read_to_string(&p).unwrap();
        let body: String = pem_text.lines().filter(|l| !l.starts_with("-----")).collect();
        for out in [&init.stdout, &list.stdout, &issue.stdout] {
            assert!(!String::from_utf8_lossy(out).contains(&body[..40]));
        }
    }

    // --home wins over $FANLIC_HOME; a missing home is exit 2.
    let r = run_env(&["keys", "list", "--home", "nowhere"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("no fanlic home"));

    // Exit codes of verify: 0 valid, 1 invalid, 2 usage.
    let ok = run_env(&["verify", "Container.lic", "--app", "FineReport", "--version", "11.0", "--project", "webroot"]);
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stdout));
    let bad = run_env(&["verify", "Container.lic", "--app", "FineBI", "--version", "11.0", "--project", "x", "--json"]);
    assert_eq!(bad.status.code(), Some(1));
    let j: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(j["causes"].as_array().unwrap().len(), 2);
    let usage = fanlic_in(&["verify", "Container.lic"], tmp.path());
    assert_eq!(usage.status.code(), Some(2));
}

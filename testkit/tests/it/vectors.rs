//! Every vector of `fixtures/vectors/manifest.json` through every entry point
//! of the verifier: `verify` (armored and raw), and `authenticate` + `check`.

use std::collections::BTreeSet;

use fanlic_formats::{Expiry, LICENSE_FILE_MAGIC, LicenseKind, MAX_LICENSE_FILE_LEN, Timestamp, Version, armor};
use fanlic_testkit::{Expected, Manifest, Vector, parse_rfc3339};
use fanlic_verifier::{Cause, ContentError, Rejection, SignedLicense, Verified, authenticate, check, verify};

/// What came out of an entry point, in the manifest's terms.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    valid: bool,
    causes: Vec<String>,
    content_error: Option<String>,
    debug: Option<String>,
}

fn content_error(e: &ContentError) -> Outcome {
    Outcome {
        valid: false,
        causes: vec!["content_incorrect".into()],
        content_error: Some(e.reason().into()),
        debug: Some(format!("{e:?}")),
    }
}

fn outcome(result: &Result<Verified<SignedLicense<'_>>, Rejection<'_>>) -> Outcome {
    match result {
        Ok(_) => Outcome { valid: true, causes: vec![], content_error: None, debug: None },
        Err(r) => {
            let mut o = Outcome {
                valid: false,
                causes: r.causes().map(|c| c.code().to_owned()).collect(),
                content_error: None,
                debug: None,
            };
            for c in r.causes() {
                if let Cause::ContentIncorrect(e) = c {
                    o.content_error = Some(e.reason().into());
                    o.debug = Some(format!("{e:?}"));
                }
            }
            o
        }
    }
}

fn assert_expected(v: &Vector, entry: &str, got: &Outcome) {
    let Expected { valid, causes, content_error, detail } = &v.expected;
    assert_eq!(got.valid, *valid, "{}: {entry}: valid; got {got:?}", v.name);
    assert_eq!(&got.causes, causes, "{}: {entry}: causes", v.name);
    assert_eq!(&got.content_error, content_error, "{}: {entry}: content_error; got {got:?}", v.name);
    if let Some(d) = detail {
        let debug = got.debug.as_deref().unwrap_or_default();
        assert!(debug.contains(d.as_str()), "{}: {entry}: error {debug} does not contain {d}", v.name);
    }
}

/// Runs `input` through `verify` and through `authenticate` + `check`, and
/// checks both against the manifest.
fn check_entry_points(v: &Vector, input: &[u8], form: &str) {
    let roots = v.root_keys().unwrap();
    let env = v.env.to_environment().unwrap();

    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let verified = verify(input, &mut buf, &roots, &env);
    let via_verify = outcome(&verified);
    assert_expected(v, &format!("verify ({form})"), &via_verify);
    match &verified {
        Ok(ok) => assert_eq!(ok.license.app_name, v.env.app_name),
        Err(r) if v.expected.content_error.is_some() => {
            assert!(r.license().is_none(), "{}: a license whose signatures fail must not be returned", v.name);
            assert_eq!(r.all().len(), 1, "{}: content_incorrect is always alone", v.name);
        }
        Err(r) => assert!(r.license().is_some(), "{}: an authentic license is returned with its causes", v.name),
    }

    let mut buf2 = [0u8; MAX_LICENSE_FILE_LEN];
    match authenticate(input, &mut buf2, &roots) {
        Err(e) => {
            assert!(v.expected.content_error.is_some(), "{}: authenticate ({form}) failed: {e:?}", v.name);
            assert_expected(v, &format!("authenticate ({form})"), &content_error(&e));
        }
        Ok(signed) => {
            assert!(v.expected.content_error.is_none(), "{}: authenticate ({form}) accepted it", v.name);
            let checked = check(signed, &env);
            assert_expected(v, &format!("authenticate+check ({form})"), &outcome(&checked));
            assert_eq!(outcome(&checked), via_verify, "{}: check and verify disagree", v.name);
            // The license verify returns is the one authenticate returns.
            match (&verified, &checked) {
                (Ok(a), Ok(b)) => assert_eq!(a, b),
                (Err(a), Err(b)) => assert_eq!(a.license(), b.license()),
                _ => unreachable!(),
            }
            if let Err(r) = &checked {
                assert_eq!(r.license(), Some(&signed.license));
            }
        }
    }
}

/// Whether the vector's expected failure depends on the form (armored or
/// raw), so that the same bytes in the other form fail another way: the
/// armor itself, the magic (raw input without the known magic is taken as
/// armor), the length limit.
fn is_about_the_form(v: &Vector) -> bool {
    matches!(v.expected.content_error.as_deref(), Some("bad_armor" | "unknown_format"))
        || v.expected.detail.as_deref() == Some("TooLong")
}

#[test]
fn every_vector_through_every_entry_point() {
    let manifest = Manifest::load().unwrap();
    let mut raw_checked = 0;
    let mut armored_checked = 0;
    for v in &manifest.vectors {
        let input = v.read_file().unwrap();
        check_entry_points(v, &input, "as written");
        if is_about_the_form(v) {
            continue;
        }
        if input.starts_with(LICENSE_FILE_MAGIC) {
            // Raw: the same bytes armored must give the same outcome.
            let text = armor::encode(&input, &["# armored by the test"]).unwrap();
            check_entry_points(v, text.as_bytes(), "armored by the test");
            armored_checked += 1;
        } else {
            // Armored: the raw file inside must give the same outcome.
            let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
            let raw = armor::decode(&input, &mut buf).unwrap_or_else(|e| panic!("{}: {e}", v.name)).to_vec();
            check_entry_points(v, &raw, "raw");
            raw_checked += 1;
        }
    }
    assert!(raw_checked >= 30, "only {raw_checked} vectors checked raw");
    assert!(armored_checked >= 1, "no raw vector checked armored");
}

#[test]
fn manifest_is_well_formed_and_covers_every_cause() {
    let manifest = Manifest::load().unwrap();
    let mut names = BTreeSet::new();
    let mut sole_causes = BTreeSet::new();
    let mut reasons = BTreeSet::new();
    for v in &manifest.vectors {
        assert!(names.insert(v.name.as_str()), "duplicate vector {}", v.name);
        assert!(!v.roots.is_empty(), "{}: no roots", v.name);
        v.env.to_environment().unwrap_or_else(|e| panic!("{}: env: {e}", v.name));
        let e = &v.expected;
        assert_eq!(e.valid, e.causes.is_empty(), "{}", v.name);
        assert_eq!(e.content_error.is_some(), e.causes == ["content_incorrect"], "{}", v.name);
        if let [only] = e.causes.as_slice() {
            sole_causes.insert(only.as_str());
        }
        reasons.extend(e.content_error.as_deref());
    }
    let all = [
        "license_expired",
        "version_mismatch",
        "app_name_mismatch",
        "license_exhausted",
        "project_content_mismatch",
        "license_type_mismatch",
        "not_yet_valid",
        "clock_rollback",
        "content_incorrect",
    ];
    for code in all {
        assert!(sole_causes.contains(code), "no vector has {code} as its only cause");
    }
    let everything = manifest.vectors.iter().find(|v| v.name == "all-causes").unwrap();
    assert_eq!(everything.expected.causes, all[..8], "all-causes lists every cause in SPEC.md §4.2 order");
    for reason in [
        "bad_armor",
        "unknown_format",
        "bad_encoding",
        "unknown_root_key",
        "bad_signature",
        "issuing_key_outside_window",
        "kind_not_certified",
    ] {
        assert!(reasons.contains(reason), "no vector has reason {reason}");
    }
    // Every file in fixtures/vectors/ is used by a vector.
    let used: BTreeSet<&str> = manifest.vectors.iter().map(|v| v.file.as_str()).collect();
    for entry in std::fs::read_dir(fanlic_testkit::vectors_dir()).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if entry.file_type().unwrap().is_file() && name != "manifest.json" {
            assert!(used.contains(name.as_str()), "{name} is in no vector");
        }
    }
}

/// The vector others build on, pinned field by field.
#[test]
fn basic_vector_says_what_it_should() {
    let input = std::fs::read(fanlic_testkit::vectors_dir().join("valid-local-container.lic")).unwrap();
    let root = fanlic_verifier::RootKey::from_bytes(&fanlic_testkit::read_public_key("root-a").unwrap()).unwrap();
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let signed = authenticate(&input, &mut buf, &[root]).unwrap();
    let l = signed.license;
    assert_eq!(l.app_name, "FineReport");
    assert_eq!(l.version, Version { major: 11, minor: 0 });
    assert_eq!(l.project, "webroot");
    assert_eq!(l.company, "Example Test Co.");
    assert_eq!(l.max_nodes, 1);
    assert_eq!(l.kind, LicenseKind::LocalContainer);
    assert_eq!(l.expiry.to_string(), "2030-12-31");
    assert!(matches!(l.expiry, Expiry::On(_)));
    assert_eq!(l.issued_at, parse_rfc3339("2026-01-01T00:00:00Z").unwrap());
    assert_eq!(l.issued_at, Timestamp(1_767_225_600));
    assert_eq!(l.not_before, l.issued_at);
    assert_eq!((l.activation_key, l.activation_base_url, l.image_public_key), (None, None, None));
    assert_eq!((l.supersedes, l.request_email_sha256), (None, None));
    assert_eq!(signed.certificate.root_key_id, root.id());
    assert_eq!(signed.certificate.public_key, fanlic_testkit::read_public_key("issuing-a").unwrap());
}

/// Comments are unsigned: changing, adding or removing them never changes
/// the outcome.
#[test]
fn comments_do_not_matter() {
    let manifest = Manifest::load().unwrap();
    let v = manifest.vectors.iter().find(|v| v.name == "valid-with-comments").unwrap();
    let input = v.read_file().unwrap();
    let text = String::from_utf8(input.clone()).unwrap();
    let comments: Vec<&[u8]> = armor::comments(&input).collect();
    assert_eq!(comments.len(), 6);
    assert!(comments.iter().any(|c| c.starts_with(b"# Company: Evil Corp")));
    let begin = text.find(armor::BEGIN).unwrap();
    for prefix in ["", "changed comment\n", "# Company: Someone Else\r\n# Expires: never\n"] {
        let changed = format!("{prefix}{}", &text[begin..]);
        check_entry_points(v, changed.as_bytes(), "comments changed");
    }
}

//! Every vector of `fixtures/vectors/revocations/manifest.json` through the
//! verifier (`verify_revocations`), then the accepted list through
//! `verify_with_revocations` and `check_with_revocations` with the license
//! vectors: cause `revoked`, alone or with others (SPEC.md §5).

use std::collections::BTreeSet;

use fanlic_formats::{
    LicenseId, MAX_LICENSE_FILE_LEN, REVOCATION_FILE_MAGIC, RevocationEnvelope, RevocationList, encode_revocation_file,
    encode_revocation_list_body,
};
use fanlic_testkit::{
    Manifest, RevocationManifest, RevocationVector, TestKey, read_public_key, revocations::VALID_SEQUENCE,
};
use fanlic_verifier::{
    Cause, Environment, Rejection, Revocation, RevocationError, RootKey, SignedLicense, Verified, authenticate, check,
    check_with_revocations, verify, verify_revocations, verify_with_revocations,
};

fn load(name: &str) -> (RevocationVector, Vec<u8>) {
    let m = RevocationManifest::load().unwrap();
    let v = m.vectors.into_iter().find(|v| v.name == name).unwrap();
    let bytes = v.read_file().unwrap();
    (v, bytes)
}

fn roots_a() -> Vec<RootKey> {
    vec![RootKey::from_bytes(&read_public_key("root-a").unwrap()).unwrap()]
}

#[test]
fn every_revocation_vector_gives_its_outcome() {
    let manifest = RevocationManifest::load().unwrap();
    let mut names = BTreeSet::new();
    let mut reasons = BTreeSet::new();
    for v in &manifest.vectors {
        assert!(names.insert(v.name.clone()), "duplicate vector {}", v.name);
        let input = v.read_file().unwrap();
        let roots = v.root_keys().unwrap();
        let e = &v.expected;
        assert_eq!(e.valid, e.error.is_none(), "{}", v.name);
        match verify_revocations(&input, &roots, v.highest_seen) {
            Ok(list) => {
                assert!(e.valid, "{}: accepted, expected {:?}", v.name, e.error);
                assert_eq!(Some(list.sequence()), e.sequence, "{}", v.name);
                let licenses: Vec<String> = list.licenses().map(|l| l.to_string()).collect();
                let keys: Vec<String> = list.issuing_keys().map(|k| k.to_string()).collect();
                assert_eq!(licenses, e.licenses, "{}", v.name);
                assert_eq!(keys, e.issuing_keys, "{}", v.name);
                for l in list.licenses() {
                    assert!(list.revokes_license(&l));
                }
                for k in list.issuing_keys() {
                    assert!(list.revokes_key(&k));
                }
                assert!(!list.revokes_license(&LicenseId([0xff; 16])));
                // Decoding then encoding gives the same bytes.
                let env = RevocationEnvelope::decode(&input).unwrap();
                let again = encode_revocation_list_body(
                    list.sequence(),
                    list.issued_at(),
                    &list.licenses().collect::<Vec<_>>(),
                    &list.issuing_keys().collect::<Vec<_>>(),
                )
                .unwrap();
                assert_eq!(again, env.list.message, "{}", v.name);
                let file = encode_revocation_file(
                    env.certificate.message,
                    &env.certificate.signature,
                    env.list.message,
                    &env.list.signature,
                )
                .unwrap();
                assert_eq!(file, input, "{}", v.name);
            }
            Err(err) => {
                assert!(!e.valid, "{}: refused with {err:?}", v.name);
                assert_eq!(Some(err.reason()), e.error.as_deref(), "{}: {err:?}", v.name);
                if let Some(d) = &e.detail {
                    assert!(format!("{err:?}").contains(d.as_str()), "{}: {err:?} does not contain {d}", v.name);
                }
                assert!(!err.to_string().is_empty());
                reasons.insert(err.reason());
            }
        }
    }
    for reason in [
        "unknown_format",
        "bad_encoding",
        "unknown_root_key",
        "bad_signature",
        "not_certified",
        "issuing_key_outside_window",
        "rollback",
    ] {
        assert!(reasons.contains(reason), "no revocation vector has reason {reason}");
    }
    // Every file in fixtures/vectors/revocations/ is used by a vector.
    let used: BTreeSet<&str> = manifest.vectors.iter().map(|v| v.file.as_str()).collect();
    for entry in std::fs::read_dir(fanlic_testkit::revocations::revocations_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name != "manifest.json" {
            assert!(used.contains(name.as_str()), "{name} is in no vector");
        }
    }
}

#[test]
fn rollback_is_refused_and_an_equal_sequence_accepted() {
    let (_, input) = load("valid");
    let roots = roots_a();
    assert_eq!(verify_revocations(&input, &roots, None).unwrap().sequence(), VALID_SEQUENCE);
    assert!(verify_revocations(&input, &roots, Some(VALID_SEQUENCE)).is_ok());
    assert!(verify_revocations(&input, &roots, Some(0)).is_ok());
    assert_eq!(
        verify_revocations(&input, &roots, Some(VALID_SEQUENCE + 1)),
        Err(RevocationError::Rollback { sequence: VALID_SEQUENCE, highest_seen: VALID_SEQUENCE + 1 })
    );
    assert_eq!(
        verify_revocations(&input, &roots, Some(u64::MAX)),
        Err(RevocationError::Rollback { sequence: VALID_SEQUENCE, highest_seen: u64::MAX })
    );
}

/// A license vector from `fixtures/vectors/manifest.json`, with its roots and
/// environment.
fn license(name: &str) -> (Vec<u8>, Vec<RootKey>, fanlic_testkit::Env) {
    let m = Manifest::load().unwrap();
    let v = m.vectors.into_iter().find(|v| v.name == name).unwrap();
    (v.read_file().unwrap(), v.root_keys().unwrap(), v.env)
}

fn codes(r: &Result<Verified<SignedLicense<'_>>, Rejection<'_>>) -> Vec<&'static str> {
    match r {
        Ok(_) => vec![],
        Err(rej) => rej.causes().map(Cause::code).collect(),
    }
}

fn revoked(r: &Result<Verified<SignedLicense<'_>>, Rejection<'_>>) -> Option<(Revocation, u64)> {
    r.as_ref().err()?.causes().find_map(|c| match c {
        Cause::Revoked { revocation, sequence } => Some((*revocation, *sequence)),
        _ => None,
    })
}

/// Both entry points that take a list, which must agree; and with `None`
/// they must agree with `verify` and `check`.
#[allow(clippy::result_large_err, reason = "the verifier's own result type")]
fn run_both<'a>(
    input: &'a [u8],
    roots: &[RootKey],
    env: &Environment<'a>,
    list: Option<&Verified<RevocationList<'_>>>,
) -> Result<Verified<SignedLicense<'a>>, Rejection<'a>> {
    let buf = Box::leak(Box::new([0u8; MAX_LICENSE_FILE_LEN]));
    let via_verify = verify_with_revocations(input, buf, roots, env, list);
    let mut buf2 = [0u8; MAX_LICENSE_FILE_LEN];
    if let Ok(signed) = authenticate(input, &mut buf2, roots) {
        let checked = check_with_revocations(signed, env, list);
        assert_eq!(codes(&checked), codes(&via_verify));
        assert_eq!(revoked(&checked), revoked(&via_verify));
        if list.is_none() {
            assert_eq!(codes(&check(signed, env)), codes(&checked));
        }
    }
    if list.is_none() {
        let mut buf3 = [0u8; MAX_LICENSE_FILE_LEN];
        assert_eq!(codes(&verify(input, &mut buf3, roots, env)), codes(&via_verify));
    }
    via_verify
}

#[test]
fn a_revoked_license_is_reported_as_revoked() {
    let list_file = load("valid").1;
    let list = verify_revocations(&list_file, &roots_a(), None).unwrap();
    let (input, roots, env) = license("valid-local-container");
    let env = env.to_environment().unwrap();

    // Without a list: valid, exactly as before.
    assert!(run_both(&input, &roots, &env, None).is_ok());
    // With an empty list: still valid.
    let empty_file = load("valid-empty").1;
    let empty = verify_revocations(&empty_file, &roots_a(), None).unwrap();
    assert!(run_both(&input, &roots, &env, Some(&empty)).is_ok());

    let r = run_both(&input, &roots, &env, Some(&list));
    assert_eq!(codes(&r), ["revoked"]);
    let id = r.as_ref().err().unwrap().license().unwrap().id;
    assert_eq!(revoked(&r), Some((Revocation::License { license_id: id }, VALID_SEQUENCE)));
    let text = r.as_ref().err().unwrap().to_string();
    assert!(text.starts_with("License content is incorrect. The vendor revoked this license"), "{text}");
    assert!(text.contains(&id.to_string()), "{text}");

    // Another license by the same key is not revoked.
    let (other, roots, env2) = license("valid-perpetual");
    let env2 = env2.to_environment().unwrap();
    assert!(run_both(&other, &roots, &env2, Some(&list)).is_ok());
}

#[test]
fn revoked_is_reported_together_with_other_causes() {
    let list_file = load("valid").1;
    let list = verify_revocations(&list_file, &roots_a(), None).unwrap();
    // The basic license, checked after it expired, in another project, with
    // the clock rolled back: every cause, `revoked` in its place (#9).
    let (input, roots, env) = license("three-causes");
    let env = env.to_environment().unwrap();
    let r = run_both(&input, &roots, &env, Some(&list));
    assert_eq!(codes(&r), ["license_expired", "project_content_mismatch", "clock_rollback", "revoked"]);
    let (input, roots, env) = license("license-expired");
    let env = env.to_environment().unwrap();
    assert_eq!(codes(&run_both(&input, &roots, &env, Some(&list))), ["license_expired", "revoked"]);
}

#[test]
fn a_license_signed_by_a_revoked_issuing_key_is_revoked() {
    let list_file = load("valid").1;
    let list = verify_revocations(&list_file, &roots_a(), None).unwrap();
    // root-b.lic is signed by issuing-b, which the list revokes.
    let (input, roots, env) = license("valid-root-b-trusted");
    let env = env.to_environment().unwrap();
    assert!(run_both(&input, &roots, &env, None).is_ok());
    let r = run_both(&input, &roots, &env, Some(&list));
    assert_eq!(codes(&r), ["revoked"]);
    let key_id = TestKey::new("issuing-b").unwrap().key_id();
    assert_eq!(revoked(&r), Some((Revocation::IssuingKey { key_id }, VALID_SEQUENCE)));
    assert!(r.as_ref().err().unwrap().to_string().contains(&key_id.to_string()));
}

#[test]
fn a_license_whose_signatures_fail_is_content_incorrect_alone() {
    let list_file = load("valid").1;
    let list = verify_revocations(&list_file, &roots_a(), None).unwrap();
    // payload-byte-changed carries the basic license's id, which the list
    // revokes; its signature fails, so only content_incorrect is reported.
    let (input, roots, env) = license("payload-byte-changed");
    let env = env.to_environment().unwrap();
    let r = run_both(&input, &roots, &env, Some(&list));
    assert_eq!(codes(&r), ["content_incorrect"]);
    assert!(r.unwrap_err().license().is_none());
}

#[test]
fn both_license_and_key_revoked_says_both() {
    // A list that revokes the basic license and issuing-a, its key, signed by
    // issuing-a2 under the same certificate as the valid list.
    let valid = load("valid").1;
    let env = RevocationEnvelope::decode(&valid).unwrap();
    let (input, roots, lenv) = license("valid-local-container");
    let lenv = lenv.to_environment().unwrap();
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let signed = authenticate(&input, &mut buf, &roots).unwrap();
    let issuing_a = TestKey::new("issuing-a").unwrap();
    let a2 = TestKey::new("issuing-a2").unwrap();
    let list = RevocationList::decode(env.list.message).unwrap();
    let msg =
        encode_revocation_list_body(VALID_SEQUENCE + 1, list.issued_at(), &[signed.license.id], &[issuing_a.key_id()])
            .unwrap();
    let file =
        encode_revocation_file(env.certificate.message, &env.certificate.signature, &msg, &a2.sign(&msg)).unwrap();
    assert!(file.starts_with(REVOCATION_FILE_MAGIC));
    let newer = verify_revocations(&file, &roots_a(), Some(VALID_SEQUENCE)).unwrap();
    let r = run_both(&input, &roots, &lenv, Some(&newer));
    assert_eq!(
        revoked(&r),
        Some((
            Revocation::LicenseAndIssuingKey { license_id: signed.license.id, key_id: issuing_a.key_id() },
            VALID_SEQUENCE + 1
        ))
    );
    // And the older valid list is now a rollback.
    assert!(matches!(
        verify_revocations(&valid, &roots_a(), Some(newer.sequence())),
        Err(RevocationError::Rollback { .. })
    ));
}

/// A license file is not a revocation list, nor the other way round.
#[test]
fn files_are_not_confused() {
    let (input, roots, env) = license("valid-raw");
    assert!(matches!(
        verify_revocations(&input, &roots, None),
        Err(RevocationError::Decode(fanlic_formats::DecodeError::UnknownMagic))
    ));
    let list_file = load("valid").1;
    let env = env.to_environment().unwrap();
    let r = run_both(&list_file, &roots, &env, None);
    assert_eq!(codes(&r), ["content_incorrect"]);
}

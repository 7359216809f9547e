//! `fanlic_verifier::verify` on arbitrary bytes, with the TEST-ONLY root key A
//! and the environment of the `valid-local-container` vector. Besides "never
//! panics": an accepted input is an authentic license whose claims match the
//! environment, and a rejection without a license has exactly one cause,
//! `content_incorrect`.
#![no_main]

use fanlic_formats::{LicenseKind, MAX_LICENSE_FILE_LEN, Timestamp, armor};
use fanlic_verifier::{Cause, Environment, RootKey, verify};
use libfuzzer_sys::fuzz_target;

static ROOT_KEY: &[u8; 32] = include_bytes!("../../fixtures/keys/root-a.pub.raw");

fuzz_target!(|data: &[u8]| {
    let roots = [RootKey::from_bytes(ROOT_KEY).expect("root-a is a key")];
    let env = Environment {
        app_name: "FineReport",
        version: "11.0",
        project: "webroot",
        nodes: 1,
        method: LicenseKind::LocalContainer,
        now: Timestamp(1_780_272_000), // 2026-06-01T00:00:00Z
        last_seen: None,
    };
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    match verify(data, &mut buf, &roots, &env) {
        Ok(v) => {
            let l = &v.license;
            assert_eq!(l.app_name, env.app_name);
            assert_eq!(l.project, env.project);
            assert_eq!(l.kind, env.method);
            assert!(l.max_nodes >= env.nodes);
            assert!(l.version.matches_local(env.version));
            assert!(!l.expiry.is_expired_at(env.now));
            assert_eq!(v.certificate.root_key_id, roots[0].id());
            // Only a file that decodes can verify.
            let mut b = [0u8; MAX_LICENSE_FILE_LEN];
            assert!(armor::unarmor(data, &mut b).is_ok());
        }
        Err(rejection) => {
            let _ = format!("{rejection}");
            for c in rejection.causes() {
                let _ = format!("{}: {c}", c.code());
            }
            if rejection.license().is_none() {
                let causes: Vec<_> = rejection.causes().collect();
                assert!(matches!(causes.as_slice(), [Cause::ContentIncorrect(_)]), "{causes:?}");
            } else {
                assert!(rejection.causes().all(|c| !matches!(c, Cause::ContentIncorrect(_))));
            }
        }
    }
});

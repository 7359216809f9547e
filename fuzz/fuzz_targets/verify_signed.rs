//! Structure-aware and differential: builds an arbitrary certificate and
//! license payload (valid or not), signs both with the TEST-ONLY keys
//! `root-a` and `issuing-a` — so the input gets past the signatures — checks
//! it against an arbitrary environment, and compares the verifier's answer
//! with an independent statement of SPEC.md §4: the same content error, or
//! the same causes in the same order.
#![no_main]

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use ed25519_dalek::{Signer as _, SigningKey};
use fanlic_formats::{
    CERTIFICATE_SIGNATURE_LABEL, Expiry, IssuingKeyCertificate, KeyId, LICENSE_SIGNATURE_LABEL, License, LicenseKind,
    MAX_LICENSE_FILE_LEN, Timestamp, armor, encode_license_file, wire,
};
use fanlic_verifier::{CLOCK_TOLERANCE_SECS, Cause, ContentError, Environment, RootKey, verify};
use libfuzzer_sys::fuzz_target;

fn seed(hex: &str) -> [u8; 32] {
    let hex = hex.trim();
    let mut out = [0u8; 32];
    for (o, i) in out.iter_mut().zip((0..64).step_by(2)) {
        *o = u8::from_str_radix(&hex[i..i + 2], 16).expect("hex seed");
    }
    out
}

struct Keys {
    root: SigningKey,
    issuing: SigningKey,
    roots: [RootKey; 1],
}

fn keys() -> &'static Keys {
    static K: OnceLock<Keys> = OnceLock::new();
    K.get_or_init(|| {
        let root = SigningKey::from_bytes(&seed(include_str!("../../fixtures/keys/root-a.TEST-ONLY.seed.hex")));
        let issuing = SigningKey::from_bytes(&seed(include_str!("../../fixtures/keys/issuing-a.TEST-ONLY.seed.hex")));
        let roots = [RootKey::from_bytes(&root.verifying_key().to_bytes()).expect("root key")];
        Keys { root, issuing, roots }
    })
}

/// 2026-01-01T00:00:00Z: times are drawn near it, so windows overlap often.
const BASE: u64 = 1_767_225_600;
const DAY: u64 = 86_400;

fn time_near(u: &mut Unstructured<'_>) -> arbitrary::Result<u64> {
    Ok(match u.int_in_range(0u8..=9)? {
        0 => u64::arbitrary(u)?,
        1..=4 => BASE.wrapping_add_signed(i64::from(i16::arbitrary(u)?) * DAY as i64),
        _ => BASE.wrapping_add_signed(i64::from(i32::arbitrary(u)?) % (3 * 365 * DAY as i64)),
    })
}

fn pick<'a>(u: &mut Unstructured<'a>, choices: &[&'static str]) -> arbitrary::Result<&'a str> {
    let i = u.int_in_range(0..=choices.len())?;
    Ok(match choices.get(i) {
        Some(c) => c,
        None => <&str>::arbitrary(u)?,
    })
}

fn date(u: &mut Unstructured<'_>) -> arbitrary::Result<wire::Date> {
    Ok(if u.ratio(1, 8)? {
        wire::Date { year: u16::arbitrary(u)?, month: u8::arbitrary(u)?, day: u8::arbitrary(u)? }
    } else {
        wire::Date { year: u.int_in_range(2024..=2032)?, month: u.int_in_range(1..=12)?, day: u.int_in_range(1..=28)? }
    })
}

fn kind(u: &mut Unstructured<'_>) -> arbitrary::Result<(wire::Kind, LicenseKind)> {
    Ok(if bool::arbitrary(u)? {
        (wire::Kind::LocalContainer, LicenseKind::LocalContainer)
    } else {
        (wire::Kind::PrivateCloud, LicenseKind::PrivateCloud)
    })
}

struct Case<'a> {
    cert_message: Vec<u8>,
    license_message: Vec<u8>,
    wrong_license_key: bool,
    armored: bool,
    env: Environment<'a>,
}

fn case<'a>(u: &mut Unstructured<'a>) -> arbitrary::Result<Case<'a>> {
    let k = keys();
    let root_public = k.root.verifying_key().to_bytes();
    let issuing_public = k.issuing.verifying_key().to_bytes();
    let key_id = if u.ratio(1, 16)? { <[u8; 8]>::arbitrary(u)? } else { KeyId::of(&issuing_public).0 };
    let root_key_id = if u.ratio(1, 16)? { <[u8; 8]>::arbitrary(u)? } else { KeyId::of(&root_public).0 };
    let cert = wire::CertificateBody {
        root_key_id,
        key_id,
        public_key: issuing_public,
        not_before: time_near(u)?,
        not_after: time_near(u)?,
        purposes: if u.ratio(1, 4)? { u32::arbitrary(u)? } else { u.int_in_range(0..=7)? },
    };
    let (wk, _) = kind(u)?;
    let payload = wire::LicensePayload {
        license_id: if u.ratio(1, 16)? { [0; 16] } else { <[u8; 16]>::arbitrary(u)? },
        kind: wk,
        app_name: pick(u, &["FineReport", "FineBI"])?,
        company: pick(u, &["Example Test Co."])?,
        project: pick(u, &["webroot", "bi"])?,
        contract_signed: date(u)?,
        issued_at: time_near(u)?,
        not_before: time_near(u)?,
        expiry: if u.ratio(1, 4)? { wire::Expiry::Never } else { wire::Expiry::On(date(u)?) },
        version: wire::Version { major: u.int_in_range(9..=12)?, minor: u.int_in_range(0..=2)? },
        max_nodes: if u.ratio(1, 8)? { u32::arbitrary(u)? } else { u.int_in_range(0..=4)? },
        activation_key: Option::arbitrary(u)?,
        activation_base_url: if bool::arbitrary(u)? {
            Some(pick(u, &["https://activate.example.test/"])?)
        } else {
            None
        },
        image_public_key: Option::arbitrary(u)?,
        supersedes: Option::arbitrary(u)?,
        request_email_sha256: Option::arbitrary(u)?,
    };
    let mut cert_message = CERTIFICATE_SIGNATURE_LABEL.to_vec();
    cert_message.extend(postcard::to_allocvec(&cert).expect("serializes"));
    let mut license_message = LICENSE_SIGNATURE_LABEL.to_vec();
    license_message.extend(postcard::to_allocvec(&payload).expect("serializes"));
    let (_, method) = kind(u)?;
    let env = Environment {
        app_name: pick(u, &["FineReport", "FineBI"])?,
        version: pick(u, &["11.0", "11.0.20", "11.1", "10.0", "11"])?,
        project: pick(u, &["webroot", "bi"])?,
        nodes: u.int_in_range(0..=6)?,
        method,
        now: Timestamp(time_near(u)?),
        last_seen: if bool::arbitrary(u)? { Some(Timestamp(time_near(u)?)) } else { None },
    };
    Ok(Case { cert_message, license_message, wrong_license_key: u.ratio(1, 16)?, armored: bool::arbitrary(u)?, env })
}

/// SPEC.md §4, restated: the expected content error, else the expected causes.
fn expected<'a>(c: &'a Case<'a>) -> Result<Vec<&'static str>, &'static str> {
    let cert = IssuingKeyCertificate::decode(&c.cert_message).map_err(|_| "bad_encoding")?;
    if cert.root_key_id != keys().roots[0].id() {
        return Err("unknown_root_key");
    }
    if c.wrong_license_key {
        return Err("bad_signature");
    }
    let l = License::decode(&c.license_message).map_err(|_| "bad_encoding")?;
    if !(cert.not_before <= l.issued_at && l.issued_at <= cert.not_after) {
        return Err("issuing_key_outside_window");
    }
    if !cert.purposes.allows(l.kind) {
        return Err("kind_not_certified");
    }
    let e = &c.env;
    let mut causes = Vec::new();
    if let Expiry::On(d) = l.expiry {
        // Valid through the end of that UTC day.
        if e.now.0 >= (d.days_since_epoch() + 1) * DAY {
            causes.push("license_expired");
        }
    }
    let local = e.version.split('.').collect::<Vec<_>>();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let minor = local.get(1).map(|m| &m[..m.find(|ch: char| !ch.is_ascii_digit()).unwrap_or(m.len())]);
    let version_ok = local.len() >= 2
        && digits(local[0])
        && minor.is_some_and(digits)
        && local[0].parse::<u16>().ok() == Some(l.version.major)
        && minor.and_then(|m| m.parse::<u16>().ok()) == Some(l.version.minor);
    if !version_ok {
        causes.push("version_mismatch");
    }
    if l.app_name != e.app_name {
        causes.push("app_name_mismatch");
    }
    if e.nodes > l.max_nodes {
        causes.push("license_exhausted");
    }
    if l.project != e.project {
        causes.push("project_content_mismatch");
    }
    if l.kind != e.method {
        causes.push("license_type_mismatch");
    }
    if e.now.0.saturating_add(CLOCK_TOLERANCE_SECS) < l.not_before.0 {
        causes.push("not_yet_valid");
    }
    if e.last_seen.is_some_and(|s| e.now.0.saturating_add(CLOCK_TOLERANCE_SECS) < s.0) {
        causes.push("clock_rollback");
    }
    Ok(causes)
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(c) = case(&mut u) else { return };
    let k = keys();
    let cs = k.root.sign(&c.cert_message).to_bytes();
    let signer = if c.wrong_license_key { &k.root } else { &k.issuing };
    let ls = signer.sign(&c.license_message).to_bytes();
    let Ok(raw) = encode_license_file(&c.cert_message, &cs, &c.license_message, &ls) else { return };
    let file = if c.armored { armor::encode(&raw, &[]).expect("armors").into_bytes() } else { raw };
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let got = verify(&file, &mut buf, &k.roots, &c.env);
    let got: Result<Vec<&str>, &str> = match &got {
        Ok(_) => Ok(Vec::new()),
        Err(r) => match r.causes().collect::<Vec<_>>().as_slice() {
            [Cause::ContentIncorrect(e)] if r.license().is_none() => Err(match e {
                ContentError::Decode(_) => "bad_encoding",
                other => other.reason(),
            }),
            causes => Ok(causes.iter().map(|c| c.code()).collect()),
        },
    };
    // (`encode_license_file` refuses files over the size limit: none here.)
    let want = expected(&c);
    if got != want {
        panic!("verifier says {got:?}, SPEC.md §4 says {want:?}");
    }
});

//! The deterministic generator of `fixtures/keys/` and `fixtures/vectors/`.
//!
//! Every byte written depends only on the constants here: seeds are fixed,
//! Ed25519 signing is deterministic, license ids are hashes of vector names,
//! and JSON is written in a fixed order.
//!
//! [`generate`] makes the keys, the issuers and the basic license, then adds
//! the cases in manifest order: valid ones, wrong claims, wrong or
//! non-canonical signed parts, a broken envelope; then the OpenSSL parts and
//! the manifest, the key files, and hands the keys on to the revocation-list
//! and receipt generators.

use std::collections::BTreeMap;

use fanlic_formats::{Date, Purposes, Timestamp, armor, wire};

use crate::{Error, Result};

mod claims;
mod content;
mod envelope;
mod generator;
mod key_files;
mod manifest;
mod valid;

use generator::{Base, Form, Gen, Issuer, KeySet, Times};

pub use crate::{Files, REGENERATE, overlong_varint, varint};

fn ts(y: u16, m: u8, d: u8, h: u64, mi: u64, s: u64) -> Result<Timestamp> {
    let day = Date::new(y, m, d).ok_or_else(|| Error(format!("bad date {y}-{m}-{d}")))?;
    Ok(Timestamp(day.start().0 + h * 3600 + mi * 60 + s))
}

fn date(year: u16, month: u8, day: u8) -> wire::Date {
    wire::Date { year, month, day }
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, data).as_ref());
    out
}

/// Generates every file of `fixtures/keys/` and `fixtures/vectors/`.
pub fn generate() -> Result<Files> {
    let k = KeySet::new()?;
    let t = Times { issued: ts(2026, 1, 1, 0, 0, 0)?, now: ts(2026, 6, 1, 0, 0, 0)? };
    let mut g = Gen { files: Files::new(), vectors: Vec::new(), parts: BTreeMap::new(), t };

    // --- issuing keys and their certificates ---
    let window_a = (ts(2025, 1, 1, 0, 0, 0)?, ts(2028, 12, 31, 23, 59, 59)?);
    let local_and_cloud = Purposes::LOCAL_CONTAINER | Purposes::PRIVATE_CLOUD;
    let ia = Issuer::new(&k.root_a, &k.issuing_a, window_a.0, window_a.1, local_and_cloud)?;
    // Reserved purpose bit 31 set: verifiers must ignore it.
    let ia2_purposes = Purposes::ALL | (1 << 31);
    let window_a2 = (ts(2026, 1, 1, 0, 0, 0)?, ts(2029, 12, 31, 23, 59, 59)?);
    let ia2 = Issuer::new(&k.root_a, &k.issuing_a2, window_a2.0, window_a2.1, ia2_purposes)?;
    let window_old = (ts(2024, 1, 1, 0, 0, 0)?, ts(2024, 12, 31, 23, 59, 59)?);
    let iold = Issuer::new(&k.root_a, &k.issuing_expired_window, window_old.0, window_old.1, local_and_cloud)?;
    let ipc = Issuer::new(&k.root_a, &k.issuing_pc_only, window_a.0, window_a.1, Purposes::PRIVATE_CLOUD)?;
    let ib = Issuer::new(&k.root_b, &k.issuing_b, window_a.0, window_a.1, local_and_cloud)?;

    let basic = g.payload("valid-local-container");
    let basic_file = "valid-local-container.lic";
    let basic_raw = g.signed(basic_file, &ia, &basic, Form::Armored(&[]))?;
    let basic_armored = armor::encode(&basic_raw, &[])?;
    let b = Base {
        k: &k,
        ia,
        ia2,
        iold,
        ipc,
        ib,
        window_a,
        window_a2,
        window_old,
        local_and_cloud,
        ia2_purposes,
        basic,
        basic_file,
        basic_raw,
        basic_armored,
        not_before: ts(2027, 1, 1, 0, 0, 0)?,
    };

    valid::cases(&mut g, &b)?;
    claims::cases(&mut g, &b)?;
    let [local_policy_raw, cloud_policy_raw] = content::cases(&mut g, &b)?;
    envelope::cases(&mut g, &b)?;
    manifest::write(&mut g)?;
    key_files::write(&mut g, &b)?;

    // ================= revocation lists (SPEC.md §5) =================
    let inputs = crate::revocations::Inputs {
        revoker: signer(&b.ia2),
        licenses_only: signer(&b.ia),
        other_root: signer(&b.ib),
        revoked_license: fanlic_formats::LicenseId(b.basic.license_id),
        revoked_key: k.issuing_b.key_id(),
        issued_at: ts(2026, 3, 1, 0, 0, 0)?,
        before_window: ts(2025, 6, 1, 0, 0, 0)?,
    };
    crate::revocations::generate(&mut g.files, &inputs)?;

    // ================= activation receipts (SPEC.md §6.4) =================
    let receipt_window = crate::receipts::receipt_key_window()?;
    let receipt_cert = crate::receipts::certify(&k.root_a, &k.receipt_a, receipt_window, Purposes::RECEIPT)?;
    let inputs = crate::receipts::Inputs {
        root_a: &k.root_a,
        root_b: &k.root_b,
        receipt_key: &k.receipt_a,
        receipt_cert,
        license_key: &k.issuing_a,
        license_cert: crate::receipts::Cert { msg: b.ia.cert_msg.clone(), sig: b.ia.cert_sig },
        revoker: &k.issuing_a2,
        revoker_cert: crate::receipts::Cert { msg: b.ia2.cert_msg.clone(), sig: b.ia2.cert_sig },
        local_raw: local_policy_raw,
        cloud_raw: cloud_policy_raw,
    };
    crate::receipts::generate(&mut g.files, inputs)?;

    Ok(g.files)
}

fn signer<'k>(i: &Issuer<'k>) -> crate::revocations::Signer<'k> {
    crate::revocations::Signer { key: i.key, cert_msg: i.cert_msg.clone(), cert_sig: i.cert_sig }
}

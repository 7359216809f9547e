//! The `content_incorrect` vectors of signed parts: flipped signatures,
//! changed messages, certificates outside their window or purposes, and
//! validly signed but non-canonical payloads and certificates; and the
//! receipt-policy licenses (SPEC.md §3.3) of the main manifest.

use fanlic_formats::{
    CERTIFICATE_SIGNATURE_LABEL, KeyId, LICENSE_SIGNATURE_LABEL, armor, encode_certificate_body, encode_license_file,
    encode_license_payload, wire,
};

use crate::{Error, Result};

use super::{
    generator::{A, Base, Form, Gen, content, valid},
    overlong_varint,
};

/// Adds the vectors of wrong or non-canonical signed parts and the
/// receipt-policy licenses; returns those two licenses, raw (local-container,
/// private-cloud).
pub(super) fn cases(g: &mut Gen, b: &Base<'_>) -> Result<[Vec<u8>; 2]> {
    let Base { k, ia, iold, ipc, basic: _, .. } = b;
    let (basic_file, window_a, local_and_cloud) = (b.basic_file, b.window_a, b.local_and_cloud);

    // ================= content_incorrect =================
    let basic_parts = g.parts.get(basic_file).ok_or_else(|| Error("basic parts".into()))?;
    let (cert_msg, cert_sig) = (basic_parts.cert_msg.clone(), basic_parts.cert_sig);
    let (lic_msg, lic_sig) = (basic_parts.license_msg.clone(), basic_parts.license_sig);
    let file_of = |c: &[u8], cs: &[u8; 64], l: &[u8], ls: &[u8; 64]| -> Result<String> {
        Ok(armor::encode(&encode_license_file(c, cs, l, ls)?, &[])?)
    };

    let mut bad = lic_sig;
    bad[0] ^= 0x01;
    g.file("bad-license-signature.lic", file_of(&cert_msg, &cert_sig, &lic_msg, &bad)?.into_bytes())?;
    g.vector(
        "bad-license-signature",
        "bad-license-signature.lic",
        "The basic license with one bit of the license signature flipped.",
        A,
        g.env(),
        content("bad_signature", None),
    );

    let mut bad = cert_sig;
    bad[10] ^= 0x01;
    g.file("bad-certificate-signature.lic", file_of(&cert_msg, &bad, &lic_msg, &lic_sig)?.into_bytes())?;
    g.vector(
        "bad-certificate-signature",
        "bad-certificate-signature.lic",
        "The basic license with one bit of the certificate signature flipped.",
        A,
        g.env(),
        content("bad_signature", None),
    );

    let mut changed = lic_msg.clone();
    let at = changed.windows(7).position(|w| w == b"Example").ok_or_else(|| Error("no company".into()))?;
    if let Some(b) = changed.get_mut(at) {
        *b = b'F'; // "Fxample Test Co.": still a valid payload, no longer the signed one
    }
    g.file("payload-byte-changed.lic", file_of(&cert_msg, &cert_sig, &changed, &lic_sig)?.into_bytes())?;
    g.vector(
        "payload-byte-changed",
        "payload-byte-changed.lic",
        "One byte of the signed license payload changed (company `Fxample Test Co.`), old signature kept.",
        A,
        g.env(),
        content("bad_signature", None),
    );

    g.vector(
        "unknown-root",
        "root-b.lic",
        "A certificate signed by root-b, which the product does not trust.",
        A,
        g.env(),
        content("unknown_root_key", None),
    );

    let p = g.payload("issuing-key-outside-window");
    g.signed("issuing-key-outside-window.lic", iold, &p, Form::Armored(&[]))?;
    g.vector(
        "issuing-key-outside-window",
        "issuing-key-outside-window.lic",
        "Validly signed by issuing-expired-window, whose certificate allows signing only during 2024; the license \
         says it was issued 2026-01-01.",
        A,
        g.env(),
        content("issuing_key_outside_window", None),
    );

    let p = g.payload("kind-not-certified");
    g.signed("kind-not-certified.lic", ipc, &p, Form::Armored(&[]))?;
    g.vector(
        "kind-not-certified",
        "kind-not-certified.lic",
        "A local-container license validly signed by issuing-pc-only, certified for private-cloud licenses only.",
        A,
        g.env(),
        content("kind_not_certified", None),
    );

    // Non-canonical, yet validly signed: the signatures hold, the decoder must refuse.
    let p = g.payload("signed-overlong-varint-in-payload");
    let head = postcard::to_allocvec(&(
        p.license_id,
        p.kind,
        p.app_name,
        p.company,
        p.project,
        p.contract_signed,
        p.issued_at,
        p.not_before,
        p.expiry,
        p.version,
    ))?;
    let tail = postcard::to_allocvec(&(
        p.activation_key,
        p.activation_base_url,
        p.image_public_key,
        p.supersedes,
        p.request_email_sha256,
    ))?;
    let msg = [LICENSE_SIGNATURE_LABEL, &head, &overlong_varint(u64::from(p.max_nodes)), &tail].concat();
    g.signed_message("signed-overlong-varint-in-payload.lic", ia, msg, Form::Armored(&[]))?;
    g.vector(
        "signed-overlong-varint-in-payload",
        "signed-overlong-varint-in-payload.lic",
        "max_nodes written as the overlong varint 0x81 0x00 inside the license payload, and the whole message \
         validly signed: the signatures hold but the payload is not canonical.",
        A,
        g.env(),
        content("bad_encoding", Some("NonCanonical")),
    );

    let p = g.payload("signed-trailing-byte-in-payload");
    let msg = [encode_license_payload(&p)?, vec![1, 0]].concat();
    g.signed_message("signed-trailing-byte-in-payload.lic", ia, msg, Form::Armored(&[]))?;
    g.vector(
        "signed-trailing-byte-in-payload",
        "signed-trailing-byte-in-payload.lic",
        "After the license payload, its trailing optional activation_policy `receipt` (0x01), then one \
         0x00 byte more, inside the validly signed message.",
        A,
        g.env(),
        content("bad_encoding", Some("TrailingBytes { count: 1 }")),
    );

    let p = g.payload("signed-explicit-code-policy");
    let msg = [encode_license_payload(&p)?, vec![0]].concat();
    g.signed_message("signed-explicit-code-policy.lic", ia, msg, Form::Armored(&[]))?;
    g.vector(
        "signed-explicit-code-policy",
        "signed-explicit-code-policy.lic",
        "The trailing optional activation_policy written as `code` (0x00): absence is the one encoding \
         of `code`, so the validly signed payload is not canonical.",
        A,
        g.env(),
        content("bad_encoding", Some("activation_policy")),
    );

    // Receipt-policy licenses (SPEC.md §3.3), whose receipts are the vectors
    // of fixtures/vectors/receipts/.
    let mut policy_raw = Vec::new();
    for l in crate::receipts::policy_licenses(g.t.issued)? {
        let file = format!("{}.lic", l.name);
        policy_raw.push(g.signed_message(&file, ia, l.message, Form::Armored(&[]))?);
        g.vector(l.name, &file, l.description, A, l.env, valid());
    }
    let [local_policy_raw, cloud_policy_raw] =
        <[Vec<u8>; 2]>::try_from(policy_raw).map_err(|_| Error("two receipt-policy licenses".into()))?;

    let p = g.payload("signed-max-nodes-zero");
    let mut w = p;
    w.max_nodes = 0;
    let msg = [LICENSE_SIGNATURE_LABEL, &postcard::to_allocvec(&w)?].concat();
    g.signed_message("signed-max-nodes-zero.lic", ia, msg, Form::Armored(&[]))?;
    g.vector(
        "signed-max-nodes-zero",
        "signed-max-nodes-zero.lic",
        "A canonical, validly signed payload that breaks a field rule: max_nodes 0.",
        A,
        g.env(),
        content("bad_encoding", Some("max_nodes")),
    );

    let p = g.payload("signed-license-missing-label");
    let msg = postcard::to_allocvec(&p)?;
    g.signed_message("signed-license-missing-label.lic", ia, msg, Form::Armored(&[]))?;
    g.vector(
        "signed-license-missing-label",
        "signed-license-missing-label.lic",
        "A validly signed license message without its purpose label `fanlic/1/license\\n`.",
        A,
        g.env(),
        content("bad_encoding", Some("purpose label")),
    );

    // A certificate with an overlong varint (not_before), validly signed by root-a.
    let cert_head = postcard::to_allocvec(&(k.root_a.key_id().0, k.issuing_a.key_id().0, k.issuing_a.public()))?;
    let cert_tail = postcard::to_allocvec(&(window_a.1.0, local_and_cloud))?;
    let overlong_cert = [CERTIFICATE_SIGNATURE_LABEL, &cert_head, &overlong_varint(window_a.0.0), &cert_tail].concat();
    let overlong_cert_sig = k.root_a.sign(&overlong_cert);
    g.file(
        "signed-overlong-varint-in-certificate.lic",
        file_of(&overlong_cert, &overlong_cert_sig, &lic_msg, &lic_sig)?.into_bytes(),
    )?;
    g.vector(
        "signed-overlong-varint-in-certificate",
        "signed-overlong-varint-in-certificate.lic",
        "issuing-a's certificate with not_before as an overlong varint, validly signed by root-a; the basic license.",
        A,
        g.env(),
        content("bad_encoding", Some("NonCanonical")),
    );

    // key_id of issuing-a2 on issuing-a's public key, validly signed by root-a.
    let mismatched = wire::CertificateBody {
        root_key_id: k.root_a.key_id().0,
        key_id: k.issuing_a2.key_id().0,
        public_key: k.issuing_a.public(),
        not_before: window_a.0.0,
        not_after: window_a.1.0,
        purposes: local_and_cloud,
    };
    let mismatched_msg = [CERTIFICATE_SIGNATURE_LABEL, &postcard::to_allocvec(&mismatched)?].concat();
    let mismatched_sig = k.root_a.sign(&mismatched_msg);
    g.file(
        "certificate-key-id-mismatch.lic",
        file_of(&mismatched_msg, &mismatched_sig, &lic_msg, &lic_sig)?.into_bytes(),
    )?;
    g.vector(
        "certificate-key-id-mismatch",
        "certificate-key-id-mismatch.lic",
        "A certificate, validly signed by root-a, whose key_id (issuing-a2's) is not the id of its public key \
         (issuing-a's); the basic license.",
        A,
        g.env(),
        content("bad_encoding", Some("key_id")),
    );

    // The identity point as issuing key: small order. With R = identity and
    // s = 0, a signature "verifies" for every message under cofactorless
    // non-strict verification; verify_strict must refuse the weak key.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let weak_cert = wire::CertificateBody {
        root_key_id: k.root_a.key_id().0,
        key_id: KeyId::of(&identity).0,
        public_key: identity,
        not_before: window_a.0.0,
        not_after: window_a.1.0,
        purposes: local_and_cloud,
    };
    let weak_msg = encode_certificate_body(&weak_cert)?;
    let weak_sig = k.root_a.sign(&weak_msg);
    let weak_license = encode_license_payload(&g.payload("small-order-issuing-key"))?;
    let mut forged = [0u8; 64];
    forged[0] = 1;
    g.file("small-order-issuing-key.lic", file_of(&weak_msg, &weak_sig, &weak_license, &forged)?.into_bytes())?;
    g.vector(
        "small-order-issuing-key",
        "small-order-issuing-key.lic",
        "root-a validly certifies the identity point (a small-order key) as an issuing key; the license signature is \
         R = identity, s = 0, which non-strict verification accepts for any message. verify_strict must refuse it.",
        A,
        g.env(),
        content("bad_signature", None),
    );
    Ok([local_policy_raw, cloud_policy_raw])
}

//! Every receipt vector of `fixtures/vectors/receipts/`, with its expected
//! outcome written by hand, in the order the generator writes them.

use fanlic_formats::{
    LicenseId, Purposes, SignedBody, Timestamp, encode_receipt_body, encode_receipt_file,
    receipt::{RECEIPT_FILE_MAGIC, RECEIPT_LABEL, receipt_id},
    wire,
};

use crate::{Error, Files, Result, TestKey, parse_rfc3339};

use super::{
    answers::answers,
    challenge_keys::challenge_keys,
    generator::{Acceptor, Gen, Inputs, flip, with},
    policy::{Cert, LOCAL_LICENSE, certify, policy_license_id, receipt_key_window},
    sha256,
};

/// Adds the receipt vectors, the answers that carry receipts and the
/// challenge keys to `files`.
pub(crate) fn generate(files: &mut Files, inputs: Inputs<'_>) -> Result<()> {
    let mut g = Gen {
        files,
        i: inputs,
        instance: TestKey::new("instance-a")?,
        clone: TestKey::new("instance-clone")?,
        // The challenge is made a minute before the vendor signs, and the
        // receipt accepted two minutes after: within the challenge's 5 minutes.
        vendor_time: parse_rfc3339("2026-05-31T23:58:00Z")?,
        now: parse_rfc3339("2026-06-01T00:00:00Z")?,
        lease: parse_rfc3339("2026-08-30T00:00:00Z")?,
    };
    let now = g.now;
    let window = receipt_key_window()?;
    let product = Acceptor::Product;
    let instance = g.instance.public();

    // ================= accepted =================
    let t_local = g.local_token(0x01)?;
    let local = g.local_receipt(&t_local)?;
    let local_file = g.signed(&local, None)?;
    g.vector(
        "valid-local-container",
        &local_file,
        Some(&["# fanlic activation receipt (unsigned comment lines: readers ignore them)", "# TEST-ONLY"]),
        "A product's receipt: the receipt-policy local-container license, the challenge the product holds (its \
         token's SHA-256), no instance key, vendor time 2026-05-31T23:58:00Z inside receipt-a's window \
         (2026-05-15T00:00:00Z, 30 days, purposes 0x8, certified by root-a), no lease, no revocation list. \
         Accepted raw and armored (NAME.fanlic, with comment lines).",
        product,
        Some(&t_local),
        now,
        &[],
    )?;

    // The server's first activation: it holds no receipt, its challenge names none.
    let t_first = g.cloud_token(0x02, None)?;
    let first = g.cloud_receipt(&t_first, instance, None, Some(g.lease))?;
    let first_file = g.signed(&first, None)?;
    let first_id = receipt_id(&encode_receipt_body(&first)?);
    g.vector(
        "valid-private-cloud-first",
        &first_file,
        None,
        "An authorization server's first receipt: the receipt-policy private-cloud license, the server's challenge \
         (which names no previous receipt), instance-a's key, no previous receipt (the server holds none), lease \
         until 2026-08-30T00:00:00Z. Accepted by the server that holds no receipt.",
        Acceptor::Server(None),
        Some(&t_first),
        now,
        &[],
    )?;

    // Its re-activation: the challenge names the first receipt.
    let t_next = g.cloud_token(0x03, Some(first_id))?;
    let next = g.cloud_receipt(&t_next, instance, Some(first_id), Some(g.lease))?;
    let next_file = g.signed(&next, None)?;
    g.vector(
        "valid-private-cloud",
        &next_file,
        Some(&["# TEST-ONLY receipt"]),
        "The server's re-activation: its challenge and the receipt name as previous_receipt the id of \
         valid-private-cloud-first's receipt, which the server holds; instance-a; lease until \
         2026-08-30T00:00:00Z. Accepted raw and armored.",
        Acceptor::Server(Some(first_id)),
        Some(&t_next),
        now,
        &[],
    )?;
    g.vector_file(
        "valid-private-cloud-application",
        "valid-private-cloud",
        &next_file,
        None,
        "valid-private-cloud's receipt checked as an application checks its server's (SPEC.md §7.2 rule 6): no \
         challenge, the answer's instance key instance-a, the previous receipt not checked. Accepted.",
        Acceptor::Application,
        None,
        now,
        &[],
    )?;

    // ================= bindings (rules 3 to 6) =================
    let other_token = g.local_token(0x04)?;
    let f = g.signed(&g.local_receipt(&other_token)?, None)?;
    g.vector(
        "wrong-challenge",
        &f,
        None,
        "A valid receipt for another challenge of the same license (another nonce) than the one the product holds.",
        product,
        Some(&t_local),
        now,
        &["receipt_challenge_mismatch"],
    )?;

    let r = g.cloud_receipt(&t_next, g.clone.public(), Some(first_id), Some(g.lease))?;
    let f = g.signed(&r, None)?;
    g.vector(
        "wrong-instance",
        &f,
        None,
        "The server's re-activation receipt, but binding instance-clone's key: the server (instance-a) refuses it.",
        Acceptor::Server(Some(first_id)),
        Some(&t_next),
        now,
        &["receipt_instance_mismatch"],
    )?;

    let elsewhere = sha256(b"fanlic/TEST-ONLY/another-receipt");
    let t_fork = g.cloud_token(0x05, Some(elsewhere))?;
    let r = g.cloud_receipt(&t_fork, instance, Some(elsewhere), Some(g.lease))?;
    let f = g.signed(&r, None)?;
    g.vector(
        "previous-mismatch",
        &f,
        None,
        "A receipt for the server's challenge, but naming as previous_receipt another receipt than the one the \
         server holds (valid-private-cloud-first's): a copy of the server that re-activated elsewhere.",
        Acceptor::Server(Some(first_id)),
        Some(&t_fork),
        now,
        &["receipt_previous_mismatch"],
    )?;

    let f = g.signed(&g.cloud_receipt(&t_next, instance, Some(first_id), Some(g.lease))?, None)?;
    g.vector(
        "previous-when-none-held",
        &f,
        None,
        "valid-private-cloud's receipt (which follows valid-private-cloud-first's) offered to a server that holds \
         no receipt: a server started from a configuration older than its first activation.",
        Acceptor::Server(None),
        Some(&t_next),
        now,
        &["receipt_previous_mismatch"],
    )?;

    let ended = parse_rfc3339("2026-05-31T23:59:00Z")?;
    let r = g.cloud_receipt(&t_first, instance, None, Some(ended))?;
    let f = g.signed(&r, None)?;
    g.vector(
        "lease-expired",
        &f,
        None,
        "The server's first receipt with a lease until 2026-05-31T23:59:00Z (after vendor_time), checked at \
         2026-06-01T00:00:00Z: the lease has ended on the acceptor's clock.",
        Acceptor::Server(None),
        Some(&t_first),
        now,
        &["lease_expired"],
    )?;

    let f = g.signed(&g.cloud_receipt(&t_first, instance, None, Some(now))?, None)?;
    g.vector(
        "lease-ends-now",
        &f,
        None,
        "The server's first receipt with a lease until 2026-06-01T00:00:00Z, the acceptor's clock: the lease has \
         ended at its first instant (now >= lease_until).",
        Acceptor::Server(None),
        Some(&t_first),
        now,
        &["lease_expired"],
    )?;

    let r = with(&local, |w| w.license_sha256 = sha256(b"fanlic/TEST-ONLY/other-license-bytes"))?;
    let f = g.signed(&r, None)?;
    g.vector(
        "license-mismatch",
        &f,
        None,
        "The product's receipt with the license's id and max_nodes but the SHA-256 of other license bytes.",
        product,
        Some(&t_local),
        now,
        &["receipt_license_mismatch"],
    )?;

    // ================= the receipt key (rule 1) =================
    let extra = g.receipt_cert(window, Purposes::RECEIPT | Purposes::LOCAL_CONTAINER)?;
    let f = g.file(&extra, g.i.receipt_key, &local, None)?.0;
    g.vector(
        "key-extra-purpose",
        &f,
        None,
        "The product's receipt signed by receipt-a under a certificate (by root-a) granting purposes 0x9: receipts \
         and local-container licenses. A receipt key must be certified for receipts alone.",
        product,
        Some(&t_local),
        now,
        &["receipt_key_not_certified"],
    )?;

    let long = g.receipt_cert((window.0, Timestamp(window.0.0 + 40 * 86_400)), Purposes::RECEIPT)?;
    let f = g.file(&long, g.i.receipt_key, &local, None)?.0;
    g.vector(
        "key-window-40-days",
        &f,
        None,
        "The product's receipt signed by receipt-a under a certificate granting 0x8 for 40 days from \
         2026-05-15T00:00:00Z (vendor_time inside it): longer than 31 days.",
        product,
        Some(&t_local),
        now,
        &["receipt_key_not_certified"],
    )?;

    // The issuing key that signs the licenses (issuing-a, purposes 0x3 for
    // four years) never signs a receipt.
    let f = g.file(&g.i.license_cert.clone(), g.i.license_key, &local, None)?.0;
    g.vector(
        "signed-by-license-issuing-key",
        &f,
        None,
        "The product's receipt signed by issuing-a under its certificate by root-a (purposes 0x3, 2025-01-01 to \
         2028-12-31): a key that signs licenses is not a receipt key.",
        product,
        Some(&t_local),
        now,
        &["receipt_key_not_certified"],
    )?;
    let reserved = g.receipt_cert(window, Purposes::RECEIPT | (1 << 31))?;
    let f = g.file(&reserved, g.i.receipt_key, &local, None)?.0;
    g.vector(
        "key-reserved-purpose-bit",
        &f,
        None,
        "The product's receipt under a certificate of receipt-a granting 0x80000008: the reserved bit 31 grants \
         nothing and takes nothing away. Accepted.",
        product,
        Some(&t_local),
        now,
        &[],
    )?;

    // Boundaries: a window of exactly 31 days is a receipt key's longest; a
    // window ending at vendor_time still contains it.
    let longest = g.receipt_cert((window.0, Timestamp(window.0.0 + 31 * 86_400)), Purposes::RECEIPT)?;
    let f = g.file(&longest, g.i.receipt_key, &local, None)?.0;
    g.vector(
        "key-window-31-days",
        &f,
        None,
        "The product's receipt signed by receipt-a under a certificate granting 0x8 for exactly 31 days (2678400 \
         seconds) from 2026-05-15T00:00:00Z: the longest window allowed. Accepted.",
        product,
        Some(&t_local),
        now,
        &[],
    )?;
    let over = g.receipt_cert((window.0, Timestamp(window.0.0 + 31 * 86_400 + 1)), Purposes::RECEIPT)?;
    let f = g.file(&over, g.i.receipt_key, &local, None)?.0;
    g.vector(
        "key-window-31-days-and-1-second",
        &f,
        None,
        "The same with a window one second longer than 31 days.",
        product,
        Some(&t_local),
        now,
        &["receipt_key_not_certified"],
    )?;
    let ending = g.receipt_cert((Timestamp(g.vendor_time.0 - 30 * 86_400), g.vendor_time), Purposes::RECEIPT)?;
    let f = g.file(&ending, g.i.receipt_key, &local, None)?.0;
    g.vector(
        "key-window-ends-at-vendor-time",
        &f,
        None,
        "The product's receipt under a certificate of receipt-a whose window (30 days) ends at the receipt's \
         vendor_time, 2026-05-31T23:58:00Z: not_after is the last instant the key may sign. Accepted.",
        product,
        Some(&t_local),
        now,
        &[],
    )?;

    let before = parse_rfc3339("2026-05-10T00:00:00Z")?;
    let early = with(&local, |w| w.vendor_time = before.0)?;
    let f = g.signed(&early, None)?;
    g.vector(
        "vendor-time-outside-window",
        &f,
        None,
        "The product's receipt with vendor_time 2026-05-10T00:00:00Z, before receipt-a's window opens \
         (2026-05-15T00:00:00Z).",
        product,
        Some(&t_local),
        now,
        &["receipt_key_outside_window"],
    )?;

    // ================= signatures and roots =================
    let cert = g.i.receipt_cert.clone();
    let (msg, sig) = {
        let msg = encode_receipt_body(&local)?;
        let sig = g.i.receipt_key.sign(&msg);
        (msg, sig)
    };
    let mut bad = sig;
    flip(&mut bad, 10)?;
    let f = encode_receipt_file(
        SignedBody { message: &cert.msg, signature: cert.sig },
        SignedBody { message: &msg, signature: bad },
        None,
    )?;
    g.vector(
        "bad-receipt-signature",
        &f,
        None,
        "The product's receipt with one bit of the receipt's signature flipped: one opaque cause, nothing of the \
         receipt evaluated.",
        product,
        Some(&t_local),
        now,
        &["receipt_bad_signature"],
    )?;

    let mut bad = cert.sig;
    flip(&mut bad, 10)?;
    let f = encode_receipt_file(
        SignedBody { message: &cert.msg, signature: bad },
        SignedBody { message: &msg, signature: sig },
        None,
    )?;
    g.vector(
        "bad-certificate-signature",
        &f,
        None,
        "The product's receipt with one bit of the receipt key certificate's signature (by root-a) flipped: one \
         opaque cause, nothing of the certificate or the receipt evaluated.",
        product,
        Some(&t_local),
        now,
        &["receipt_bad_signature"],
    )?;

    let extra_msg = encode_receipt_body(&local)?;
    let mut bad = g.i.receipt_key.sign(&extra_msg);
    flip(&mut bad, 10)?;
    let f = encode_receipt_file(
        SignedBody { message: &extra.msg, signature: extra.sig },
        SignedBody { message: &extra_msg, signature: bad },
        None,
    )?;
    g.vector(
        "bad-receipt-signature-key-not-certified",
        &f,
        None,
        "The product's receipt under the 0x9 certificate (which verifies by root-a) with one bit of the receipt's \
         signature flipped: the opaque signature cause, and the certificate's claims, which are known, in the \
         order of the causes; nothing of the receipt is evaluated.",
        product,
        Some(&t_local),
        now,
        &["receipt_bad_signature", "receipt_key_not_certified"],
    )?;

    let by_b = certify(g.i.root_b, g.i.receipt_key, window, Purposes::RECEIPT)?;
    let f = g.file(&by_b, g.i.receipt_key, &local, None)?.0;
    g.vector(
        "unknown-root",
        &f,
        None,
        "The product's receipt under a certificate of receipt-a by root-b, which the product does not trust.",
        product,
        Some(&t_local),
        now,
        &["receipt_unknown_root_key"],
    )?;

    // ================= the delivered revocation list =================
    let local_id = policy_license_id(LOCAL_LICENSE);
    let other_id = LicenseId(crate::id16("valid-local-container"));
    let revoking = g.list(3, &[local_id, other_id])?;
    let r3 = with(&local, |w| w.revocation_sequence = 3)?;
    let f = g.signed(&r3, Some(&revoking))?;
    g.vector(
        "revoked-by-delivered-list",
        &f,
        None,
        "The product's receipt naming revocation_sequence 3 and delivering list 3 (by issuing-a2, certified by \
         root-a for revocation lists), which revokes this license.",
        product,
        Some(&t_local),
        now,
        &["revoked"],
    )?;

    let r4 = with(&local, |w| w.revocation_sequence = 4)?;
    let f = g.signed(&r4, Some(&revoking))?;
    g.vector(
        "delivered-list-other-sequence",
        &f,
        None,
        "The product's receipt naming revocation_sequence 4 but delivering list 3 (which revokes this license): the \
         list is not the one named, so it is ignored, never the receipt. Accepted, no list delivered.",
        product,
        Some(&t_local),
        now,
        &[],
    )?;

    let sparing = g.list(3, &[other_id])?;
    let f = g.signed(&r3, Some(&sparing))?;
    g.vector(
        "valid-with-delivered-list",
        &f,
        None,
        "The product's receipt naming revocation_sequence 3 and delivering list 3, which revokes another license \
         (valid-local-container's): accepted, and the list delivered.",
        product,
        Some(&t_local),
        now,
        &[],
    )?;
    g.set_delivered("valid-with-delivered-list", 3)?;

    // ================= several causes at once =================
    let r = with(&local, |w| {
        w.max_nodes = 2;
        w.challenge_sha256 = other_token.sha256();
        w.instance_public_key = Some(instance);
        w.lease_until = Some(ended.0);
    })?;
    let f = g.file(&extra, g.i.receipt_key, &r, None)?.0;
    g.vector(
        "several-causes",
        &f,
        None,
        "The product's receipt under the 0x9 certificate, with max_nodes 2 (the license has 1), another challenge, \
         an instance key (a product's receipt names none) and a lease that ended 2026-05-31T23:59:00Z: every cause \
         at once, in order.",
        product,
        Some(&t_local),
        now,
        &[
            "receipt_key_not_certified",
            "receipt_license_mismatch",
            "receipt_challenge_mismatch",
            "receipt_instance_mismatch",
            "lease_expired",
        ],
    )?;

    // ================= malformed =================
    let cut = local_file.get(..local_file.len().saturating_sub(10)).unwrap_or_default().to_vec();
    g.vector(
        "malformed-truncated",
        &cut,
        None,
        "valid-local-container's raw receipt without its last 10 bytes.",
        product,
        Some(&t_local),
        now,
        &["receipt_malformed"],
    )?;
    let mut trailing = local_file.clone();
    trailing.push(0);
    g.vector(
        "malformed-trailing-byte",
        &trailing,
        None,
        "valid-local-container's raw receipt with one 0x00 byte after it.",
        product,
        Some(&t_local),
        now,
        &["receipt_malformed"],
    )?;
    let mut magic = local_file.clone();
    let version = RECEIPT_FILE_MAGIC.len() - 2;
    let b = magic.get_mut(version).ok_or_else(|| Error("short receipt".into()))?;
    *b = b'2';
    g.vector(
        "malformed-unknown-magic",
        &magic,
        None,
        "valid-local-container's raw receipt with the magic FANLIC-RECEIPT/2: a version this reader does not know.",
        product,
        Some(&t_local),
        now,
        &["receipt_malformed"],
    )?;

    // Signed parts that do not decode: found once their signature holds.
    let w = {
        let c = wire::CertificateBody {
            root_key_id: g.i.root_a.key_id().0,
            key_id: g.i.root_b.key_id().0,
            public_key: g.i.receipt_key.public(),
            not_before: window.0.0,
            not_after: window.1.0,
            purposes: Purposes::RECEIPT,
        };
        let msg = [fanlic_formats::CERTIFICATE_SIGNATURE_LABEL, &postcard::to_allocvec(&c)?].concat();
        Cert { sig: g.i.root_a.sign(&msg), msg }
    };
    let f = g.file(&w, g.i.receipt_key, &local, None)?.0;
    g.vector(
        "certificate-key-id-mismatch",
        &f,
        None,
        "The product's receipt under a certificate of receipt-a's key, signed by root-a, whose key_id is root-b's \
         key id, not that of its public key: the certificate does not decode.",
        product,
        Some(&t_local),
        now,
        &["receipt_malformed"],
    )?;

    let lw = local.to_wire();
    let head = [
        RECEIPT_LABEL,
        &lw.license_id,
        &lw.license_sha256,
        &lw.challenge_sha256,
        &[0, 0],
        &crate::varint(lw.vendor_time),
    ]
    .concat();
    let bodies: [(&str, Vec<u8>, &str); 2] = [
        (
            "signed-overlong-varint-in-receipt",
            [head.as_slice(), &[0], &crate::overlong_varint(1), &[0]].concat(),
            "The product's receipt with max_nodes written as the overlong varint 0x81 0x00, the message validly signed \
             by receipt-a: the signature holds but the body is not canonical.",
        ),
        (
            "signed-lease-not-after-vendor-time",
            [head.as_slice(), &[1], &crate::varint(lw.vendor_time), &[1, 0]].concat(),
            "The product's receipt with lease_until equal to vendor_time, validly signed by receipt-a: a lease must end \
             after the vendor's time, so the body does not decode.",
        ),
    ];
    let cert = g.i.receipt_cert.clone();
    for (name, msg, description) in bodies {
        let f = encode_receipt_file(
            SignedBody { message: &cert.msg, signature: cert.sig },
            SignedBody { message: &msg, signature: g.i.receipt_key.sign(&msg) },
            None,
        )?;
        g.vector(name, &f, None, description, product, Some(&t_local), now, &["receipt_malformed"])?;
    }

    // ================= answers that carry a receipt (§7.2 rule 6) =================
    answers(&mut g, &next_file, &first_id, &t_next, ended)?;

    // ================= challenge keys (§3.3) =================
    challenge_keys(g.files)?;
    Ok(())
}

//! The entry point of the private-cloud generator and the server-answer
//! vectors (SPEC.md §7.2): good answers of every kind and every way one is
//! refused; the `privateConfig`, TLS-binding and node-auth vectors follow.

use fanlic_formats::{
    KeyId, LicenseId, Timestamp, encode_server_answer, encode_server_answer_file,
    private_cloud::{AnswerKind, SERVER_ANSWER_MAGIC, wire as pc},
    wire,
};

use crate::{Files, Result, TestKey, hex, parse_rfc3339, rfc3339};

use super::{
    AcceptedJson, MASTER_VERSION, NODE_ID, PrivateCloudExpected, SeedKey,
    binding::binding_vectors,
    config::config_vectors,
    generator::{Cert, Gen, Keys, Times, refused},
    image_seed, kind_name, master_secret,
    node_auth::node_auth_vectors,
    nonce, server_license_id,
};

/// Adds the files of `fixtures/vectors/private-cloud/` to `files`.
pub fn generate(files: &mut Files) -> Result<()> {
    let license_id = server_license_id();
    let k = Keys {
        root: TestKey::new("root-a")?,
        issuing: TestKey::new("issuing-a")?,
        image: SeedKey::from_seed(&image_seed(&master_secret(), MASTER_VERSION, &license_id)?)?,
        image_other: TestKey::new("image-other")?,
        instance: TestKey::new("instance-a")?,
        clone: TestKey::new("instance-clone")?,
    };
    let t = Times { issued: parse_rfc3339("2026-01-01T00:00:00Z")?, now: parse_rfc3339("2026-06-01T00:00:00Z")? };
    let mut g = Gen { files, k, t, license_id, license: Vec::new() };
    g.license = g.license(wire::Kind::PrivateCloud, Some(g.k.image.public()))?;
    let license = g.license.clone();
    let cert = g.cert()?;
    let at = Timestamp(g.t.now.0 - 60);
    let instance_hex = hex(&g.k.instance.public());

    // ---- good answers, one per kind ----
    for kind in [AnswerKind::Registered, AnswerKind::Heartbeat, AnswerKind::Deregistered] {
        let n = nonce(1);
        let body = g.body(kind, n, at)?;
        let bytes = g.answer_file(&license, &cert, &body, &g.k.instance)?;
        let name = format!("answer-{}", kind_name(kind));
        let expected = PrivateCloudExpected {
            valid: true,
            causes: vec![],
            detail: None,
            accepted: Some(AcceptedJson {
                license_id: hex(&license_id.0),
                instance_public_key: instance_hex.clone(),
                kind: kind_name(kind).to_owned(),
                at: rfc3339(at),
                valid_until: rfc3339(Timestamp(at.0 + 86_400)),
                nodes: body.nodes,
                lease_until: None,
            }),
            config: None,
            bound_instance_key: None,
        };
        let input = g.answer_input(kind, n, None);
        g.answer_vector(
            &name,
            bytes,
            &format!(
                "A `{}` answer at 2026-05-31T23:59:00Z, valid 24 hours, from instance-a certified by the license's \
                 image key; the license is private-cloud, signed by issuing-a under root-a. Accepted.",
                kind_name(kind)
            ),
            input,
            expected,
        )?;
    }

    let hb = AnswerKind::Heartbeat;
    let n = nonce(1);
    let good = g.body(hb, n, at)?;
    let good_msg = encode_server_answer(&good)?;

    // ---- rule 6: a receipt under code policy is ignored ----
    let bytes = fanlic_formats::encode_server_answer_file_with_receipt(
        &license,
        &cert.msg,
        &cert.sig,
        &good_msg,
        &g.k.instance.sign(&good_msg),
        Some(b"FANLIC-RECEIPT/1\nnot a receipt"),
    )?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-receipt-ignored-under-code-policy",
        bytes,
        "The good heartbeat answer with a trailing receipt field that is no receipt at all: the server license is \
         under code policy, so the product ignores the field (SPEC.md §7.2 rule 6). Accepted.",
        input,
        PrivateCloudExpected {
            valid: true,
            causes: vec![],
            detail: None,
            accepted: Some(AcceptedJson {
                license_id: hex(&license_id.0),
                instance_public_key: instance_hex.clone(),
                kind: kind_name(hb).to_owned(),
                at: rfc3339(at),
                valid_until: rfc3339(Timestamp(at.0 + 86_400)),
                nodes: good.nodes,
                lease_until: None,
            }),
            config: None,
            bound_instance_key: None,
        },
    )?;

    // ---- rule 2: the instance certificate ----
    let mut bad_sig = cert.sig;
    bad_sig[5] ^= 0x01;
    let bytes = encode_server_answer_file(&license, &cert.msg, &bad_sig, &good_msg, &g.k.instance.sign(&good_msg))?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-bad-instance-certificate-signature",
        bytes,
        "The good heartbeat answer with one bit of the instance certificate's signature flipped: one opaque cause, \
         and nothing of the certificate or the answer is evaluated.",
        input,
        refused(&["bad_signature"], None),
    )?;

    let other_msg = g.cert_body(license_id, g.k.image_other.key_id(), g.k.instance.public())?;
    let other = Cert { sig: g.k.image_other.sign(&other_msg), msg: other_msg };
    let bytes = g.answer_file(&license, &other, &good, &g.k.instance)?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-certificate-from-other-image",
        bytes,
        "The good heartbeat answer, but instance-a's certificate is signed by image-other (another image's key), \
         not by the license's image key.",
        input,
        refused(&["bad_signature"], None),
    )?;

    let wrong_id_msg = g.cert_body(license_id, g.k.image_other.key_id(), g.k.instance.public())?;
    let wrong_id = Cert { sig: g.k.image.sign(&wrong_id_msg), msg: wrong_id_msg };
    let bytes = g.answer_file(&license, &wrong_id, &good, &g.k.instance)?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-wrong-image-key-id",
        bytes,
        "The good heartbeat answer; instance-a's certificate is signed by the license's image key but names \
         image-other's key id as `image_key_id`.",
        input,
        refused(&["image_key_id_mismatch"], Some(&format!("certificate: KeyId({})", g.k.image_other.key_id()))),
    )?;

    let other_license = LicenseId(crate::id16("private-cloud-other-server"));
    let foreign_msg = g.cert_body(other_license, KeyId::of(&g.k.image.public()), g.k.instance.public())?;
    let foreign = Cert { sig: g.k.image.sign(&foreign_msg), msg: foreign_msg };
    let bytes = g.answer_file(&license, &foreign, &good, &g.k.instance)?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-certificate-for-other-license",
        bytes,
        "The good heartbeat answer; instance-a's certificate, signed by the license's image key, is for another \
         license id.",
        input,
        refused(&["certificate_license_mismatch"], None),
    )?;

    // ---- rule 3: the answer's signature and the pin ----
    let bytes = g.answer_file(&license, &cert, &good, &g.k.clone)?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-signed-by-other-key",
        bytes,
        "The good heartbeat answer signed by instance-clone, while the certificate certifies instance-a: one opaque \
         cause, nothing of the answer is evaluated.",
        input,
        refused(&["bad_signature"], None),
    )?;

    let clone_msg = g.cert_body(license_id, KeyId::of(&g.k.image.public()), g.k.clone.public())?;
    let clone_cert = Cert { sig: g.k.image.sign(&clone_msg), msg: clone_msg };
    let bytes = g.answer_file(&license, &clone_cert, &good, &g.k.clone)?;
    let pinned = g.k.instance.public();
    let input = g.answer_input(hb, n, Some(pinned));
    g.answer_vector(
        "answer-cloned-server",
        bytes.clone(),
        "A heartbeat answer from a copy of the server: instance-clone, validly certified by the same image key, \
         but the product pinned instance-a.",
        input,
        refused(&["instance_key_changed"], Some(&format!("pinned: KeyId({})", g.k.instance.key_id()))),
    )?;
    let input = g.answer_input(hb, n, None);
    let clone_hex = hex(&g.k.clone.public());
    g.answer_vector(
        "answer-cloned-server-unpinned",
        bytes,
        "The same answer from the copy, to a product that has pinned nothing yet: accepted (only the pin, or the \
         vendor's activation binding, tells a copy apart).",
        input,
        PrivateCloudExpected {
            valid: true,
            causes: vec![],
            detail: None,
            accepted: Some(AcceptedJson {
                license_id: hex(&license_id.0),
                instance_public_key: clone_hex,
                kind: "heartbeat".into(),
                at: rfc3339(at),
                valid_until: rfc3339(Timestamp(at.0 + 86_400)),
                nodes: 2,
                lease_until: None,
            }),
            config: None,
            bound_instance_key: None,
        },
    )?;

    // ---- rule 4: the request ----
    let bytes = g.answer_file(&license, &cert, &good, &g.k.instance)?;
    let input = g.answer_input(hb, nonce(2), None);
    g.answer_vector(
        "answer-wrong-nonce",
        bytes.clone(),
        "The good heartbeat answer (to the request with nonce 1) given to the request with nonce 2: a replay.",
        input,
        refused(&["nonce_mismatch"], None),
    )?;

    let mut wrong_node = good;
    wrong_node.node_id = [0x22; 16];
    let bytes = g.answer_file(&license, &cert, &wrong_node, &g.k.instance)?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-wrong-node",
        bytes,
        "A heartbeat answer to the right nonce, for node 2222…22 instead of this node 1111…11.",
        input,
        refused(&["node_mismatch"], None),
    )?;

    let bytes = g.answer_file(&license, &cert, &good, &g.k.instance)?;
    let input = g.answer_input(AnswerKind::Registered, n, None);
    g.answer_vector(
        "answer-wrong-kind",
        bytes,
        "The good heartbeat answer given to a registration request.",
        input,
        refused(&["kind_mismatch"], None),
    )?;

    let mut other_id = good;
    other_id.license_id = other_license;
    let bytes = g.answer_file(&license, &cert, &other_id, &g.k.instance)?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-license-id-mismatch",
        bytes,
        "A heartbeat answer, validly signed by instance-a, that names another license id than the server license.",
        input,
        refused(&["answer_license_mismatch"], None),
    )?;

    // ---- rule 5: time ----
    let old_at = Timestamp(g.t.now.0 - 86_400 - 60);
    let expired = g.body(hb, n, old_at)?;
    let bytes = g.answer_file(&license, &cert, &expired, &g.k.instance)?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-expired",
        bytes,
        "A heartbeat answer made at 2026-05-30T23:59:00Z, valid until 2026-05-31T23:59:00Z, checked at \
         2026-06-01T00:00:00Z.",
        input,
        refused(&["answer_expired"], None),
    )?;

    let ahead = g.body(hb, n, Timestamp(g.t.now.0 + 301))?;
    let bytes = g.answer_file(&license, &cert, &ahead, &g.k.instance)?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-from-future",
        bytes,
        "A heartbeat answer whose `at` is 301 seconds after the product's time.",
        input,
        refused(&["answer_from_future"], None),
    )?;

    // ---- rule 1: the server license ----
    let local = g.license(wire::Kind::LocalContainer, Some(g.k.image.public()))?;
    let bytes = g.answer_file(&local, &cert, &good, &g.k.instance)?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-local-container-license",
        bytes,
        "The good heartbeat answer carrying a local-container license (with the image key): the license is checked \
         with the private-cloud method.",
        input,
        refused(&["license_type_mismatch"], None),
    )?;

    let no_image = g.license(wire::Kind::PrivateCloud, None)?;
    let bytes = g.answer_file(&no_image, &cert, &good, &g.k.instance)?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-license-without-image-key",
        bytes,
        "The good heartbeat answer carrying a private-cloud license without `image_public_key`.",
        input,
        refused(&["no_image_key"], None),
    )?;

    let bytes = g.answer_file(&license, &cert, &good, &g.k.instance)?;
    let mut input = g.answer_input(hb, n, None);
    input.roots = vec!["root-b".into()];
    g.answer_vector(
        "answer-unknown-root",
        bytes,
        "The good heartbeat answer checked by a product that trusts only root-b: the license is content_incorrect, \
         alone.",
        input,
        refused(&["content_incorrect"], Some("UnknownRootKey")),
    )?;

    let armored_license = fanlic_formats::armor::encode(&license, &[])?.into_bytes();
    let bytes = g.answer_file(&armored_license, &cert, &good, &g.k.instance)?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-armored-license",
        bytes,
        "The good heartbeat answer with the server license armored (§3.4) instead of raw: refused.",
        input,
        refused(&["content_incorrect"], Some("UnknownMagic")),
    )?;

    // Everything at once that can be known together.
    let mut many = expired;
    many.node_id = [0x22; 16];
    let bytes = g.answer_file(&license, &cert, &many, &g.k.instance)?;
    let mut input = g.answer_input(AnswerKind::Registered, nonce(2), Some(g.k.clone.public()));
    input.env.app_name = "FineReport".into();
    input.env.nodes = 4;
    g.answer_vector(
        "answer-several-causes",
        bytes,
        "An expired heartbeat answer for another node, given to a registration request with another nonce by a \
         FineReport product of 4 nodes that pinned instance-clone: every cause at once.",
        input,
        refused(
            &[
                "app_name_mismatch",
                "license_exhausted",
                "instance_key_changed",
                "kind_mismatch",
                "node_mismatch",
                "nonce_mismatch",
                "answer_expired",
            ],
            None,
        ),
    )?;

    // A signed answer body that breaks a rule of §7.2 (valid_until more than
    // 24 hours after `at`) is malformed_answer, not a cause of its own; it is
    // reported first, with the license's causes found before it (§7.5 order).
    let long = pc::ServerAnswerBody {
        license_id: g.license_id.0,
        kind: hb,
        node_id: NODE_ID,
        nonce: n,
        at: at.0,
        valid_until: at.0 + fanlic_formats::private_cloud::SILENCE_LIMIT_SECS + 1,
        nodes: 2,
    };
    let long_msg =
        [fanlic_formats::private_cloud::SERVER_ANSWER_LABEL, postcard::to_allocvec(&long)?.as_slice()].concat();
    let bytes = encode_server_answer_file(&license, &cert.msg, &cert.sig, &long_msg, &g.k.instance.sign(&long_msg))?;
    let mut input = g.answer_input(hb, n, None);
    input.env.version = "6.2.0".into();
    g.answer_vector(
        "answer-valid-until-too-late",
        bytes,
        "A heartbeat answer validly signed by instance-a whose valid_until is 86401 s after `at`, checked by a \
         FineBI 6.2.0 product (licensed 6.1): malformed_answer (a decode error of the signed answer, not a cause \
         of its own) comes first, then the license's version_mismatch.",
        input,
        refused(&["malformed_answer", "version_mismatch"], Some("valid_until")),
    )?;

    // ---- the file ----
    let good_file = g.answer_file(&license, &cert, &good, &g.k.instance)?;
    let truncated = good_file.get(..good_file.len().saturating_sub(10)).unwrap_or_default().to_vec();
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-truncated",
        truncated,
        "The good heartbeat answer file without its last 10 bytes.",
        input,
        refused(&["malformed_answer"], Some("Malformed")),
    )?;
    let magic2 =
        [b"FANLIC-SERVER-ANSWER/2\n".as_slice(), good_file.get(SERVER_ANSWER_MAGIC.len()..).unwrap_or_default()]
            .concat();
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-unknown-magic",
        magic2,
        "The good heartbeat answer file with the magic FANLIC-SERVER-ANSWER/2.",
        input,
        refused(&["malformed_answer"], Some("UnknownMagic")),
    )?;

    // ---- privateConfig ----
    config_vectors(&mut g, &cert, other_license)?;
    binding_vectors(&mut g, &cert, other_license)?;
    node_auth_vectors(&mut g)?;
    Ok(())
}

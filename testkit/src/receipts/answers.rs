//! The private-cloud heartbeat answers that carry a receipt (SPEC.md §7.2
//! rule 6): `fixtures/vectors/private-cloud/answer-receipt-*`.

use fanlic_formats::{
    KeyId, Timestamp, encode_instance_certificate, encode_server_answer, encode_server_answer_file_with_receipt,
    private_cloud::{AnswerKind, InstanceCertificate, ServerAnswer, wire as pc},
};

use crate::{
    Env, Result, hex, parse_rfc3339,
    private_cloud::{AcceptedJson, AnswerInput, PrivateCloudExpected, PrivateCloudVector},
    rfc3339,
};

use super::{
    generator::{Gen, Token, with},
    policy::{CLOUD_LICENSE, cloud_image, policy_license_id, public_of, sign_with},
    sha256,
};

/// `fixtures/vectors/private-cloud/answer-receipt-*`: heartbeat answers of
/// instance-a for the receipt-policy server license.
pub(super) fn answers(
    g: &mut Gen<'_, '_>,
    good_receipt: &[u8],
    first_id: &[u8; 32],
    token: &Token,
    ended: Timestamp,
) -> Result<()> {
    let license_id = policy_license_id(CLOUD_LICENSE);
    let image = cloud_image()?;
    let instance = g.instance.public();
    let cert_msg = encode_instance_certificate(&InstanceCertificate::from_wire(&pc::InstanceCertificateBody {
        license_id: license_id.0,
        image_key_id: KeyId::of(&public_of(&image)).0,
        instance_public_key: instance,
        created_at: parse_rfc3339("2026-01-01T00:00:00Z")?.0,
    })?)?;
    let cert_sig = sign_with(&image, &cert_msg);
    let nonce = {
        let d = sha256(b"fanlic/TEST-ONLY/nonce/receipt");
        let mut n = [0u8; 16];
        n.copy_from_slice(d.get(..16).unwrap_or(&[7; 16]));
        n
    };
    let at = Timestamp(g.now.0 - 60);
    let body = ServerAnswer::from_wire(&pc::ServerAnswerBody {
        license_id: license_id.0,
        kind: AnswerKind::Heartbeat,
        node_id: crate::private_cloud::NODE_ID,
        nonce,
        at: at.0,
        valid_until: at.0 + 86_400,
        nodes: 2,
    })?;
    let msg = encode_server_answer(&body)?;
    let sig = g.instance.sign(&msg);
    let raw = g.i.cloud_raw.clone();
    let answer = |receipt: Option<&[u8]>| {
        encode_server_answer_file_with_receipt(&raw, &cert_msg, &cert_sig, &msg, &sig, receipt)
    };
    let input = AnswerInput {
        roots: vec!["root-a".to_owned()],
        env: Env {
            app_name: "FineBI".into(),
            version: "6.1.3".into(),
            project: "bi-cluster".into(),
            nodes: 1,
            method: "private-cloud".into(),
            now: rfc3339(g.now),
            last_seen: None,
        },
        kind: "heartbeat".into(),
        node_id: hex(&crate::private_cloud::NODE_ID),
        nonce: hex(&nonce),
        pinned_instance_key: None,
    };
    let refused = |causes: &[&str]| PrivateCloudExpected {
        valid: false,
        causes: causes.iter().map(|c| (*c).to_owned()).collect(),
        detail: None,
        accepted: None,
        config: None,
        bound_instance_key: None,
    };
    let accepted = PrivateCloudExpected {
        valid: true,
        causes: vec![],
        detail: None,
        accepted: Some(AcceptedJson {
            license_id: hex(&license_id.0),
            instance_public_key: hex(&instance),
            kind: "heartbeat".into(),
            at: rfc3339(at),
            valid_until: rfc3339(Timestamp(at.0 + 86_400)),
            nodes: 2,
            lease_until: Some(rfc3339(g.lease)),
        }),
        config: None,
        bound_instance_key: None,
    };
    let clone_receipt = g.signed(&g.cloud_receipt(token, g.clone.public(), Some(*first_id), Some(g.lease))?, None)?;
    let ended_receipt = g.signed(&g.cloud_receipt(token, instance, Some(*first_id), Some(ended))?, None)?;
    let several = g.signed(
        &with(&g.cloud_receipt(token, g.clone.public(), Some(*first_id), Some(ended))?, |w| w.max_nodes = 2)?,
        None,
    )?;
    let cases: [(&str, Option<&[u8]>, &str, PrivateCloudExpected); 5] = [
        (
            "answer-receipt-accepted",
            Some(good_receipt),
            "A heartbeat answer of instance-a for the receipt-policy server license (valid-receipt-policy-private-cloud), \
             carrying the server's receipt without a revocation list (receipts/valid-private-cloud.bin: instance-a, \
             lease until 2026-08-30T00:00:00Z). Accepted, with the lease.",
            accepted,
        ),
        (
            "answer-receipt-missing",
            None,
            "The same answer without a receipt: under receipt policy the product accepts no server the vendor did \
             not receipt.",
            refused(&["receipt_missing"]),
        ),
        (
            "answer-receipt-other-instance",
            Some(&clone_receipt),
            "The same answer (instance-a's certificate and signature) carrying a receipt that binds instance-clone: a \
             copy of the server using another's receipt.",
            refused(&["receipt_instance_mismatch"]),
        ),
        (
            "answer-receipt-lease-expired",
            Some(&ended_receipt),
            "The same answer carrying a receipt for instance-a whose lease ended at 2026-05-31T23:59:00Z, checked at \
             2026-06-01T00:00:00Z on the product's clock (the server's answer is fresh).",
            refused(&["lease_expired"]),
        ),
        (
            "answer-receipt-several-causes",
            Some(&several),
            "The same answer, checked against a request with another nonce, carrying a receipt with max_nodes 2 \
             (the license has 3), binding instance-clone, whose lease ended at 2026-05-31T23:59:00Z: the answer's \
             cause, then the receipt's first cause only (receipt_license_mismatch, not receipt_instance_mismatch), \
             then lease_expired.",
            refused(&["nonce_mismatch", "receipt_license_mismatch", "lease_expired"]),
        ),
    ];
    for (name, receipt, description, expected) in cases {
        let file = format!("{name}.bin");
        g.put(format!("vectors/private-cloud/{file}"), answer(receipt)?)?;
        let mut input = input.clone();
        if name == "answer-receipt-several-causes" {
            input.nonce = hex(&[0x99; 16]);
        }
        let v = PrivateCloudVector {
            description: description.to_owned(),
            file,
            check: "server-answer".into(),
            answer: Some(input),
            config: None,
            binding: None,
            expected,
        };
        let mut json = serde_json::to_string_pretty(&v)?;
        json.push('\n');
        g.put(format!("vectors/private-cloud/{name}.json"), json.into_bytes())?;
    }
    Ok(())
}

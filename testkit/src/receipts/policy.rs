//! The two receipt-policy licenses of the main manifest (SPEC.md §3.3), their
//! activation, challenge and image keys, and the certificates (§3.2) that let
//! the receipt key and the issuing keys sign.

use fanlic_formats::{
    ActivationPolicy, LicenseId, Timestamp, encode_certificate_body, encode_license_payload_with_policy, wire,
};
use ring::signature::{Ed25519KeyPair, KeyPair as _};

use crate::{
    Env, Result, TestKey, parse_rfc3339,
    private_cloud::{MASTER_VERSION, image_seed},
};

use super::{activation_key, challenge_key};

/// The receipt-policy local-container license's vector name.
pub const LOCAL_LICENSE: &str = "valid-receipt-policy-local-container";
/// The receipt-policy private-cloud license's vector name.
pub const CLOUD_LICENSE: &str = "valid-receipt-policy-private-cloud";
/// Their activation base URL.
const BASE_URL: &str = "https://activation.example.test/fanlic/v1";

/// A receipt-policy license's message, for the main manifest.
pub(crate) struct PolicyLicense {
    pub(crate) name: &'static str,
    pub(crate) description: &'static str,
    pub(crate) message: Vec<u8>,
    pub(crate) env: Env,
}

/// The license id of a receipt-policy vector license.
pub fn policy_license_id(name: &str) -> LicenseId {
    LicenseId(crate::id16(name))
}

/// The activation key of a receipt-policy vector license (test master secret, version 1).
pub fn policy_activation_key(name: &str) -> Result<[u8; 32]> {
    activation_key(&crate::private_cloud::master_secret(), MASTER_VERSION, &policy_license_id(name))
}

/// The image key of the receipt-policy private-cloud license.
pub(super) fn cloud_image() -> Result<Ed25519KeyPair> {
    let seed = image_seed(&crate::private_cloud::master_secret(), MASTER_VERSION, &policy_license_id(CLOUD_LICENSE))?;
    Ok(Ed25519KeyPair::from_seed_unchecked(&seed)?)
}

pub(super) fn public_of(pair: &Ed25519KeyPair) -> [u8; 32] {
    let mut p = [0u8; 32];
    p.copy_from_slice(pair.public_key().as_ref());
    p
}

pub(super) fn sign_with(pair: &Ed25519KeyPair, msg: &[u8]) -> [u8; 64] {
    let mut s = [0u8; 64];
    s.copy_from_slice(pair.sign(msg).as_ref());
    s
}

/// The two receipt-policy licenses (SPEC.md §3.3): their `activation_key`
/// field is the challenge key. Issued 2026-01-01T00:00:00Z.
pub(crate) fn policy_licenses(issued: Timestamp) -> Result<Vec<PolicyLicense>> {
    let mut out = Vec::new();
    let local_key = challenge_key(&policy_activation_key(LOCAL_LICENSE)?);
    let local = wire::LicensePayload {
        license_id: policy_license_id(LOCAL_LICENSE).0,
        kind: wire::Kind::LocalContainer,
        app_name: "FineReport",
        company: "Example Test Co.",
        project: "webroot",
        contract_signed: wire::Date { year: 2025, month: 12, day: 15 },
        issued_at: issued.0,
        not_before: issued.0,
        expiry: wire::Expiry::On(wire::Date { year: 2030, month: 12, day: 31 }),
        version: wire::Version { major: 11, minor: 0 },
        max_nodes: 1,
        activation_key: Some(local_key),
        activation_base_url: Some(BASE_URL),
        image_public_key: None,
        supersedes: None,
        request_email_sha256: None,
    };
    out.push(PolicyLicense {
        name: LOCAL_LICENSE,
        description: "The basic license under receipt policy (trailing activation_policy 0x01): its activation_key \
                      field holds the challenge key HMAC-SHA256(activation key, \"fanlic/1/challenge-key\\n\") \
                      (fixtures/activation/challenge-keys.json), with an activation base URL. It verifies as any \
                      license; it is activated only by a receipt (fixtures/vectors/receipts/).",
        message: encode_license_payload_with_policy(&local, ActivationPolicy::Receipt)?,
        env: Env {
            app_name: "FineReport".into(),
            version: "11.0".into(),
            project: "webroot".into(),
            nodes: 1,
            method: "local-container".into(),
            now: "2026-06-01T00:00:00Z".into(),
            last_seen: None,
        },
    });
    let cloud_key = challenge_key(&policy_activation_key(CLOUD_LICENSE)?);
    let image = public_of(&cloud_image()?);
    let cloud = wire::LicensePayload {
        license_id: policy_license_id(CLOUD_LICENSE).0,
        kind: wire::Kind::PrivateCloud,
        app_name: "FineBI",
        company: "Example Manufacturing Co., Ltd.",
        project: "bi-cluster",
        contract_signed: wire::Date { year: 2025, month: 12, day: 15 },
        issued_at: issued.0,
        not_before: issued.0,
        expiry: wire::Expiry::On(wire::Date { year: 2030, month: 12, day: 31 }),
        version: wire::Version { major: 6, minor: 1 },
        max_nodes: 3,
        activation_key: Some(cloud_key),
        activation_base_url: Some(BASE_URL),
        image_public_key: Some(image),
        supersedes: None,
        request_email_sha256: None,
    };
    out.push(PolicyLicense {
        name: CLOUD_LICENSE,
        description: "A private-cloud server license under receipt policy: the challenge key in activation_key, an \
                      activation base URL and the image key derived from the test master secret; 3 nodes. Its \
                      authorization server is activated by receipts (fixtures/vectors/receipts/) and its answers \
                      carry one (fixtures/vectors/private-cloud/answer-receipt-*).",
        message: encode_license_payload_with_policy(&cloud, ActivationPolicy::Receipt)?,
        env: Env {
            app_name: "FineBI".into(),
            version: "6.1.3".into(),
            project: "bi-cluster".into(),
            nodes: 1,
            method: "private-cloud".into(),
            now: "2026-06-01T00:00:00Z".into(),
            last_seen: None,
        },
    });
    Ok(out)
}

/// The receipt key's window: 2026-05-15T00:00:00Z, 30 days.
pub fn receipt_key_window() -> Result<(Timestamp, Timestamp)> {
    let from = parse_rfc3339("2026-05-15T00:00:00Z")?;
    Ok((from, Timestamp(from.0 + 30 * 86_400)))
}

/// A certificate and its signature.
#[derive(Clone, Debug)]
pub struct Cert {
    /// The signed message.
    pub msg: Vec<u8>,
    /// Its signature.
    pub sig: [u8; 64],
}

/// A certificate of `key` by `root` (SPEC.md §3.2).
pub fn certify(root: &TestKey, key: &TestKey, window: (Timestamp, Timestamp), purposes: u32) -> Result<Cert> {
    let msg = encode_certificate_body(&wire::CertificateBody {
        root_key_id: root.key_id().0,
        key_id: key.key_id().0,
        public_key: key.public(),
        not_before: window.0.0,
        not_after: window.1.0,
        purposes,
    })?;
    Ok(Cert { sig: root.sign(&msg), msg })
}

//! Activation-receipt vectors (SPEC.md §6.4) in `fixtures/vectors/receipts/`:
//! each `NAME.bin` (a raw receipt file; some also armored, `NAME.fanlic`)
//! with `NAME.json` ([`ReceiptVector`]) naming the license, the challenge,
//! the acceptor's instance key and held receipt, its clock and the expected
//! outcome. The receipt-policy licenses they answer are vectors of the main
//! manifest (§3.3); the answers that carry a receipt (§7.2 rule 6) are in
//! `fixtures/vectors/private-cloud/`; the challenge keys are in
//! `fixtures/activation/challenge-keys.json`; the signed parts of every
//! accepted receipt, for OpenSSL, in `fixtures/vectors/openssl-receipts/`.
//!
//! Keys (all TEST-ONLY): `root-a` certifies the receipt key `receipt-a`
//! (purposes `0x8`, a 30-day window) and `issuing-a` (which signs the
//! licenses) and `issuing-a2` (which signs the delivered revocation lists).
//! The private-cloud license's image key is derived from the test master
//! secret as SPEC.md §7.1 says; `instance-a` is the authorization server's
//! instance key and `instance-clone` a copy's. Expected outcomes are written
//! by hand here; they are never computed by running the verifier.
//!
//! This module owns the vectors' JSON forms and the key derivations; the
//! receipt-policy licenses and certificates are in `policy`, the generator's
//! state in `generator`, the cases in `cases`, the answers that carry a
//! receipt in `answers` and `challenge-keys.json` in `challenge_keys`.

use fanlic_formats::{LicenseId, receipt::CHALLENGE_KEY_LABEL};
use serde::{Deserialize, Serialize};

use crate::{Error, Result, vectors_dir};

mod answers;
mod cases;
mod challenge_keys;
mod generator;
mod policy;

pub(crate) use cases::generate;
pub(crate) use generator::Inputs;
pub(crate) use policy::policy_licenses;
pub use policy::{
    CLOUD_LICENSE, Cert, LOCAL_LICENSE, certify, policy_activation_key, policy_license_id, receipt_key_window,
};

/// `fixtures/vectors/receipts/`.
pub fn receipts_dir() -> std::path::PathBuf {
    vectors_dir().join("receipts")
}

/// `fixtures/vectors/openssl-receipts/`.
pub fn openssl_receipts_dir() -> std::path::PathBuf {
    vectors_dir().join("openssl-receipts")
}

/// One receipt vector: `NAME.json`, next to the file it checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptVector {
    /// What the vector tests.
    pub description: String,
    /// Who checks it: `product` (a local container that made the
    /// challenge), `server` (an authorization server that made it) or
    /// `application` (one checking its server's receipt, §7.2 rule 6).
    pub acceptor: String,
    /// The raw receipt file, in `fixtures/vectors/receipts/`.
    pub file: String,
    /// The same receipt armored, in `fixtures/vectors/receipts/`, or null.
    pub armored: Option<String>,
    /// Names of the trusted root keys (`fixtures/keys/NAME.pub.raw`).
    pub roots: Vec<String>,
    /// The acceptor's license, armored, in `fixtures/vectors/`.
    pub license: String,
    /// SHA-256 of that license's raw file (64 hex digits).
    pub license_sha256: String,
    /// The raw token of the challenge the acceptor holds (hex), or null
    /// (an application made none).
    pub challenge_token: Option<String>,
    /// SHA-256 of `challenge_token` (64 hex digits), or null.
    pub challenge_sha256: Option<String>,
    /// What the challenge was made of (SPEC.md §6.1), or null: the token is
    /// `make_challenge_after` of these under the license's challenge key.
    pub challenge: Option<ChallengeJson>,
    /// The acceptor's instance key (64 hex digits), or null (a product).
    pub instance_public_key: Option<String>,
    /// Whether the acceptor checks `previous_receipt` (a server does).
    pub previous_receipt_checked: bool,
    /// The id of the receipt the acceptor holds (64 hex digits), or null:
    /// it holds none.
    pub previous_receipt: Option<String>,
    /// The acceptor's clock, RFC 3339 UTC.
    pub now: String,
    /// The outcome every entry point must report.
    pub expected: ReceiptExpected,
}

/// A challenge's inputs (SPEC.md §6.1), as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeJson {
    /// 32 hex digits.
    pub nonce: String,
    /// 32 hex digits.
    pub node_id: String,
    /// 64 hex digits.
    pub project_fingerprint: String,
    /// Nodes in the cluster.
    pub nodes: u32,
    /// The product's version.
    pub app_version: String,
    /// When it was made, RFC 3339.
    pub issued_at: String,
    /// An authorization server's instance fingerprint (64 hex digits), or null.
    pub instance_fingerprint: Option<String>,
    /// Its `privateConfig` generation, or null.
    pub generation: Option<u64>,
    /// The receipt id it names as previous (64 hex digits), or null.
    pub previous_receipt: Option<String>,
}

/// The expected outcome of a receipt vector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptExpected {
    /// Whether it is accepted.
    pub accepted: bool,
    /// Cause codes in order (`ReceiptCause::code`); empty when accepted.
    pub causes: Vec<String>,
    /// An accepted receipt's id, `SHA-256(receipt message)` (64 hex digits).
    pub receipt_id: Option<String>,
    /// An accepted receipt's vendor time, RFC 3339.
    pub vendor_time: Option<String>,
    /// An accepted receipt's lease end, RFC 3339, or null.
    pub lease_until: Option<String>,
    /// The sequence of the revocation list an accepted receipt delivers (one
    /// that verifies and is the one it names), or null.
    pub delivered_list_sequence: Option<u64>,
}

impl ReceiptVector {
    /// Every vector of `fixtures/vectors/receipts/`, by name, in name order.
    pub fn load_all() -> Result<Vec<(String, Self)>> {
        crate::load_json_vectors(&receipts_dir())
    }

    /// The raw receipt file.
    pub fn read_file(&self) -> Result<Vec<u8>> {
        Ok(std::fs::read(receipts_dir().join(&self.file))?)
    }

    /// The armored receipt file, if the vector has one.
    pub fn read_armored(&self) -> Result<Option<Vec<u8>>> {
        Ok(match &self.armored {
            Some(f) => Some(std::fs::read(receipts_dir().join(f))?),
            None => None,
        })
    }

    /// The acceptor's license file, armored.
    pub fn read_license(&self) -> Result<Vec<u8>> {
        Ok(std::fs::read(vectors_dir().join(&self.license))?)
    }
}

/// `fixtures/activation/challenge-keys.json`: activation key → challenge key
/// (SPEC.md §3.3), for the cases of `vectors.json` and for the
/// receipt-policy licenses, whose activation keys are derived here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeKeys {
    /// Where the rule is.
    pub spec: String,
    /// `fanlic/1/challenge-key\n`.
    pub label: String,
    /// Every case.
    pub cases: Vec<ChallengeKeyCase>,
}

/// One challenge key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeKeyCase {
    /// A case name of `vectors.json`, or a license vector's name.
    pub name: String,
    /// The master secret (hex), when the activation key is derived here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master_secret: Option<String>,
    /// Its version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master_version: Option<u32>,
    /// The license id (hex), when derived here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_id: Option<String>,
    /// The license file under `fixtures/vectors/` that carries the challenge key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// The activation key (hex).
    pub activation_key: String,
    /// `HMAC-SHA256(activation_key, "fanlic/1/challenge-key\n")` (hex).
    pub challenge_key: String,
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, data).as_ref());
    out
}

/// The challenge key of an activation key, with ring (SPEC.md §3.3).
pub fn challenge_key(activation_key: &[u8; 32]) -> [u8; 32] {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, activation_key);
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::hmac::sign(&key, CHALLENGE_KEY_LABEL).as_ref());
    out
}

struct Len32;

impl ring::hkdf::KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

/// A license's activation key (SPEC.md §6.1), with ring's HKDF.
pub fn activation_key(master: &[u8; 32], version: u32, license_id: &LicenseId) -> Result<[u8; 32]> {
    let prk = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, b"fanlic/1/activation-key\n").extract(master);
    let v = version.to_be_bytes();
    let info = [v.as_slice(), license_id.0.as_slice()];
    let mut key = [0u8; 32];
    prk.expand(&info, Len32).and_then(|okm| okm.fill(&mut key)).map_err(|_| Error("HKDF expand failed".into()))?;
    Ok(key)
}

//! Private-cloud test vectors (SPEC.md §7): server answer files and
//! `privateConfig` files in `fixtures/vectors/private-cloud/`, each `NAME.bin`
//! with its expected outcome in `NAME.json` next to it ([`PrivateCloudVector`]).
//! Written by the same deterministic generator as the license vectors
//! ([`crate::generate`]).
//!
//! Keys (all TEST-ONLY): `root-a` certifies `issuing-a` (purposes `0x3`),
//! which signs the server licenses. The image key is derived as SPEC.md §7.1
//! says, from a TEST-ONLY master secret (version 1) and
//! the license id ([`master_secret`], [`image_seed`]). The instance keys are the test keys `instance-a` (the
//! server) and `instance-clone` (a copy of it); `image-other` is another
//! image's key. Expected outcomes are written by hand here; they are never
//! computed by running the verifier.
//!
//! This module owns the vectors' JSON forms and the image-key derivation; the
//! generator's state is in `generator`, the answer vectors (and the entry
//! point, [`generate`]) in `answers`, and the `privateConfig`, TLS-binding and
//! node-auth vectors in `config`, `binding` and `node_auth`.

use fanlic_formats::{
    LicenseId,
    private_cloud::{AnswerKind, IMAGE_KEY_SALT},
};
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde::{Deserialize, Serialize};

use crate::{Env, Error, Result, vectors_dir};

mod answers;
mod binding;
mod config;
mod generator;
mod node_auth;

pub use answers::generate;
pub use binding::TLS_SPKI_HEX;
pub use node_auth::{NODE_AUTH_VECTORS, NodeAuthVector, load_node_auth};

/// `fixtures/vectors/private-cloud/`.
pub fn private_cloud_dir() -> std::path::PathBuf {
    vectors_dir().join("private-cloud")
}

/// The TEST-ONLY activation master secret (SPEC.md §6.1) the image keys are
/// derived from: `SHA-256("fanlic/TEST-ONLY/master-secret")`, version 1.
pub fn master_secret() -> [u8; 32] {
    sha256(b"fanlic/TEST-ONLY/master-secret")
}

/// The master secret's version.
pub const MASTER_VERSION: u32 = 1;

/// One vector: `NAME.json`, next to the file it checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivateCloudVector {
    /// What the vector tests.
    pub description: String,
    /// The file checked, in `fixtures/vectors/private-cloud/`.
    pub file: String,
    /// `server-answer` (checked with `verify_server_answer` and
    /// `Client::on_answer`) or `private-config` (`verify_private_config`).
    pub check: String,
    /// For a server answer: what the product knows and asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<AnswerInput>,
    /// For a `privateConfig`: what the checker knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ConfigInput>,
    /// For a TLS binding: what the application knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding: Option<BindingInput>,
    /// The outcome every entry point must report.
    pub expected: PrivateCloudExpected,
}

/// What a product knows when it checks a server answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerInput {
    /// Names of the trusted root keys (`fixtures/keys/NAME.pub.raw`).
    pub roots: Vec<String>,
    /// The product's environment (`now` is the time of the check).
    pub env: Env,
    /// What it asked: `registered`, `heartbeat` or `deregistered`.
    pub kind: String,
    /// Its node id, 32 hex digits.
    pub node_id: String,
    /// The request's nonce, 32 hex digits.
    pub nonce: String,
    /// The instance key it pinned before, 64 hex digits, or null.
    pub pinned_instance_key: Option<String>,
}

/// What an application knows when it checks a TLS binding (SPEC.md §7.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingInput {
    /// Names of the trusted root keys (`fixtures/keys/NAME.pub.raw`).
    pub roots: Vec<String>,
    /// SHA-256 of the SubjectPublicKeyInfo of the connection's certificate,
    /// 64 hex digits.
    pub connection_spki_sha256: String,
    /// The instance key it pinned before, 64 hex digits, or null.
    pub pinned_instance_key: Option<String>,
}

/// What the vendor or the server knows when it checks a `privateConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigInput {
    /// The image public key, 64 hex digits.
    pub image_public_key: String,
    /// The server license's id, 32 hex digits.
    pub license_id: String,
}

/// The expected outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivateCloudExpected {
    /// Whether it is accepted.
    pub valid: bool,
    /// For an answer: the cause codes in order (`AnswerCause::code`); for a
    /// `privateConfig`: the one reason (`PrivateConfigError::reason`). Empty
    /// when valid.
    pub causes: Vec<String>,
    /// When given, text the `Debug` form of the rejection contains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// An accepted answer's content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<AcceptedJson>,
    /// An accepted `privateConfig`'s generation and log head (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ConfigJson>,
    /// An accepted TLS binding: the instance key it pins (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound_instance_key: Option<String>,
}

/// An accepted answer, as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptedJson {
    /// 32 hex digits.
    pub license_id: String,
    /// 64 hex digits.
    pub instance_public_key: String,
    /// `registered`, `heartbeat` or `deregistered`.
    pub kind: String,
    /// RFC 3339.
    pub at: String,
    /// RFC 3339.
    pub valid_until: String,
    /// Nodes registered.
    pub nodes: u32,
    /// Under receipt policy: the end of the lease of the receipt the answer
    /// carries (RFC 3339), or null.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<String>,
}

/// An accepted `privateConfig`, as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigJson {
    /// Its generation.
    pub generation: u64,
    /// Its nodes' ids (hex).
    pub nodes: Vec<String>,
    /// The head of its event chain (hex).
    pub log_head: String,
}

impl PrivateCloudVector {
    /// Every vector of `fixtures/vectors/private-cloud/`, by name (the JSON
    /// file's stem), in name order.
    pub fn load_all() -> Result<Vec<(String, Self)>> {
        crate::load_json_vectors(&private_cloud_dir())
    }

    /// The file it checks.
    pub fn read_file(&self) -> Result<Vec<u8>> {
        Ok(std::fs::read(private_cloud_dir().join(&self.file))?)
    }
}

/// `registered`, `heartbeat`, `deregistered`.
pub fn kind_name(kind: AnswerKind) -> &'static str {
    match kind {
        AnswerKind::Registered => "registered",
        AnswerKind::Heartbeat => "heartbeat",
        AnswerKind::Deregistered => "deregistered",
    }
}

/// The inverse of [`kind_name`].
pub fn parse_kind(s: &str) -> Result<AnswerKind> {
    match s {
        "registered" => Ok(AnswerKind::Registered),
        "heartbeat" => Ok(AnswerKind::Heartbeat),
        "deregistered" => Ok(AnswerKind::Deregistered),
        _ => Err(Error(format!("unknown answer kind `{s}`"))),
    }
}

/// Bytes from lowercase hex, exactly `N` of them.
pub fn unhex<const N: usize>(s: &str) -> Result<[u8; N]> {
    let bad = || Error(format!("`{s}` is not {N} bytes of hex"));
    if s.len() != 2 * N {
        return Err(bad());
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2).ok_or_else(bad)?, 16).map_err(|_| bad())?;
    }
    Ok(out)
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, data).as_ref());
    out
}

struct Len32;

impl ring::hkdf::KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

/// An Ed25519 key from a seed (for the derived image key).
struct SeedKey {
    pair: Ed25519KeyPair,
}

impl SeedKey {
    fn from_seed(seed: &[u8; 32]) -> Result<Self> {
        Ok(Self { pair: Ed25519KeyPair::from_seed_unchecked(seed)? })
    }

    fn public(&self) -> [u8; 32] {
        let mut p = [0u8; 32];
        p.copy_from_slice(self.pair.public_key().as_ref());
        p
    }

    fn sign(&self, message: &[u8]) -> [u8; 64] {
        let mut s = [0u8; 64];
        s.copy_from_slice(self.pair.sign(message).as_ref());
        s
    }
}

/// The image key of `license_id` (SPEC.md §7.1): `HKDF-SHA256(salt =
/// "fanlic/1/image-key\n", IKM = master secret, info = u32-big-endian(version)
/// || license_id, L = 32)` is its Ed25519 seed.
pub fn image_seed(master: &[u8; 32], version: u32, license_id: &LicenseId) -> Result<[u8; 32]> {
    let prk = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, IMAGE_KEY_SALT).extract(master);
    let v = version.to_be_bytes();
    let info = [v.as_slice(), license_id.0.as_slice()];
    let mut seed = [0u8; 32];
    prk.expand(&info, Len32).and_then(|okm| okm.fill(&mut seed)).map_err(|_| Error("HKDF expand failed".into()))?;
    Ok(seed)
}

/// The server license's id.
pub fn server_license_id() -> LicenseId {
    LicenseId(crate::id16("private-cloud-server"))
}

/// The node id of the product in the answer vectors.
pub const NODE_ID: [u8; 16] = [0x11; 16];

fn nonce(n: u8) -> [u8; 16] {
    let d = sha256(format!("fanlic/TEST-ONLY/nonce/{n}").as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(d.get(..16).unwrap_or(&[n; 16]));
    out
}

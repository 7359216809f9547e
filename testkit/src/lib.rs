//! Test keys, test vectors and end-to-end test helpers for fanlic.
//!
//! **TEST-ONLY.** Every key here is derived from a published seed: nothing
//! signed by one of them may ever be trusted. The vectors in
//! `fixtures/vectors/` are made by [`generate`] (run
//! `cargo run -p fanlic-testkit --bin gen-vectors`), deterministically: Ed25519
//! signatures are deterministic and every other input is fixed, so running the
//! generator again writes byte-identical files, and a test fails if the files
//! on disk differ from what it makes.
//!
//! The manifest (`fixtures/vectors/manifest.json`, [`Manifest`]) says, for
//! each vector, the root keys a product trusts, its environment and the
//! expected outcome. Expected outcomes are written by hand in [`vectors`];
//! they are never computed by running the verifier.
//!
//! [`postgres::PgCluster`] is a real PostgreSQL server of the tests' own, for
//! the store's tests; [`dovecot::Dovecot`] is a real Dovecot IMAP server of
//! their own, for the mail intake's.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use core::fmt;
use std::{collections::BTreeMap, path::PathBuf};

use fanlic_formats::{Date, LicenseKind, Timestamp};
use fanlic_verifier::{Environment, RootKey};
use serde::{Deserialize, Serialize};

pub mod dovecot;
pub mod keys;
pub mod postgres;
pub mod private_cloud;
pub mod receipts;
pub mod revocations;
pub mod vectors;

mod process;

pub use keys::TestKey;
pub use private_cloud::PrivateCloudVector;
pub use receipts::ReceiptVector;
pub use revocations::{RevocationExpected, RevocationManifest, RevocationVector};

/// Generated files: path relative to `fixtures/` (`keys/…`, `vectors/…`) → bytes.
pub type Files = BTreeMap<String, Vec<u8>>;

/// The command that regenerates the fixtures.
pub const REGENERATE: &str = "cargo run -p fanlic-testkit --bin gen-vectors";

/// Every file of `fixtures/keys/` and `fixtures/vectors/`: the license and
/// revocation-list vectors ([`vectors::generate`]) and the private-cloud ones
/// ([`private_cloud::generate`]).
pub fn generate() -> Result<Files> {
    let mut files = vectors::generate()?;
    private_cloud::generate(&mut files)?;
    Ok(files)
}

/// Why the generator or a helper failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl core::error::Error for Error {}

macro_rules! from_error {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Self(format!("{e:?}"))
            }
        }
    )*};
}
from_error!(
    fanlic_formats::DecodeError,
    postcard::Error,
    ring::error::KeyRejected,
    std::io::Error,
    serde_json::Error,
    fanlic_verifier::InvalidKey
);

/// Result with [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// `fixtures/` at the root of the workspace.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("fixtures")
}

/// `fixtures/vectors/`.
pub fn vectors_dir() -> PathBuf {
    fixtures_dir().join("vectors")
}

/// `fixtures/keys/`.
pub fn keys_dir() -> PathBuf {
    fixtures_dir().join("keys")
}

/// Every `*.json` vector in `dir`, by name (the file's stem), in name order.
pub fn load_json_vectors<T: serde::de::DeserializeOwned>(dir: &std::path::Path) -> Result<Vec<(String, T)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".json") {
            let text = std::fs::read_to_string(dir.join(&name))?;
            out.push((stem.to_owned(), serde_json::from_str(&text)?));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// The file `fixtures/vectors/manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// What the file is, for people.
    pub comment: String,
    /// How to regenerate the vectors.
    pub regenerate: String,
    /// Every vector, in a fixed order.
    pub vectors: Vec<Vector>,
}

/// One test vector: a file, who checks it, and what must come out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vector {
    /// Unique name.
    pub name: String,
    /// File name under `fixtures/vectors/` (several vectors may share a file).
    pub file: String,
    /// What the vector tests.
    pub description: String,
    /// Names of the root keys the product trusts (`fixtures/keys/NAME.pub.raw`).
    pub roots: Vec<String>,
    /// The product's environment.
    pub env: Env,
    /// The outcome every entry point must report.
    pub expected: Expected,
}

/// A product's environment, as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Env {
    /// Local application name.
    pub app_name: String,
    /// Local version.
    pub version: String,
    /// Local project name.
    pub project: String,
    /// Nodes in the cluster.
    pub nodes: u32,
    /// `local-container` or `private-cloud`.
    pub method: String,
    /// The time of the check, RFC 3339 UTC (`2026-06-01T00:00:00Z`).
    pub now: String,
    /// The latest time seen before, RFC 3339 UTC, or null.
    pub last_seen: Option<String>,
}

/// The expected outcome of a vector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expected {
    /// Whether the license verifies.
    pub valid: bool,
    /// Cause codes, in the order they are reported (empty when valid).
    pub causes: Vec<String>,
    /// The `content_incorrect` reason ([`fanlic_verifier::ContentError::reason`]), or null.
    pub content_error: Option<String>,
    /// When given, text the `Debug` form of the content error contains (e.g.
    /// `NonCanonical`), to pin which rule fails, not just the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Env {
    /// The verifier's environment.
    pub fn to_environment(&self) -> Result<Environment<'_>> {
        Ok(Environment {
            app_name: &self.app_name,
            version: &self.version,
            project: &self.project,
            nodes: self.nodes,
            method: self.method.parse::<LicenseKind>().map_err(|e| Error(format!("method: {e}")))?,
            now: parse_rfc3339(&self.now)?,
            last_seen: self.last_seen.as_deref().map(parse_rfc3339).transpose()?,
        })
    }
}

impl Manifest {
    /// Reads `fixtures/vectors/manifest.json`.
    pub fn load() -> Result<Self> {
        let text = std::fs::read_to_string(vectors_dir().join("manifest.json"))?;
        Ok(serde_json::from_str(&text)?)
    }
}

impl Vector {
    /// The vector's file, from `fixtures/vectors/`.
    pub fn read_file(&self) -> Result<Vec<u8>> {
        Ok(std::fs::read(vectors_dir().join(&self.file))?)
    }

    /// The trusted root keys, from `fixtures/keys/NAME.pub.raw`.
    pub fn root_keys(&self) -> Result<Vec<RootKey>> {
        self.roots.iter().map(|n| Ok(RootKey::from_bytes(&read_public_key(n)?)?)).collect()
    }
}

/// The 32 raw bytes of `fixtures/keys/NAME.pub.raw`.
pub fn read_public_key(name: &str) -> Result<[u8; 32]> {
    let bytes = std::fs::read(keys_dir().join(format!("{name}.pub.raw")))?;
    bytes.try_into().map_err(|b: Vec<u8>| Error(format!("{name}.pub.raw has {} bytes, not 32", b.len())))
}

/// RFC 3339 in UTC, the one form the manifest uses: `2026-06-01T00:00:00Z`.
pub fn rfc3339(t: Timestamp) -> String {
    t.to_string()
}

/// Parses exactly `YYYY-MM-DDTHH:MM:SSZ`.
pub fn parse_rfc3339(s: &str) -> Result<Timestamp> {
    let bad = || Error(format!("`{s}` is not YYYY-MM-DDTHH:MM:SSZ"));
    let (date, time) = s.split_once('T').ok_or_else(bad)?;
    let date = Date::parse(date).filter(|_| date.contains('-')).ok_or_else(bad)?;
    let time = time.strip_suffix('Z').ok_or_else(bad)?;
    let parts: Vec<&str> = time.split(':').collect();
    let [h, m, sec] = parts.as_slice() else { return Err(bad()) };
    let num = |p: &str, max: u64| {
        if p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        p.parse::<u64>().ok().filter(|v| *v <= max)
    };
    let (h, m, sec) = (num(h, 23).ok_or_else(bad)?, num(m, 59).ok_or_else(bad)?, num(sec, 59).ok_or_else(bad)?);
    Ok(Timestamp(date.start().0 + h * 3600 + m * 60 + sec))
}

/// A 128-bit id derived from a name, never all zero in practice.
pub(crate) fn id16(name: &str) -> [u8; 16] {
    let d = ring::digest::digest(&ring::digest::SHA256, format!("fanlic/TEST-ONLY/license-id/{name}").as_bytes());
    let mut id = [0u8; 16];
    id.copy_from_slice(d.as_ref().get(..16).unwrap_or(&[1; 16]));
    id
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// postcard varint (LEB128) of `v`.
pub fn varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let low = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(low);
            return out;
        }
        out.push(low | 0x80);
    }
}

/// The same value as [`varint`], one byte longer: an overlong, non-canonical
/// encoding that postcard itself still reads.
pub fn overlong_varint(v: u64) -> Vec<u8> {
    let mut out = varint(v);
    if let Some(last) = out.last_mut() {
        *last |= 0x80;
    }
    out.push(0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips() {
        for t in [0, 1_767_225_600, 1_767_225_600 + 86_399, 32_503_679_999] {
            assert_eq!(parse_rfc3339(&rfc3339(Timestamp(t))), Ok(Timestamp(t)));
        }
        assert_eq!(parse_rfc3339("2026-01-01T00:00:00Z"), Ok(Timestamp(1_767_225_600)));
        for bad in ["2026-01-01", "2026/01/01T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:00:00+00:00"] {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
    }
}

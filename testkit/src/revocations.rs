//! Revocation-list test vectors (SPEC.md §5): `fixtures/vectors/revocations/`
//! and its `manifest.json`, written by the same deterministic generator as the
//! license vectors ([`crate::generate`]).
//!
//! Expected outcomes are written by hand here; they are never computed by
//! running the verifier.

use fanlic_formats::{
    KeyId, LicenseId, REVOCATION_FILE_MAGIC, REVOCATION_LIST_SIGNATURE_LABEL, Timestamp, encode_revocation_file,
    encode_revocation_list_body, revocation::wire::RevocationListBody,
};
use serde::{Deserialize, Serialize};

use crate::{Error, Files, REGENERATE, Result, TestKey, vectors_dir};

/// `fixtures/vectors/revocations/`.
pub fn revocations_dir() -> std::path::PathBuf {
    vectors_dir().join("revocations")
}

/// The file `fixtures/vectors/revocations/manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationManifest {
    /// What the file is, for people.
    pub comment: String,
    /// How to regenerate the vectors.
    pub regenerate: String,
    /// Every vector, in a fixed order.
    pub vectors: Vec<RevocationVector>,
}

/// One revocation-list vector: a file, who checks it, and what must come out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationVector {
    /// Unique name.
    pub name: String,
    /// File name under `fixtures/vectors/revocations/` (several vectors may share a file).
    pub file: String,
    /// What the vector tests.
    pub description: String,
    /// Names of the root keys the product trusts (`fixtures/keys/NAME.pub.raw`).
    pub roots: Vec<String>,
    /// The highest sequence the product accepted before, or null.
    pub highest_seen: Option<u64>,
    /// The outcome `verify_revocations` must report.
    pub expected: RevocationExpected,
}

/// The expected outcome of a revocation-list vector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationExpected {
    /// Whether the list is accepted.
    pub valid: bool,
    /// The accepted list's sequence, or null.
    pub sequence: Option<u64>,
    /// The revoked license ids (hex, ascending) of an accepted list.
    pub licenses: Vec<String>,
    /// The revoked issuing-key ids (hex, ascending) of an accepted list.
    pub issuing_keys: Vec<String>,
    /// The refusal reason (`fanlic_verifier::RevocationError::reason`), or null.
    pub error: Option<String>,
    /// When given, text the `Debug` form of the error contains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl RevocationManifest {
    /// Reads `fixtures/vectors/revocations/manifest.json`.
    pub fn load() -> Result<Self> {
        let text = std::fs::read_to_string(revocations_dir().join("manifest.json"))?;
        Ok(serde_json::from_str(&text)?)
    }
}

impl RevocationVector {
    /// The vector's file, from `fixtures/vectors/revocations/`.
    pub fn read_file(&self) -> Result<Vec<u8>> {
        Ok(std::fs::read(revocations_dir().join(&self.file))?)
    }

    /// The trusted root keys.
    pub fn root_keys(&self) -> Result<Vec<fanlic_verifier::RootKey>> {
        self.roots.iter().map(|n| Ok(fanlic_verifier::RootKey::from_bytes(&crate::read_public_key(n)?)?)).collect()
    }
}

/// An issuing key and its certificate (message and root signature).
#[derive(Debug)]
pub(crate) struct Signer<'k> {
    pub(crate) key: &'k TestKey,
    pub(crate) cert_msg: Vec<u8>,
    pub(crate) cert_sig: [u8; 64],
}

impl Signer<'_> {
    /// A revocation list file: this signer's certificate, `list_msg` signed
    /// as it is (which may be anything).
    fn file(&self, list_msg: &[u8]) -> Result<Vec<u8>> {
        Ok(encode_revocation_file(&self.cert_msg, &self.cert_sig, list_msg, &self.key.sign(list_msg))?)
    }
}

/// What the revocation vectors need from the license generator.
pub(crate) struct Inputs<'k> {
    /// issuing-a2: certified by root-a for everything, revocation lists included.
    pub(crate) revoker: Signer<'k>,
    /// issuing-a: certified by root-a for licenses only.
    pub(crate) licenses_only: Signer<'k>,
    /// issuing-b: certified by root-b.
    pub(crate) other_root: Signer<'k>,
    /// The id of the license `valid-local-container.lic`, which the valid list revokes.
    pub(crate) revoked_license: LicenseId,
    /// issuing-b's key id, which the valid list revokes (`root-b.lic`).
    pub(crate) revoked_key: KeyId,
    /// 2026-03-01T00:00:00Z: when the lists are signed.
    pub(crate) issued_at: Timestamp,
    /// 2025-06-01T00:00:00Z: before issuing-a2's window.
    pub(crate) before_window: Timestamp,
}

/// The sequence of the valid list.
pub const VALID_SEQUENCE: u64 = 7;

/// Extra ids on the valid list, so that the search has more than one entry.
fn extra_license(n: u8) -> LicenseId {
    let d = ring::digest::digest(&ring::digest::SHA256, format!("fanlic/TEST-ONLY/revoked/{n}").as_bytes());
    let mut id = [0u8; 16];
    id.copy_from_slice(d.as_ref().get(..16).unwrap_or(&[n; 16]));
    LicenseId(id)
}

const A: &[&str] = &["root-a"];

struct Gen<'f> {
    files: &'f mut Files,
    vectors: Vec<RevocationVector>,
}

impl Gen<'_> {
    fn file(&mut self, name: &str, bytes: Vec<u8>) -> Result<()> {
        let path = format!("vectors/revocations/{name}");
        if self.files.get(&path).is_some_and(|old| *old != bytes) {
            return Err(Error(format!("{path} generated twice with different bytes")));
        }
        self.files.insert(path, bytes);
        Ok(())
    }

    fn vector(&mut self, name: &str, file: &str, description: &str, highest_seen: Option<u64>, e: RevocationExpected) {
        self.vectors.push(RevocationVector {
            name: name.to_owned(),
            file: file.to_owned(),
            description: description.to_owned(),
            roots: A.iter().map(|r| (*r).to_owned()).collect(),
            highest_seen,
            expected: e,
        });
    }
}

fn refused(reason: &str, detail: Option<&str>) -> RevocationExpected {
    RevocationExpected {
        valid: false,
        sequence: None,
        licenses: vec![],
        issuing_keys: vec![],
        error: Some(reason.to_owned()),
        detail: detail.map(str::to_owned),
    }
}

fn body(sequence: u64, issued_at: Timestamp, licenses: &[u8], issuing_keys: &[u8]) -> Result<Vec<u8>> {
    let w = RevocationListBody { sequence, issued_at: issued_at.0, licenses, issuing_keys };
    Ok([REVOCATION_LIST_SIGNATURE_LABEL, &postcard::to_allocvec(&w)?].concat())
}

/// Adds the files of `fixtures/vectors/revocations/` to `files`.
pub(crate) fn generate(files: &mut Files, i: &Inputs<'_>) -> Result<()> {
    let mut g = Gen { files, vectors: Vec::new() };

    let licenses = [i.revoked_license, extra_license(1), extra_license(2)];
    let keys = [i.revoked_key];
    let list_msg = encode_revocation_list_body(VALID_SEQUENCE, i.issued_at, &licenses, &keys)?;
    let valid_raw = i.revoker.file(&list_msg)?;
    g.file("valid.bin", valid_raw.clone())?;
    let mut sorted_licenses: Vec<String> = licenses.iter().map(ToString::to_string).collect();
    sorted_licenses.sort();
    let accepted = RevocationExpected {
        valid: true,
        sequence: Some(VALID_SEQUENCE),
        licenses: sorted_licenses,
        issuing_keys: keys.iter().map(ToString::to_string).collect(),
        error: None,
        detail: None,
    };
    g.vector(
        "valid",
        "valid.bin",
        "Sequence 7, issued 2026-03-01T00:00:00Z by issuing-a2 (certified by root-a with purpose bit 2): revokes the \
         license of valid-local-container.lic and two other license ids, and the issuing key issuing-b (which signed \
         root-b.lic). No list seen before.",
        None,
        accepted.clone(),
    );
    g.vector(
        "valid-equal-sequence",
        "valid.bin",
        "The valid list, checked by a product that has already accepted sequence 7: the same list again, accepted.",
        Some(VALID_SEQUENCE),
        accepted.clone(),
    );
    g.vector(
        "valid-newer-sequence",
        "valid.bin",
        "The valid list, checked by a product whose highest sequence is 6.",
        Some(VALID_SEQUENCE - 1),
        accepted,
    );
    g.vector(
        "rollback",
        "valid.bin",
        "The valid list (sequence 7), checked by a product that has already accepted sequence 8: refused, an old list \
         must not un-revoke.",
        Some(VALID_SEQUENCE + 1),
        RevocationExpected {
            detail: Some("Rollback { sequence: 7, highest_seen: 8 }".into()),
            ..refused("rollback", None)
        },
    );

    let empty = encode_revocation_list_body(1, i.issued_at, &[], &[])?;
    g.file("valid-empty.bin", i.revoker.file(&empty)?)?;
    g.vector(
        "valid-empty",
        "valid-empty.bin",
        "Sequence 1, revoking nothing (both id lists empty).",
        None,
        RevocationExpected {
            valid: true,
            sequence: Some(1),
            licenses: vec![],
            issuing_keys: vec![],
            error: None,
            detail: None,
        },
    );

    let mut bad_sig = i.revoker.key.sign(&list_msg);
    bad_sig[0] ^= 0x01;
    let bad = encode_revocation_file(&i.revoker.cert_msg, &i.revoker.cert_sig, &list_msg, &bad_sig)?;
    g.file("bad-signature.bin", bad)?;
    g.vector(
        "bad-signature",
        "bad-signature.bin",
        "The valid list with one bit of the list signature flipped.",
        None,
        refused("bad_signature", None),
    );

    let mut bad_cert_sig = i.revoker.cert_sig;
    bad_cert_sig[10] ^= 0x01;
    let bad = encode_revocation_file(&i.revoker.cert_msg, &bad_cert_sig, &list_msg, &i.revoker.key.sign(&list_msg))?;
    g.file("bad-certificate-signature.bin", bad)?;
    g.vector(
        "bad-certificate-signature",
        "bad-certificate-signature.bin",
        "The valid list with one bit of the certificate signature flipped.",
        None,
        refused("bad_signature", None),
    );

    g.file("not-certified.bin", i.licenses_only.file(&list_msg)?)?;
    g.vector(
        "not-certified",
        "not-certified.bin",
        "The valid list's body validly signed by issuing-a, which root-a certified for licenses only (purposes 0x3, \
         no bit 2).",
        None,
        refused("not_certified", Some("purposes: 3")),
    );

    g.file("unknown-root.bin", i.other_root.file(&list_msg)?)?;
    g.vector(
        "unknown-root",
        "unknown-root.bin",
        "The valid list's body validly signed by issuing-b, certified by root-b, which the product does not trust.",
        None,
        refused("unknown_root_key", None),
    );

    let early = encode_revocation_list_body(VALID_SEQUENCE, i.before_window, &licenses, &keys)?;
    g.file("issuing-key-outside-window.bin", i.revoker.file(&early)?)?;
    g.vector(
        "issuing-key-outside-window",
        "issuing-key-outside-window.bin",
        "A list validly signed by issuing-a2 that says it was issued 2025-06-01, before issuing-a2's window \
         (from 2026-01-01).",
        None,
        refused("issuing_key_outside_window", None),
    );

    // Canonical postcard, validly signed, but the ids are not sorted.
    let mut ids: Vec<[u8; 16]> = licenses.iter().map(|l| l.0).collect();
    ids.sort_unstable();
    ids.reverse();
    let unsorted = body(VALID_SEQUENCE, i.issued_at, ids.as_flattened(), &i.revoked_key.0)?;
    g.file("unsorted-license-ids.bin", i.revoker.file(&unsorted)?)?;
    g.vector(
        "unsorted-license-ids",
        "unsorted-license-ids.bin",
        "The valid list's license ids in descending order, validly signed: not canonical.",
        None,
        refused("bad_encoding", Some("strictly ascending")),
    );

    let dup = [i.revoked_license.0, i.revoked_license.0].concat();
    let duplicated = body(VALID_SEQUENCE, i.issued_at, &dup, &[])?;
    g.file("duplicate-license-id.bin", i.revoker.file(&duplicated)?)?;
    g.vector(
        "duplicate-license-id",
        "duplicate-license-id.bin",
        "One license id listed twice, validly signed: not strictly ascending.",
        None,
        refused("bad_encoding", Some("strictly ascending")),
    );

    let partial = body(VALID_SEQUENCE, i.issued_at, &[], i.revoked_key.0.get(..7).unwrap_or_default())?;
    g.file("partial-key-id.bin", i.revoker.file(&partial)?)?;
    g.vector(
        "partial-key-id",
        "partial-key-id.bin",
        "issuing_keys of 7 bytes (not a multiple of 8), validly signed.",
        None,
        refused("bad_encoding", Some("whole number")),
    );

    let zero = body(0, i.issued_at, &[], &[])?;
    g.file("sequence-zero.bin", i.revoker.file(&zero)?)?;
    g.vector(
        "sequence-zero",
        "sequence-zero.bin",
        "Sequence 0, validly signed: sequences start at 1.",
        None,
        refused("bad_encoding", Some("sequence")),
    );

    let trailing_in_list = [list_msg.as_slice(), &[0]].concat();
    g.file("signed-trailing-byte-in-list.bin", i.revoker.file(&trailing_in_list)?)?;
    g.vector(
        "signed-trailing-byte-in-list",
        "signed-trailing-byte-in-list.bin",
        "One 0x00 byte after the list body, inside the validly signed message.",
        None,
        refused("bad_encoding", Some("TrailingBytes { count: 1 }")),
    );

    g.file("trailing-byte-after-file.bin", [valid_raw.as_slice(), &[0]].concat())?;
    g.vector(
        "trailing-byte-after-file",
        "trailing-byte-after-file.bin",
        "The valid file with one 0x00 byte after it.",
        None,
        refused("bad_encoding", Some("TrailingBytes { count: 1 }")),
    );

    g.file("truncated.bin", valid_raw.get(..valid_raw.len().saturating_sub(10)).unwrap_or_default().to_vec())?;
    g.vector(
        "truncated",
        "truncated.bin",
        "The valid file without its last 10 bytes.",
        None,
        refused("bad_encoding", Some("Malformed")),
    );

    let magic2 =
        [b"FANLIC-REVOCATIONS/2\n".as_slice(), valid_raw.get(REVOCATION_FILE_MAGIC.len()..).unwrap_or_default()]
            .concat();
    g.file("unknown-magic.bin", magic2)?;
    g.vector(
        "unknown-magic",
        "unknown-magic.bin",
        "The valid file with the magic FANLIC-REVOCATIONS/2, a version this verifier does not know.",
        None,
        refused("unknown_format", None),
    );

    let mut oversized = valid_raw.clone();
    oversized.resize(fanlic_formats::MAX_REVOCATION_FILE_LEN + 1, 0);
    g.file("oversized.bin", oversized)?;
    g.vector(
        "oversized",
        "oversized.bin",
        "The valid file padded with zero bytes to 65537 bytes, one more than a revocation list file may have.",
        None,
        refused("bad_encoding", Some("TooLong")),
    );

    let manifest = RevocationManifest {
        comment: "TEST-ONLY fanlic revocation-list vectors (SPEC.md §5). Every key is published in fixtures/keys: \
                  trust nothing signed by one. Generated; do not edit by hand."
            .into(),
        regenerate: REGENERATE.into(),
        vectors: g.vectors,
    };
    let mut json = serde_json::to_string_pretty(&manifest)?;
    json.push('\n');
    let path = "vectors/revocations/manifest.json".to_owned();
    g.files.insert(path, json.into_bytes());
    Ok(())
}

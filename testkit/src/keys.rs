//! TEST-ONLY Ed25519 keys, each derived from a fixed, published seed:
//! `seed = SHA-256("fanlic/TEST-ONLY/seed/" || name)`. Signing uses `ring`,
//! as the issuer does.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use fanlic_formats::KeyId;
use ring::signature::{Ed25519KeyPair, KeyPair as _};

use crate::{Error, Result};

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the 32 key
/// bytes follow.
pub const SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

/// DER prefix of a PKCS#8 v2 Ed25519 private key exactly as `ring` writes it
/// (`ed25519_pkcs8_v2_template.der`): then the seed, [`PKCS8_V2_MIDDLE`] and
/// the public key.
pub const PKCS8_V2_PREFIX: [u8; 16] =
    [0x30, 0x51, 0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
/// Between the seed and the public key in a PKCS#8 v2 document.
pub const PKCS8_V2_MIDDLE: [u8; 3] = [0x81, 0x21, 0x00];

/// A TEST-ONLY key pair.
#[derive(Debug)]
pub struct TestKey {
    /// File name stem, e.g. `root-a`.
    pub name: String,
    /// The private seed (published: this key is TEST-ONLY).
    pub seed: [u8; 32],
    pair: Ed25519KeyPair,
}

/// The seed of the test key called `name`.
pub fn seed_of(name: &str) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, format!("fanlic/TEST-ONLY/seed/{name}").as_bytes());
    let mut seed = [0u8; 32];
    seed.copy_from_slice(d.as_ref());
    seed
}

impl TestKey {
    /// The test key called `name`.
    pub fn new(name: &str) -> Result<Self> {
        let seed = seed_of(name);
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed)?;
        Ok(Self { name: name.to_owned(), seed, pair })
    }

    /// The raw public key.
    pub fn public(&self) -> [u8; 32] {
        let mut p = [0u8; 32];
        p.copy_from_slice(self.pair.public_key().as_ref());
        p
    }

    /// The key id.
    pub fn key_id(&self) -> KeyId {
        KeyId::of(&self.public())
    }

    /// Ed25519 signature over `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let mut s = [0u8; 64];
        s.copy_from_slice(self.pair.sign(message).as_ref());
        s
    }

    /// The PKCS#8 v2 document `ring` would write for this key.
    pub fn pkcs8(&self) -> Vec<u8> {
        [PKCS8_V2_PREFIX.as_slice(), &self.seed, &PKCS8_V2_MIDDLE, &self.public()].concat()
    }

    /// PEM `PRIVATE KEY` (PKCS#8 v2, as `ring` writes it).
    pub fn pkcs8_pem(&self) -> String {
        pem("PRIVATE KEY", &self.pkcs8())
    }

    /// PEM `PUBLIC KEY` (SubjectPublicKeyInfo).
    pub fn public_pem(&self) -> String {
        public_key_pem(&self.public())
    }
}

/// The SubjectPublicKeyInfo DER of a raw Ed25519 public key.
pub fn spki(public_key: &[u8; 32]) -> Vec<u8> {
    [SPKI_PREFIX.as_slice(), public_key].concat()
}

/// PEM `PUBLIC KEY` of a raw Ed25519 public key, as OpenSSL writes it.
pub fn public_key_pem(public_key: &[u8; 32]) -> String {
    pem("PUBLIC KEY", &spki(public_key))
}

/// A PEM block, 64 base64 characters a line, LF line endings.
pub fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The raw public key in a PEM `PUBLIC KEY` written by [`public_key_pem`].
pub fn public_key_from_pem(pem: &str) -> Result<[u8; 32]> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(body).map_err(|e| Error(format!("PEM base64: {e}")))?;
    let key = der.strip_prefix(SPKI_PREFIX.as_slice()).ok_or_else(|| Error("not an Ed25519 SPKI".into()))?;
    key.try_into().map_err(|_| Error("Ed25519 SPKI of the wrong length".into()))
}

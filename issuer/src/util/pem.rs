//! PEM files for keys: private keys as PKCS#8 (`PRIVATE KEY`), public keys
//! as SubjectPublicKeyInfo (`PUBLIC KEY`), the forms `openssl pkey` reads.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use zeroize::Zeroizing;

/// DER of an Ed25519 SubjectPublicKeyInfo up to the key: SEQUENCE {
/// SEQUENCE { OID 1.3.101.112 }, BIT STRING (0 unused bits) }, RFC 8410.
pub const ED25519_SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

/// The PEM label of a PKCS#8 private key.
pub const PRIVATE_KEY_LABEL: &str = "PRIVATE KEY";
/// The PEM label of a SubjectPublicKeyInfo.
pub const PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";

/// PEM text for `der` under `label`, base64 wrapped at 64 columns.
pub fn encode(label: &str, der: &[u8]) -> Zeroizing<String> {
    let b64 = Zeroizing::new(STANDARD.encode(der));
    let mut out = Zeroizing::new(String::with_capacity(b64.len() + 80));
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        // Base64 output is ASCII, so every chunk is UTF-8.
        out.push_str(core::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// The DER inside the first `label` block of `text`.
pub fn decode(label: &str, text: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut lines = text.lines().map(str::trim);
    if !lines.by_ref().any(|l| l == begin) {
        return Err(format!("no `{begin}` line (expected a PEM file)"));
    }
    let mut b64 = Zeroizing::new(String::new());
    let mut closed = false;
    for line in lines {
        if line == end {
            closed = true;
            break;
        }
        b64.push_str(line);
    }
    if !closed {
        return Err(format!("no `{end}` line"));
    }
    STANDARD.decode(b64.as_bytes()).map(Zeroizing::new).map_err(|e| format!("bad base64 in the PEM body: {e}"))
}

/// The DER SubjectPublicKeyInfo of an Ed25519 public key.
pub fn public_key_der(key: &[u8; 32]) -> Vec<u8> {
    let mut der = ED25519_SPKI_PREFIX.to_vec();
    der.extend_from_slice(key);
    der
}

/// PEM text of an Ed25519 public key.
pub fn public_key_pem(key: &[u8; 32]) -> String {
    encode(PUBLIC_KEY_LABEL, &public_key_der(key)).to_string()
}

/// An Ed25519 public key from a PEM SubjectPublicKeyInfo, or from 64 hex
/// digits (the form `fanlic init` prints).
pub fn parse_public_key(text: &str) -> Result<[u8; 32], String> {
    let trimmed = text.trim();
    if trimmed.len() == 64 && trimmed.bytes().all(|b| b.is_ascii_hexdigit()) {
        return crate::util::hex::decode_array(trimmed).ok_or_else(|| "bad hex".to_owned());
    }
    let der = decode(PUBLIC_KEY_LABEL, text)?;
    let key = der
        .strip_prefix(ED25519_SPKI_PREFIX.as_slice())
        .ok_or_else(|| "not an Ed25519 public key (expected an RFC 8410 SubjectPublicKeyInfo)".to_owned())?;
    <[u8; 32]>::try_from(key).map_err(|_| format!("an Ed25519 public key has 32 bytes, this one {}", key.len()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn public_key_round_trip() {
        let key = [7u8; 32];
        let pem = public_key_pem(&key);
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA"));
        assert_eq!(parse_public_key(&pem).unwrap(), key);
        assert_eq!(parse_public_key(&crate::util::hex::encode(&key)).unwrap(), key);
        assert!(parse_public_key("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").is_err());
        assert!(parse_public_key("hello").is_err());
    }
}

//! Key files (SPEC.md §3.5): private keys are PKCS#8 documents of Ed25519
//! keys in PEM with the label `PRIVATE KEY`, in files of mode 0600; public
//! keys are PEM `PUBLIC KEY`.
//!
//! Keys are written as PKCS#8 v1 (the seed only, RFC 8410 §7), the form
//! `openssl genpkey` writes and OpenSSL 3.0 reads, like the issuer's and the
//! image key; v2 (seed and public key, as `ring` makes it) is also read,
//! so a key made by other tools loads.

use std::{
    fs,
    io::Write as _,
    os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _},
    path::Path,
};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use ed25519_dalek::SigningKey;
use fanlic_verifier::RootKey;
use zeroize::{Zeroize as _, Zeroizing};

use crate::Error;

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the key follows.
pub const SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
/// DER prefix of a PKCS#8 v1 Ed25519 key (RFC 8410 §7); the seed follows.
pub const PKCS8_V1_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
/// DER prefix of a PKCS#8 v2 Ed25519 key as `ring` writes it; then the seed,
/// [`PKCS8_V2_MIDDLE`] and the public key.
pub const PKCS8_V2_PREFIX: [u8; 16] =
    [0x30, 0x51, 0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
/// Between the seed and the public key of a PKCS#8 v2 document.
pub const PKCS8_V2_MIDDLE: [u8; 3] = [0x81, 0x21, 0x00];

/// Every PEM block labelled `label` in `text`, decoded. Text outside the
/// blocks is ignored (OpenSSL writes none, people add comments).
pub fn pem_blocks(text: &str, label: &str) -> Result<Vec<Vec<u8>>, String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut out = Vec::new();
    let mut body: Option<Zeroizing<String>> = None;
    for line in text.lines() {
        let line = line.trim();
        match &mut body {
            None if line == begin => body = Some(Zeroizing::new(String::new())),
            None => {}
            Some(b) if line == end => {
                let der = STANDARD.decode(b.as_bytes()).map_err(|e| format!("bad base64 in a {label} block: {e}"))?;
                out.push(der);
                body = None;
            }
            Some(b) => b.push_str(line),
        }
    }
    if body.is_some() {
        return Err(format!("a {label} block has no END line"));
    }
    Ok(out)
}

/// PEM text of `der` under `label`, 64 characters a line.
pub fn pem(label: &str, der: &[u8]) -> Zeroizing<String> {
    let b64 = Zeroizing::new(STANDARD.encode(der));
    let mut s = Zeroizing::new(format!("-----BEGIN {label}-----\n"));
    for chunk in b64.as_bytes().chunks(64) {
        s.push_str(&String::from_utf8_lossy(chunk));
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----\n"));
    s
}

/// The Ed25519 key of a PKCS#8 document, v1 or v2. A v2 document's public key
/// must be the seed's.
pub fn signing_key_from_pkcs8(der: &[u8]) -> Result<SigningKey, String> {
    let seed: &[u8] = if let Some(rest) = der.strip_prefix(PKCS8_V1_PREFIX.as_slice()) {
        rest
    } else if let Some(rest) = der.strip_prefix(PKCS8_V2_PREFIX.as_slice()) {
        let (seed, tail) = rest.split_at_checked(32).ok_or("the PKCS#8 document is truncated")?;
        let public = tail.strip_prefix(PKCS8_V2_MIDDLE.as_slice()).ok_or("not an Ed25519 PKCS#8 document")?;
        let key = SigningKey::from_bytes(&seed.try_into().map_err(|_| "the PKCS#8 document is truncated")?);
        if public != key.verifying_key().as_bytes() {
            return Err("the PKCS#8 document's public key is not its private key's".into());
        }
        seed
    } else {
        return Err("not an Ed25519 PKCS#8 document (RFC 8410)".into());
    };
    let mut bytes: [u8; 32] = seed.try_into().map_err(|_| "the PKCS#8 document has the wrong length")?;
    let key = SigningKey::from_bytes(&bytes);
    bytes.zeroize();
    Ok(key)
}

/// The PKCS#8 v1 document of a key (RFC 8410 §7): what every key file is
/// written as, since OpenSSL 3.0 cannot read v2.
pub fn pkcs8_v1(key: &SigningKey) -> Zeroizing<Vec<u8>> {
    Zeroizing::new([PKCS8_V1_PREFIX.as_slice(), key.as_bytes()].concat())
}

/// The PKCS#8 v2 document of a key, as `ring` writes it: read, never written.
pub fn pkcs8_v2(key: &SigningKey) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(
        [PKCS8_V2_PREFIX.as_slice(), key.as_bytes(), &PKCS8_V2_MIDDLE, key.verifying_key().as_bytes()].concat(),
    )
}

/// Refuses a private key file that others than its owner may read.
pub fn check_mode(path: &Path) -> Result<(), Error> {
    let mode = fs::metadata(path).map_err(Error::io(path, "cannot read"))?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::KeyFileMode { path: path.to_owned(), mode });
    }
    Ok(())
}

/// Reads an Ed25519 private key file (PKCS#8 PEM, mode 0600).
pub fn load_private_key(path: &Path) -> Result<SigningKey, Error> {
    check_mode(path)?;
    let text = Zeroizing::new(fs::read_to_string(path).map_err(Error::io(path, "cannot read"))?);
    let bad = |reason: String| Error::BadKeyFile { path: path.to_owned(), reason };
    let mut blocks = pem_blocks(&text, "PRIVATE KEY").map_err(bad)?;
    let [der] = blocks.as_mut_slice() else {
        return Err(bad("expected exactly one PEM PRIVATE KEY block (PKCS#8, Ed25519)".into()));
    };
    let key = signing_key_from_pkcs8(der).map_err(bad);
    der.zeroize();
    key
}

/// Writes a new private key file with mode 0600 (never over an existing one),
/// synced to disk with its folder.
pub fn write_private_key(path: &Path, key: &SigningKey) -> Result<(), Error> {
    let text = pem("PRIVATE KEY", &pkcs8_v1(key));
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(Error::io(path, "cannot create"))?;
    f.write_all(text.as_bytes()).and_then(|()| f.sync_all()).map_err(Error::io(path, "cannot write"))?;
    sync_parent(path)
}

/// A fresh Ed25519 key from the system's RNG.
pub fn generate_key() -> Result<SigningKey, Error> {
    let mut seed = Zeroizing::new([0u8; 32]);
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), seed.as_mut_slice())
        .map_err(|_| Error::Serve("the system random number generator failed".into()))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Fresh random bytes (nonces).
pub fn random<const N: usize>() -> Result<[u8; N], Error> {
    let mut b = [0u8; N];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b)
        .map_err(|_| Error::Serve("the system random number generator failed".into()))?;
    Ok(b)
}

/// fsyncs the folder holding `path`, so a new name survives a crash.
pub fn sync_parent(path: &Path) -> Result<(), Error> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::File::open(dir).and_then(|d| d.sync_all()).map_err(Error::io(dir, "cannot sync folder"))
}

/// The vendor root keys of `root-keys.pem`: one or more PEM `PUBLIC KEY`
/// blocks (SubjectPublicKeyInfo, Ed25519).
pub fn load_root_keys(path: &Path) -> Result<Vec<RootKey>, Error> {
    let text = fs::read_to_string(path).map_err(Error::io(path, "cannot read"))?;
    let bad = |reason: String| Error::BadKeyFile { path: path.to_owned(), reason };
    let blocks = pem_blocks(&text, "PUBLIC KEY").map_err(bad)?;
    if blocks.is_empty() {
        return Err(bad("no PEM PUBLIC KEY block: expected the vendor's root public keys".into()));
    }
    blocks
        .iter()
        .map(|der| {
            let raw: [u8; 32] = der
                .strip_prefix(SPKI_PREFIX.as_slice())
                .and_then(|k| k.try_into().ok())
                .ok_or_else(|| bad("a PUBLIC KEY block is not an Ed25519 key (RFC 8410)".into()))?;
            RootKey::from_bytes(&raw).map_err(|e| bad(format!("a PUBLIC KEY block is unusable: {e}")))
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // test code
mod tests {
    use super::*;

    #[test]
    fn pkcs8_v1_and_v2_give_the_same_key() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let v1 = [PKCS8_V1_PREFIX.as_slice(), &[9; 32]].concat();
        assert_eq!(signing_key_from_pkcs8(&v1).unwrap().as_bytes(), key.as_bytes());
        assert_eq!(signing_key_from_pkcs8(&pkcs8_v2(&key)).unwrap().as_bytes(), key.as_bytes());
        let mut bad = pkcs8_v2(&key).to_vec();
        if let Some(last) = bad.last_mut() {
            *last ^= 1;
        }
        assert!(signing_key_from_pkcs8(&bad).is_err());
        let text = pem("PRIVATE KEY", &v1);
        assert_eq!(pem_blocks(&text, "PRIVATE KEY").unwrap(), vec![v1]);
    }
}

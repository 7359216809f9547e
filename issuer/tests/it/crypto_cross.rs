//! Signing with ring and verifying with ed25519-dalek (the verifier's
//! library), and the other way round, plus PEM/PKCS#8 interop.

use ed25519_dalek::{Signature, Signer as _, SigningKey as DalekKey, VerifyingKey};
use fanlic_issuer::home::keys::SigningKey;
use fanlic_issuer::util::pem;
use ring::{
    rand::SystemRandom,
    signature::{ED25519, UnparsedPublicKey},
};

const MESSAGES: [&[u8]; 3] = [b"", b"fanlic/1/license\nsome payload", &[0xff; 1000]];

#[test]
fn ring_signs_dalek_verifies() {
    let rng = SystemRandom::new();
    for _ in 0..8 {
        let key = SigningKey::generate(&rng).unwrap();
        let vk = VerifyingKey::from_bytes(&key.public_key()).unwrap();
        for msg in MESSAGES {
            let sig = key.sign(msg);
            vk.verify_strict(msg, &Signature::from_bytes(&sig)).expect("dalek accepts ring's signature");
            // One flipped bit anywhere in the message is refused.
            if let Some(first) = msg.first() {
                let mut bad = msg.to_vec();
                bad[0] = first ^ 1;
                assert!(vk.verify_strict(&bad, &Signature::from_bytes(&sig)).is_err());
            }
        }
    }
}

#[test]
fn dalek_signs_ring_verifies() {
    let rng = SystemRandom::new();
    for _ in 0..8 {
        let seed: [u8; 32] = fanlic_issuer::home::keys::random(&rng).unwrap();
        let dalek = DalekKey::from_bytes(&seed);
        let public = dalek.verifying_key().to_bytes();
        let ring_pk = UnparsedPublicKey::new(&ED25519, public);
        for msg in MESSAGES {
            let sig = dalek.sign(msg).to_bytes();
            ring_pk.verify(msg, &sig).expect("ring accepts dalek's signature");
            let mut bad = sig;
            bad[10] ^= 0x40;
            assert!(ring_pk.verify(msg, &bad).is_err());
        }
    }
}

#[test]
fn both_derive_the_same_key_from_our_pkcs8() {
    let rng = SystemRandom::new();
    let key = SigningKey::generate(&rng).unwrap();
    let pem_text = key.private_key_pem();
    let der = pem::decode(pem::PRIVATE_KEY_LABEL, &pem_text).unwrap();
    // PKCS#8 v1 (RFC 8410): 16 bytes of header, then the 32-byte seed.
    assert_eq!(der.len(), 48);
    let seed: [u8; 32] = der[16..].try_into().unwrap();
    let dalek = DalekKey::from_bytes(&seed);
    assert_eq!(dalek.verifying_key().to_bytes(), key.public_key());
    // Same key, same message: Ed25519 is deterministic, so the signatures match.
    assert_eq!(dalek.sign(b"abc").to_bytes(), key.sign(b"abc"));
    // And the PEM loads back through ring.
    let again = SigningKey::from_pkcs8(&der).unwrap();
    assert_eq!(again.public_key(), key.public_key());
}

#[test]
fn ring_v2_documents_load_too() {
    let rng = SystemRandom::new();
    let doc = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let key = SigningKey::from_pkcs8(doc.as_ref()).unwrap();
    let pair = ring::signature::Ed25519KeyPair::from_pkcs8(doc.as_ref()).unwrap();
    use ring::signature::KeyPair as _;
    assert_eq!(pair.public_key().as_ref(), key.public_key().as_slice());
    assert!(SigningKey::from_pkcs8(b"not a key").is_err());
}

/// OpenSSL reads our PEM files. Fails (never skips) without `openssl`:
/// `.ci/run` installs it, so a pass always means OpenSSL was asked.
#[test]
fn openssl_reads_our_pem() {
    use std::process::Command;
    let found = Command::new("openssl").arg("version").output().map(|o| o.status.success()).unwrap_or(false);
    assert!(found, "this test needs the `openssl` command: apt-get install openssl");
    let dir = tempfile::tempdir().unwrap();
    let rng = SystemRandom::new();
    let key = SigningKey::generate(&rng).unwrap();
    let priv_path = dir.path().join("k.key.pem");
    let pub_path = dir.path().join("k.pub.pem");
    std::fs::write(&priv_path, key.private_key_pem().as_bytes()).unwrap();
    std::fs::write(&pub_path, key.public_key_pem()).unwrap();
    let out = Command::new("openssl").args(["pkey", "-pubin", "-in"]).arg(&pub_path).arg("-pubout").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), key.public_key_pem());
    let out = Command::new("openssl").args(["pkey", "-in"]).arg(&priv_path).arg("-pubout").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), key.public_key_pem());
    // And a key made by OpenSSL loads in fanlic.
    let theirs = dir.path().join("o.pem");
    let st = Command::new("openssl").args(["genpkey", "-algorithm", "ed25519", "-out"]).arg(&theirs).status().unwrap();
    assert!(st.success());
    let loaded = SigningKey::load(&theirs).unwrap();
    let out = Command::new("openssl").args(["pkey", "-in"]).arg(&theirs).arg("-pubout").output().unwrap();
    assert_eq!(pem::parse_public_key(&String::from_utf8(out.stdout).unwrap()).unwrap(), loaded.public_key());
}

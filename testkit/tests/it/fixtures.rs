//! The fixtures are what the generator makes; the keys are what they claim;
//! the OpenSSL parts are exactly the bytes the decoder says are signed.

use std::{collections::BTreeSet, fs, path::Path};

use fanlic_formats::{Envelope, IssuingKeyCertificate, KeyId, MAX_LICENSE_FILE_LEN, armor};
use fanlic_testkit::{Manifest, TestKey, fixtures_dir, generate, hex, keys, read_public_key, vectors::REGENERATE};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};

fn files_under(dir: &Path, prefix: &str, out: &mut BTreeSet<String>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries {
        let entry = entry.unwrap();
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type().unwrap().is_dir() {
            files_under(&entry.path(), &format!("{name}/"), out);
        } else {
            out.insert(name);
        }
    }
}

#[test]
fn fixtures_are_what_the_generator_makes() {
    let files = generate().unwrap();
    let again = generate().unwrap();
    assert!(files == again, "the generator is not deterministic");

    let root = fixtures_dir();
    let mut problems = Vec::new();
    for (path, bytes) in &files {
        match fs::read(root.join(path)) {
            Ok(on_disk) if on_disk == *bytes => {}
            Ok(_) => problems.push(format!("differs: fixtures/{path}")),
            Err(_) => problems.push(format!("missing: fixtures/{path}")),
        }
    }
    let mut on_disk = BTreeSet::new();
    files_under(&root.join("keys"), "keys/", &mut on_disk);
    files_under(&root.join("vectors"), "vectors/", &mut on_disk);
    for extra in on_disk.iter().filter(|p| !files.contains_key(*p)) {
        problems.push(format!("not generated: fixtures/{extra}"));
    }
    assert!(
        problems.is_empty(),
        "fixtures are out of date; run `{REGENERATE}` and review the diff:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn test_keys_are_what_they_claim() {
    let dir = fanlic_testkit::keys_dir();
    let readme = fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(readme.contains("TEST-ONLY"));
    let mut names = BTreeSet::new();
    for entry in fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(stem) = name.strip_suffix(".pub.raw") {
            names.insert(stem.to_owned());
        }
    }
    assert!(names.len() >= 7, "{names:?}");
    for name in &names {
        let public = read_public_key(name).unwrap();
        // The seed (the private part) makes the public key.
        let seed_hex = fs::read_to_string(dir.join(format!("{name}.TEST-ONLY.seed.hex"))).unwrap();
        let seed: Vec<u8> = (0..64).step_by(2).map(|i| u8::from_str_radix(&seed_hex[i..i + 2], 16).unwrap()).collect();
        assert_eq!(seed_hex, format!("{}\n", hex(&seed)));
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed).unwrap();
        assert_eq!(pair.public_key().as_ref(), public, "{name}: seed and public key disagree");
        // The PKCS#8 file is one ring reads, for the same key.
        let pem = fs::read_to_string(dir.join(format!("{name}.TEST-ONLY.pk8.pem"))).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64_decode(&body);
        let from_pkcs8 = Ed25519KeyPair::from_pkcs8(&der).unwrap();
        assert_eq!(from_pkcs8.public_key().as_ref(), public);
        // The PEM public key is the SPKI prefix and the raw key.
        let pub_pem = fs::read_to_string(dir.join(format!("{name}.pub.pem"))).unwrap();
        assert_eq!(keys::public_key_from_pem(&pub_pem).unwrap(), public);
        assert_eq!(pub_pem, keys::public_key_pem(&public));
        assert!(readme.contains(&format!("`{name}` | `{}`", KeyId::of(&public))), "{name} not in README");
        // And the generator's key of that name is the same.
        assert_eq!(TestKey::new(name).unwrap().public(), public);
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::{Engine as _, engine::general_purpose::STANDARD};
    STANDARD.decode(s).unwrap()
}

/// For every valid vector, the files OpenSSL checks are exactly the signed
/// messages and signatures `Envelope::decode` extracts, with the root key
/// the certificate names and the issuing key it certifies; and they verify.
#[test]
fn openssl_parts_are_what_the_decoder_extracts() {
    let manifest = Manifest::load().unwrap();
    let dir = fanlic_testkit::vectors_dir().join("openssl");
    let mut expected_files = BTreeSet::new();
    let mut checked = 0;
    for v in manifest.vectors.iter().filter(|v| v.expected.valid) {
        let input = v.read_file().unwrap();
        let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
        let raw = armor::unarmor(&input, &mut buf).unwrap();
        let envelope = Envelope::decode(raw).unwrap();
        let mut read = |suffix: &str| {
            let f = format!("{}.{suffix}", v.name);
            expected_files.insert(f.clone());
            fs::read(dir.join(&f)).unwrap_or_else(|e| panic!("openssl/{f}: {e}"))
        };
        assert_eq!(read("cert.msg"), envelope.certificate.message, "{}", v.name);
        assert_eq!(read("cert.sig"), envelope.certificate.signature, "{}", v.name);
        assert_eq!(read("license.msg"), envelope.license.message, "{}", v.name);
        assert_eq!(read("license.sig"), envelope.license.signature, "{}", v.name);

        let cert = IssuingKeyCertificate::decode(envelope.certificate.message).unwrap();
        let root_pem = String::from_utf8(read("cert.pub.pem")).unwrap();
        let root = keys::public_key_from_pem(&root_pem).unwrap();
        assert_eq!(KeyId::of(&root), cert.root_key_id, "{}: cert.pub.pem is not the certifying root", v.name);
        let trusted: Vec<[u8; 32]> = v.roots.iter().map(|r| read_public_key(r).unwrap()).collect();
        assert!(trusted.contains(&root), "{}: cert.pub.pem is not a trusted root", v.name);
        let issuing_pem = String::from_utf8(read("license.pub.pem")).unwrap();
        assert_eq!(keys::public_key_from_pem(&issuing_pem).unwrap(), cert.public_key, "{}", v.name);

        // ring (not the verifier's ed25519-dalek) agrees the signatures hold.
        let ring_ok =
            |key: &[u8], msg: &[u8], sig: &[u8]| UnparsedPublicKey::new(&ED25519, key).verify(msg, sig).is_ok();
        assert!(ring_ok(&root, envelope.certificate.message, &envelope.certificate.signature), "{}", v.name);
        assert!(ring_ok(&cert.public_key, envelope.license.message, &envelope.license.signature), "{}", v.name);
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} valid vectors");
    let mut on_disk = BTreeSet::new();
    files_under(&dir, "", &mut on_disk);
    assert_eq!(on_disk, expected_files, "openssl/ holds exactly the parts of the valid vectors");
}

/// The small-order vector is what it claims: non-strict Ed25519 would accept
/// its forged license signature, so only `verify_strict` stops it.
#[test]
fn small_order_vector_is_a_real_forgery_under_non_strict_verification() {
    let input = fs::read(fanlic_testkit::vectors_dir().join("small-order-issuing-key.lic")).unwrap();
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let raw = armor::unarmor(&input, &mut buf).unwrap();
    let envelope = Envelope::decode(raw).unwrap();
    let cert = IssuingKeyCertificate::decode(envelope.certificate.message).unwrap();
    let key = ed25519_dalek::VerifyingKey::from_bytes(&cert.public_key).unwrap();
    assert!(key.is_weak());
    let sig = ed25519_dalek::Signature::from_bytes(&envelope.license.signature);
    assert!(key.verify_strict(envelope.license.message, &sig).is_err());
    use ed25519_dalek::Verifier as _;
    assert!(key.verify(envelope.license.message, &sig).is_ok(), "non-strict verification accepts the forgery");
    assert!(key.verify(b"any other message", &sig).is_ok());
    // The certificate itself is validly signed by root-a.
    let root = read_public_key("root-a").unwrap();
    let root = ed25519_dalek::VerifyingKey::from_bytes(&root).unwrap();
    let cert_sig = ed25519_dalek::Signature::from_bytes(&envelope.certificate.signature);
    assert!(root.verify_strict(envelope.certificate.message, &cert_sig).is_ok());
}

//! Decoding then encoding gives back the bytes, byte for byte; and the
//! non-canonical vectors are what they claim (validly signed, read by plain
//! postcard, refused by the canonical decoder).

use fanlic_formats::{
    ActivationPolicy, CERTIFICATE_SIGNATURE_LABEL, DecodeError, Envelope, IssuingKeyCertificate, LICENSE_FILE_MAGIC,
    LICENSE_SIGNATURE_LABEL, License, MAX_LICENSE_FILE_LEN, armor, encode_certificate_body, encode_license_file,
    encode_license_payload, encode_license_payload_with_policy, wire,
};
use fanlic_testkit::{Manifest, Vector};
use ring::signature::{ED25519, UnparsedPublicKey};

fn raw_of(input: &[u8]) -> Option<Vec<u8>> {
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    armor::unarmor(input, &mut buf).ok().map(<[u8]>::to_vec)
}

#[test]
fn decode_then_encode_gives_the_same_bytes() {
    let manifest = Manifest::load().unwrap();
    let mut licenses = 0;
    for v in &manifest.vectors {
        let input = v.read_file().unwrap();
        let Some(raw) = raw_of(&input) else { continue };
        let Ok(envelope) = Envelope::decode(&raw) else { continue };
        let (c, l) = (envelope.certificate, envelope.license);
        // The envelope re-encodes to the raw file.
        assert_eq!(encode_license_file(c.message, &c.signature, l.message, &l.signature).unwrap(), raw, "{}", v.name);

        if let Ok(cert) = IssuingKeyCertificate::decode(c.message) {
            assert_eq!(IssuingKeyCertificate::from_wire(&cert.to_wire()), Ok(cert));
            assert_eq!(encode_certificate_body(&cert.to_wire()).unwrap(), c.message, "{}: certificate", v.name);
        } else {
            assert!(!v.expected.valid, "{}", v.name);
        }
        if let Ok(license) = License::decode(l.message) {
            // The wire struct has no activation_policy (a trailing optional
            // field, SPEC.md §2): it is given beside it.
            let policy = license.activation_policy;
            assert_eq!(License::from_wire_with_policy(&license.to_wire(), policy), Ok(license));
            assert_eq!(
                encode_license_payload_with_policy(&license.to_wire(), policy).unwrap(),
                l.message,
                "{}: license",
                v.name
            );
            if policy == ActivationPolicy::Code {
                assert_eq!(License::from_wire(&license.to_wire()), Ok(license));
                assert_eq!(encode_license_payload(&license.to_wire()).unwrap(), l.message, "{}: license", v.name);
            }
            licenses += 1;
        } else {
            assert!(!v.expected.valid, "{}", v.name);
        }
    }
    assert!(licenses >= 20, "only {licenses} licenses round-tripped");
}

#[test]
fn armor_decode_then_encode_gives_the_same_text() {
    let manifest = Manifest::load().unwrap();
    let mut checked = 0;
    for v in manifest.vectors.iter().filter(|v| v.expected.valid) {
        let input = v.read_file().unwrap();
        if input.starts_with(LICENSE_FILE_MAGIC) {
            continue; // raw
        }
        let text = String::from_utf8(input.clone()).unwrap();
        let raw = raw_of(&input).unwrap();
        let comments: Vec<&str> =
            armor::comments(&input).map(|c| core::str::from_utf8(c).unwrap().trim_end_matches('\r')).collect();
        let encoded = armor::encode(&raw, &comments).unwrap();
        if text.contains("\r\n") {
            assert_eq!(encoded.replace('\n', "\r\n"), text, "{} (CRLF)", v.name);
        } else {
            assert_eq!(encoded, text, "{}", v.name);
        }
        checked += 1;
    }
    assert!(checked >= 10);
}

fn vector(name: &str) -> Vector {
    Manifest::load().unwrap().vectors.into_iter().find(|v| v.name == name).unwrap()
}

/// The envelope and both signed messages of a vector, with both signatures
/// checked by ring against the certifying root and the certified key.
fn validly_signed_parts(name: &str) -> (Vec<u8>, Vec<u8>) {
    let v = vector(name);
    let raw = raw_of(&v.read_file().unwrap()).unwrap();
    let e = Envelope::decode(&raw).unwrap();
    let root = fanlic_testkit::read_public_key("root-a").unwrap();
    let ok = |key: &[u8], msg: &[u8], sig: &[u8]| UnparsedPublicKey::new(&ED25519, key).verify(msg, sig).is_ok();
    assert!(ok(&root, e.certificate.message, &e.certificate.signature), "{name}: certificate signature");
    // The certified key, read with plain postcard (the canonical decoder may refuse the certificate).
    let body = e.certificate.message.strip_prefix(CERTIFICATE_SIGNATURE_LABEL).unwrap();
    let (cert, _): (wire::CertificateBody, _) = postcard::take_from_bytes(body).unwrap();
    assert!(ok(&cert.public_key, e.license.message, &e.license.signature), "{name}: license signature");
    (e.certificate.message.to_vec(), e.license.message.to_vec())
}

#[test]
fn non_canonical_payloads_are_validly_signed_and_read_by_plain_postcard() {
    for (name, want) in [
        ("signed-overlong-varint-in-payload", DecodeError::NonCanonical),
        ("signed-trailing-byte-in-payload", DecodeError::TrailingBytes { count: 1 }),
    ] {
        let (_, license) = validly_signed_parts(name);
        let body = license.strip_prefix(LICENSE_SIGNATURE_LABEL).unwrap();
        // postcard alone reads it (and ignores the trailing byte)...
        let plain: wire::LicensePayload<'_> = postcard::take_from_bytes(body).unwrap().0;
        assert_eq!(plain.max_nodes, 1);
        assert!(License::from_wire(&plain).is_ok(), "{name}: every field is fine");
        // ...the canonical decoder refuses it.
        assert_eq!(License::decode(&license), Err(want), "{name}");
    }
}

#[test]
fn non_canonical_certificate_is_validly_signed_and_read_by_plain_postcard() {
    let (cert, _) = validly_signed_parts("signed-overlong-varint-in-certificate");
    let body = cert.strip_prefix(CERTIFICATE_SIGNATURE_LABEL).unwrap();
    let plain: wire::CertificateBody = postcard::from_bytes(body).unwrap();
    assert!(IssuingKeyCertificate::from_wire(&plain).is_ok());
    assert_eq!(IssuingKeyCertificate::decode(&cert), Err(DecodeError::NonCanonical));
}

#[test]
fn invalid_fields_are_validly_signed() {
    let (cert, _) = validly_signed_parts("certificate-key-id-mismatch");
    assert!(matches!(IssuingKeyCertificate::decode(&cert), Err(DecodeError::Invalid { field: "key_id", .. })));
    let (_, license) = validly_signed_parts("signed-max-nodes-zero");
    assert!(matches!(License::decode(&license), Err(DecodeError::Invalid { field: "max_nodes", .. })));
    let (_, license) = validly_signed_parts("signed-license-missing-label");
    assert!(matches!(License::decode(&license), Err(DecodeError::Invalid { field: "license", .. })));
    for name in ["issuing-key-outside-window", "kind-not-certified"] {
        let (cert, license) = validly_signed_parts(name);
        assert!(IssuingKeyCertificate::decode(&cert).is_ok() && License::decode(&license).is_ok(), "{name}");
    }
}

#[test]
fn overlong_envelope_length_wraps_intact_messages() {
    let v = vector("overlong-varint-envelope-length");
    let raw = raw_of(&v.read_file().unwrap()).unwrap();
    assert_eq!(Envelope::decode(&raw), Err(DecodeError::NonCanonical));
    // postcard alone reads it, and finds the basic license's exact messages.
    let rest = raw.strip_prefix(LICENSE_FILE_MAGIC.as_slice()).unwrap();
    let plain: wire::LicenseFile<'_> = postcard::from_bytes(rest).unwrap();
    let basic = raw_of(&vector("valid-local-container").read_file().unwrap()).unwrap();
    let basic = Envelope::decode(&basic).unwrap();
    assert_eq!(plain.certificate.message, basic.certificate.message);
    assert_eq!(plain.license.message, basic.license.message);
    assert_eq!(plain.license.signature.0, basic.license.signature);
}

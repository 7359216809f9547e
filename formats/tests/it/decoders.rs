//! The decoders against the TEST-ONLY fixtures (`fixtures/vectors/`, made by
//! `cargo run -p fanlic-testkit --bin gen-vectors`) and against arbitrary input:
//! they never panic, and they are injective (two different accepted inputs
//! never decode to the same value, so each value has one encoding).

use fanlic_formats::{
    CERTIFICATE_SIGNATURE_LABEL, DecodeError, Envelope, IssuingKeyCertificate, KeyId, LICENSE_FILE_MAGIC,
    LICENSE_SIGNATURE_LABEL, License, LicenseKind, MAX_LICENSE_FILE_LEN, armor,
};
use proptest::prelude::*;

const RAW: &[u8] = include_bytes!("../../../fixtures/vectors/valid-raw.bin");
const ALL_FIELDS: &[u8] = include_bytes!("../../../fixtures/vectors/valid-all-optional-fields.lic");
const ROOT_A: &[u8; 32] = include_bytes!("../../../fixtures/keys/root-a.pub.raw");
const ISSUING_A: &[u8; 32] = include_bytes!("../../../fixtures/keys/issuing-a.pub.raw");
const OVERLONG_PAYLOAD: &[u8] = include_bytes!("../../../fixtures/vectors/signed-overlong-varint-in-payload.lic");
const TRAILING_PAYLOAD: &[u8] = include_bytes!("../../../fixtures/vectors/signed-trailing-byte-in-payload.lic");
const EXPLICIT_CODE: &[u8] = include_bytes!("../../../fixtures/vectors/signed-explicit-code-policy.lic");
const OVERLONG_LENGTH: &[u8] = include_bytes!("../../../fixtures/vectors/overlong-varint-envelope-length.lic");

fn unarmored(input: &[u8]) -> Vec<u8> {
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    armor::unarmor(input, &mut buf).unwrap().to_vec()
}

#[test]
fn the_raw_fixture_decodes() {
    let e = Envelope::decode(RAW).unwrap();
    assert!(e.certificate.message.starts_with(CERTIFICATE_SIGNATURE_LABEL));
    assert!(e.license.message.starts_with(LICENSE_SIGNATURE_LABEL));
    let cert = IssuingKeyCertificate::decode(e.certificate.message).unwrap();
    assert_eq!(cert.root_key_id, KeyId::of(ROOT_A));
    assert_eq!(cert.key_id, KeyId::of(ISSUING_A));
    assert_eq!(cert.public_key, *ISSUING_A);
    let l = License::decode(e.license.message).unwrap();
    assert_eq!((l.app_name, l.project, l.company), ("FineReport", "webroot", "Example Test Co."));
    assert_eq!(l.kind, LicenseKind::LocalContainer);
    assert!(cert.may_sign_at(l.issued_at));
}

#[test]
fn every_optional_field_decodes() {
    let raw = unarmored(ALL_FIELDS);
    let e = Envelope::decode(&raw).unwrap();
    let l = License::decode(e.license.message).unwrap();
    assert!(l.activation_key.is_some());
    assert_eq!(l.activation_base_url, Some("https://activation.example.test/fanlic/v1"));
    assert!(l.image_public_key.is_some() && l.supersedes.is_some() && l.request_email_sha256.is_some());
    // The activation key never reaches a log.
    assert!(format!("{l:?}").contains("<redacted>"));
}

#[test]
fn the_non_canonical_fixtures_are_refused() {
    let license = |file: &[u8]| {
        let raw = unarmored(file);
        let message = Envelope::decode(&raw).unwrap().license.message.to_vec();
        License::decode(&message).map(|_| ())
    };
    assert_eq!(license(OVERLONG_PAYLOAD), Err(DecodeError::NonCanonical));
    assert_eq!(license(TRAILING_PAYLOAD), Err(DecodeError::TrailingBytes { count: 1 }));
    assert!(matches!(license(EXPLICIT_CODE), Err(DecodeError::Invalid { field: "activation_policy", .. })));
    assert_eq!(Envelope::decode(&unarmored(OVERLONG_LENGTH)), Err(DecodeError::NonCanonical));
}

#[test]
fn envelope_limits() {
    let mut long = RAW.to_vec();
    long.resize(MAX_LICENSE_FILE_LEN + 1, 0);
    assert_eq!(
        Envelope::decode(&long),
        Err(DecodeError::TooLong { len: MAX_LICENSE_FILE_LEN + 1, max: MAX_LICENSE_FILE_LEN })
    );
    assert_eq!(Envelope::decode(b""), Err(DecodeError::UnknownMagic));
    assert_eq!(Envelope::decode(LICENSE_FILE_MAGIC), Err(DecodeError::Malformed));
    for cut in 0..RAW.len() {
        assert!(Envelope::decode(&RAW[..cut]).is_err(), "a prefix of {cut} bytes decoded");
    }
}

fn messages() -> (Vec<u8>, Vec<u8>) {
    let e = Envelope::decode(RAW).unwrap();
    (e.certificate.message.to_vec(), e.license.message.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2200)) {
        let _ = Envelope::decode(&bytes);
        let _ = License::decode(&bytes);
        let _ = IssuingKeyCertificate::decode(&bytes);
        let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
        let _ = armor::decode(&bytes, &mut buf);
        let mut small = [0u8; 8];
        let _ = armor::decode(&bytes, &mut small);
        let _ = armor::comments(&bytes).count();
    }

    #[test]
    fn arbitrary_bodies_after_the_labels_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = License::decode(&[LICENSE_SIGNATURE_LABEL, &bytes].concat());
        let _ = IssuingKeyCertificate::decode(&[CERTIFICATE_SIGNATURE_LABEL, &bytes].concat());
        let _ = Envelope::decode(&[LICENSE_FILE_MAGIC.as_slice(), &bytes].concat());
    }

    /// A one-byte change of a license message either is refused or decodes
    /// to a different license: no two encodings of one license.
    #[test]
    fn license_decoding_is_injective(offset in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let (_, message) = messages();
        let original = License::decode(&message).unwrap();
        let pos = offset.index(message.len());
        prop_assume!(message[pos] != byte);
        let mut changed = message.clone();
        changed[pos] = byte;
        if let Ok(l) = License::decode(&changed) {
            prop_assert_ne!(l, original);
        }
    }

    #[test]
    fn certificate_decoding_is_injective(offset in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let (message, _) = messages();
        let original = IssuingKeyCertificate::decode(&message).unwrap();
        let pos = offset.index(message.len());
        prop_assume!(message[pos] != byte);
        let mut changed = message.clone();
        changed[pos] = byte;
        if let Ok(c) = IssuingKeyCertificate::decode(&changed) {
            prop_assert_ne!(c, original);
        }
    }

    #[test]
    fn envelope_decoding_is_injective(offset in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let original = Envelope::decode(RAW).unwrap();
        let pos = offset.index(RAW.len());
        prop_assume!(RAW[pos] != byte);
        let mut changed = RAW.to_vec();
        changed[pos] = byte;
        if let Ok(e) = Envelope::decode(&changed) {
            prop_assert_ne!(e, original);
        }
    }
}

/// Encoding, with the `alloc` feature (on when the workspace's tests run
/// together; `cargo test -p fanlic-formats --features alloc` on its own).
#[cfg(feature = "alloc")]
mod encoding {
    use fanlic_formats::{encode_license_payload, wire};

    use super::*;

    /// Up to 42 characters: printable, no leading or trailing white space;
    /// non-ASCII (3 bytes a character, so at most 126 bytes) when `cjk`.
    fn text(cjk: bool) -> impl Strategy<Value = String> {
        let c = if cjk { "A-Za-z0-9\u{4e00}-\u{4e10}" } else { "A-Za-z0-9" };
        prop::string::string_regex(&format!("[{c}]([{c} .]{{0,40}}[{c}.])?")).unwrap()
    }

    /// SPEC.md §3.1 allows raw files of up to 2048 bytes, so armor must
    /// carry every such length. Regression: `armor::decode` refused 2047- and
    /// 2048-byte bodies with `TooLong`, because its space check assumed 3
    /// bytes per 4 characters and ignored `=` padding; one more byte is refused.
    #[test]
    fn armor_carries_every_length_up_to_the_limit() {
        for n in (1..MAX_LICENSE_FILE_LEN - 64).step_by(7).chain(MAX_LICENSE_FILE_LEN - 64..=MAX_LICENSE_FILE_LEN) {
            let raw: Vec<u8> = (0..n).map(|i| (i * 7 + 3) as u8).collect();
            let text = armor::encode(&raw, &[]).unwrap();
            let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
            assert_eq!(armor::decode(text.as_bytes(), &mut buf), Ok(raw.as_slice()), "{n} bytes");
        }
        let raw = vec![7u8; MAX_LICENSE_FILE_LEN + 1];
        let text = armor::encode(&raw, &[]).unwrap();
        let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
        assert_eq!(armor::decode(text.as_bytes(), &mut buf), Err(armor::ArmorError::TooLong));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn armor_round_trips(raw in prop::collection::vec(any::<u8>(), 1..=MAX_LICENSE_FILE_LEN), crlf in any::<bool>()) {
            let text = armor::encode(&raw, &["# comment"]).unwrap();
            let text = if crlf { text.replace('\n', "\r\n") } else { text };
            let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
            prop_assert_eq!(armor::decode(text.as_bytes(), &mut buf), Ok(raw.as_slice()));
        }

        #[test]
        fn license_payloads_round_trip(
            app in text(false), company in text(true), project in text(true),
            id in any::<[u8; 16]>(), issued in any::<u64>(), not_before in any::<u64>(),
            max_nodes in 1u32.., version in any::<(u16, u16)>(), cloud in any::<bool>(),
            key in any::<Option<[u8; 32]>>(), supersedes in any::<Option<[u8; 16]>>(),
        ) {
            prop_assume!(id != [0; 16]);
            let payload = wire::LicensePayload {
                license_id: id,
                kind: if cloud { wire::Kind::PrivateCloud } else { wire::Kind::LocalContainer },
                app_name: &app,
                company: &company,
                project: &project,
                contract_signed: wire::Date { year: 2025, month: 2, day: 28 },
                issued_at: issued,
                not_before,
                expiry: wire::Expiry::On(wire::Date { year: 2028, month: 2, day: 29 }),
                version: wire::Version { major: version.0, minor: version.1 },
                max_nodes,
                activation_key: key,
                activation_base_url: None,
                image_public_key: None,
                supersedes,
                request_email_sha256: key,
            };
            let message = encode_license_payload(&payload).unwrap();
            let license = License::decode(&message).unwrap();
            prop_assert_eq!(license.to_wire(), payload);
            prop_assert_eq!(encode_license_payload(&license.to_wire()).unwrap(), message);
        }
    }
}

//! Every decoder on arbitrary bytes: armor, envelope, certificate, license.
//! Besides "never panics", checks the canonical-encoding rule of SPEC.md §2:
//! whatever decodes re-encodes to exactly the same bytes.
#![no_main]

use fanlic_formats::{
    Envelope, IssuingKeyCertificate, License, MAX_LICENSE_FILE_LEN, armor, encode_certificate_body,
    encode_license_file, encode_license_payload,
};
use libfuzzer_sys::fuzz_target;

fn messages(raw: &[u8]) {
    let Ok(envelope) = Envelope::decode(raw) else { return };
    let again = encode_license_file(
        envelope.certificate.message,
        &envelope.certificate.signature,
        envelope.license.message,
        &envelope.license.signature,
    )
    .expect("a decoded envelope re-encodes");
    assert_eq!(again, raw, "envelope is not canonical");
    decode_certificate(envelope.certificate.message);
    decode_license(envelope.license.message);
}

fn decode_certificate(message: &[u8]) {
    if let Ok(c) = IssuingKeyCertificate::decode(message) {
        let again = encode_certificate_body(&c.to_wire()).expect("a decoded certificate re-encodes");
        assert_eq!(again, message, "certificate is not canonical");
    }
}

fn decode_license(message: &[u8]) {
    if let Ok(l) = License::decode(message) {
        let again = encode_license_payload(&l.to_wire()).expect("a decoded license re-encodes");
        assert_eq!(again, message, "license is not canonical");
        // Formatting never panics either (tools print what they decode).
        let _ = format!("{l:?} {} {} {}", l.id, l.version, l.expiry);
    }
}

fuzz_target!(|data: &[u8]| {
    // As a file: armored or raw, the verifier's first step.
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let _ = armor::comments(data).count();
    match armor::unarmor(data, &mut buf) {
        Ok(raw) => {
            // Raw input is returned as is; armored input is decoded into `buf`.
            let was_armored = raw.as_ptr() != data.as_ptr();
            let raw = raw.to_vec();
            if was_armored {
                // Armor round trip: our encoding of the body decodes to it again.
                let text = armor::encode(&raw, &["# fuzz"]).expect("armors");
                let mut buf2 = [0u8; MAX_LICENSE_FILE_LEN];
                assert_eq!(armor::unarmor(text.as_bytes(), &mut buf2).ok(), Some(raw.as_slice()));
            }
            messages(&raw);
        }
        Err(e) => {
            let _ = format!("{e}");
        }
    }
    // The same bytes as a signed message of each kind, so the body decoders
    // are reached without a valid envelope around them.
    decode_certificate(data);
    decode_license(data);
});

//! The decoders added with activation on arbitrary bytes (SPEC.md §5,
//! §6.1, §6.4): activation tokens (text and raw), challenge bodies, the
//! service's `open_challenge`, revocation files and lists, the verifier's
//! revocation-list check, and receipt files (raw and armored) and bodies.
//! Never panics; whatever decodes re-encodes to the same bytes.
#![no_main]

use fanlic_formats::{
    RevocationEnvelope, RevocationList, Timestamp,
    activation::{ActivationChallenge, MAX_CHALLENGE_BODY_LEN, MAX_TOKEN_LEN, Token, token_from_text},
    armor, encode_receipt_body,
    receipt::{MAX_RECEIPT_FILE_LEN, Receipt, ReceiptEnvelope},
};
use fanlic_verifier::{
    RootKey,
    activation::{ActivationKey, claimed_license_id, open_challenge},
    verify_revocations,
};
use libfuzzer_sys::fuzz_target;

fn token(raw: &[u8]) {
    let _ = claimed_license_id(raw);
    let _ = open_challenge(raw, &ActivationKey::from_bytes([7; 32]), Timestamp(1_790_000_000));
    if let Ok(t) = Token::split(raw)
        && let Ok(c) = ActivationChallenge::decode(t.body)
    {
        let mut buf = [0u8; MAX_CHALLENGE_BODY_LEN];
        assert_eq!(c.encode(&mut buf).expect("a decoded body re-encodes"), t.body, "body is not canonical");
    }
}

fn receipt_body(message: &[u8]) {
    if let Ok(r) = Receipt::decode(message) {
        assert_eq!(encode_receipt_body(&r).expect("a decoded receipt re-encodes"), message, "receipt is not canonical");
    }
}

fn receipt_file(raw: &[u8]) {
    if let Ok(env) = ReceiptEnvelope::decode(raw) {
        receipt_body(env.receipt.message);
    }
}

fuzz_target!(|data: &[u8]| {
    receipt_file(data);
    receipt_body(data);
    let mut buf = vec![0u8; MAX_RECEIPT_FILE_LEN];
    if let Ok(raw) = armor::decode_receipt(data, &mut buf) {
        receipt_file(raw);
    }
    token(data);
    if let Ok(text) = core::str::from_utf8(data) {
        let mut raw = [0u8; MAX_TOKEN_LEN];
        if let Ok(raw) = token_from_text(text, &mut raw) {
            token(raw);
        }
    }
    if let Ok(file) = RevocationEnvelope::decode(data) {
        let _ = RevocationList::decode(file.list.message);
    }
    let _ = RevocationList::decode(data);
    // The test root the revocation vectors are signed under, so seeds reach the signature checks.
    if let Ok(root) = RootKey::from_bytes(include_bytes!("../../fixtures/keys/root-a.pub.raw")) {
        let _ = verify_revocations(data, &[root], Some(3));
    }
});

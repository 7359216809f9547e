//! Property tests of the verifier against the TEST-ONLY fixtures
//! (`fixtures/vectors/`, made by `cargo run -p fanlic-testkit --bin gen-vectors`):
//!
//! - any one-byte change anywhere in a raw license file (magic, envelope,
//!   certificate, payload, signatures) fails with exactly one cause,
//!   `content_incorrect`, and no license;
//! - any one-character change in the armored base64 body fails the same way;
//! - arbitrary bytes, arbitrary text around BEGIN/END, and random mutations of
//!   a valid file never panic, and a mutated raw file verifies only if it is
//!   the original (non-malleability).

use fanlic_formats::{LicenseKind, MAX_LICENSE_FILE_LEN, Timestamp, armor};
use fanlic_verifier::{Cause, Environment, RootKey, authenticate, check, verify};
use proptest::prelude::*;

const RAW: &[u8] = include_bytes!("../../../fixtures/vectors/valid-raw.bin");
const ARMORED: &[u8] = include_bytes!("../../../fixtures/vectors/valid-local-container.lic");
const COMMENTED: &[u8] = include_bytes!("../../../fixtures/vectors/valid-with-comments.lic");
const ROOT_A: &[u8; 32] = include_bytes!("../../../fixtures/keys/root-a.pub.raw");
const ROOT_B: &[u8; 32] = include_bytes!("../../../fixtures/keys/root-b.pub.raw");

/// The environment the valid fixtures verify in.
fn env() -> Environment<'static> {
    Environment {
        app_name: "FineReport",
        version: "11.0",
        project: "webroot",
        nodes: 1,
        method: LicenseKind::LocalContainer,
        now: Timestamp(1_780_272_000), // 2026-06-01T00:00:00Z
        last_seen: None,
    }
}

fn roots() -> [RootKey; 2] {
    [RootKey::from_bytes(ROOT_A).unwrap(), RootKey::from_bytes(ROOT_B).unwrap()]
}

/// Whether `input` verifies.
fn verifies(input: &[u8]) -> bool {
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    verify(input, &mut buf, &roots(), &env()).is_ok()
}

/// Asserts `input` fails with exactly one cause, `content_incorrect`, and
/// returns no license. (`verify` is `authenticate` then `check`; the
/// manifest tests in `fanlic-testkit` run both entry points on every vector.)
fn assert_content_incorrect(input: &[u8]) -> Result<(), TestCaseError> {
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let rejection = match verify(input, &mut buf, &roots(), &env()) {
        Ok(_) => return Err(TestCaseError::fail("a changed file verified")),
        Err(r) => r,
    };
    let causes: Vec<_> = rejection.causes().collect();
    prop_assert_eq!(causes.len(), 1, "causes: {:?}", causes);
    prop_assert!(matches!(causes[0], Cause::ContentIncorrect(_)), "cause: {:?}", causes[0]);
    prop_assert!(rejection.license().is_none());
    Ok(())
}

/// Proptest settings: `cases` (each case of the signature properties costs
/// one or two Ed25519 verifications, ~10 ms each in a debug build), unless
/// `PROPTEST_CASES` says otherwise; no persistence files in the source tree.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(cases);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Runs every entry point and decoder on `input`; they must not panic.
fn exercise(input: &[u8]) {
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let _ = verify(input, &mut buf, &roots(), &env());
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    if let Ok(signed) = authenticate(input, &mut buf, &roots()) {
        let _ = check(signed, &env());
    }
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let _ = armor::unarmor(input, &mut buf);
    let mut small = [0u8; 16];
    let _ = armor::decode(input, &mut small);
    let _ = armor::comments(input).count();
}

/// The byte range of the armored body: after the BEGIN line, up to the END line.
fn body_range(armored: &[u8]) -> core::ops::Range<usize> {
    let text = core::str::from_utf8(armored).unwrap();
    let start = text.find(armor::BEGIN).unwrap() + armor::BEGIN.len() + 1;
    // After BEGIN: a comment line may be an END line.
    let end = start + text[start..].find(armor::END).unwrap();
    start..end
}

#[test]
fn fixtures_verify_as_they_are() {
    assert!(verifies(RAW));
    assert!(verifies(ARMORED));
    assert!(verifies(COMMENTED));
}

/// The structural bytes of the raw file: the magic, each length varint, and
/// the first and last bytes of each message and signature.
fn structural_positions() -> Vec<usize> {
    let magic = 17;
    let mut at = magic;
    let mut positions: Vec<usize> = (0..magic).collect();
    for _ in 0..2 {
        // A message: varint length (one or two bytes here), bytes, then a 64-byte signature.
        let (len, varint_len) = if RAW[at] & 0x80 == 0 {
            (usize::from(RAW[at]), 1)
        } else {
            (usize::from(RAW[at] & 0x7f) | usize::from(RAW[at + 1]) << 7, 2)
        };
        positions.extend(at..at + varint_len);
        let msg = at + varint_len;
        let sig = msg + len;
        positions.extend([msg, sig - 1, sig, sig + 31, sig + 32, sig + 63]);
        at = sig + 64;
    }
    assert_eq!(at, RAW.len(), "the raw fixture is magic and two signed bodies");
    positions
}

/// A deterministic sweep over the structural bytes, lowest and highest bit.
#[test]
fn bit_flips_in_the_structure_of_the_raw_file_fail() {
    for pos in structural_positions() {
        for bit in [0x01, 0x80] {
            let mut changed = RAW.to_vec();
            changed[pos] ^= bit;
            if let Err(e) = assert_content_incorrect(&changed) {
                panic!("byte {pos} ^ {bit:#x}: {e}");
            }
        }
    }
}

/// Every byte of the raw file, lowest bit flipped: slow in a debug build
/// (~10 s), so run on request: `cargo test -p fanlic-verifier -- --ignored`.
#[test]
#[ignore = "slow in debug builds; the proptest samples the same property"]
fn every_bit_flip_of_the_low_bit_in_the_raw_file_fails() {
    for pos in 0..RAW.len() {
        let mut changed = RAW.to_vec();
        changed[pos] ^= 0x01;
        if let Err(e) = assert_content_incorrect(&changed) {
            panic!("byte {pos}: {e}");
        }
    }
}

/// A fresh file of arbitrary lines: BEGIN, END, real body lines, base64-ish
/// text, anything; joined with LF or CRLF.
fn line() -> impl Strategy<Value = String> {
    let body: Vec<String> =
        core::str::from_utf8(ARMORED).unwrap().lines().filter(|l| !l.starts_with("-----")).map(str::to_owned).collect();
    prop_oneof![
        Just(armor::BEGIN.to_owned()),
        Just(armor::END.to_owned()),
        Just(String::new()),
        proptest::sample::select(body),
        "[A-Za-z0-9+/=]{0,70}",
        "[A-Za-z0-9+/=\r -]{0,80}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn any_one_byte_change_in_the_raw_file_fails(pos in 0..RAW.len(), byte in any::<u8>()) {
        prop_assume!(RAW[pos] != byte);
        let mut changed = RAW.to_vec();
        changed[pos] = byte;
        assert_content_incorrect(&changed)?;
    }

    #[test]
    fn any_one_character_change_in_the_armored_body_fails(offset in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let body = body_range(ARMORED);
        let pos = body.start + offset.index(body.len());
        prop_assume!(ARMORED[pos] != byte);
        let mut changed = ARMORED.to_vec();
        changed[pos] = byte;
        assert_content_incorrect(&changed)?;
    }

    #[test]
    fn any_one_character_change_in_the_armored_body_fails_with_comments(
        offset in any::<prop::sample::Index>(),
        c in "[A-Za-z0-9+/=\n\r -]",
    ) {
        let body = body_range(COMMENTED);
        let pos = body.start + offset.index(body.len());
        let byte = c.as_bytes()[0];
        prop_assume!(COMMENTED[pos] != byte);
        let mut changed = COMMENTED.to_vec();
        changed[pos] = byte;
        assert_content_incorrect(&changed)?;
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2200), magic in any::<bool>()) {
        let input = if magic { [b"FANLIC-LICENSE/1\n".as_slice(), &bytes].concat() } else { bytes };
        exercise(&input);
        prop_assert!(!verifies(&input) || input == RAW);
    }

    #[test]
    fn arbitrary_text_around_begin_end_never_panics(
        lines in prop::collection::vec(line(), 0..16),
        crlf in any::<bool>(),
        final_newline in any::<bool>(),
    ) {
        let mut text = lines.join(if crlf { "\r\n" } else { "\n" });
        if final_newline {
            text.push('\n');
        }
        exercise(text.as_bytes());
    }

    #[test]
    fn mutations_of_a_valid_file_never_panic(
        armored in any::<bool>(),
        ops in prop::collection::vec((0u8..5, any::<prop::sample::Index>(), any::<u8>(), 1usize..40), 1..6),
    ) {
        let mut data = if armored { ARMORED.to_vec() } else { RAW.to_vec() };
        for (op, at, byte, n) in ops {
            let i = at.index(data.len() + 1);
            match op {
                0 => data.insert(i, byte),
                1 if i < data.len() => { data.remove(i); }
                2 if i < data.len() => data[i] = byte,
                3 => data.truncate(i),
                _ => {
                    // Duplicate a range in place.
                    let end = (i + n).min(data.len());
                    let copy = data[i..end].to_vec();
                    data.splice(i..i, copy);
                }
            }
        }
        exercise(&data);
        if !armored {
            // Non-malleability: the raw file verifies only as it was issued.
            prop_assert_eq!(verifies(&data), data == RAW);
        }
    }
}

proptest! {
    // Each case verifies a valid license: two signature checks.
    #![proptest_config(config(48))]

    #[test]
    fn arbitrary_text_around_a_valid_license_never_panics(
        before in prop::collection::vec(line(), 0..4),
        after in prop::collection::vec(line(), 0..4),
    ) {
        let text = format!("{}\n{}{}", before.join("\n"), core::str::from_utf8(ARMORED).unwrap(), after.join("\n"));
        exercise(text.as_bytes());
    }
}

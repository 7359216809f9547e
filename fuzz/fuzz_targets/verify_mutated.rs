//! Structure-aware: edits one valid license (the `valid-local-container`
//! vector) field by field — the certificate message, its signature, the
//! license message, its signature, or the whole raw file — re-encodes it (so
//! length prefixes stay right and the edit reaches the signature checks), then
//! armors it with arbitrary comment lines and line endings, or not.
//!
//! Properties:
//! - no edit that changes the raw file's bytes is accepted (nothing is
//!   malleable: not a signature's `s + L`, not an encoding, not the armor's
//!   base64);
//! - an unedited file is accepted whatever its comments and line endings.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use fanlic_formats::{Envelope, LicenseKind, MAX_LICENSE_FILE_LEN, Timestamp, armor, encode_license_file};
use fanlic_verifier::{Environment, RootKey, verify};
use libfuzzer_sys::fuzz_target;

static ROOT_KEY: &[u8; 32] = include_bytes!("../../fixtures/keys/root-a.pub.raw");
static VALID: &[u8] = include_bytes!("../../fixtures/vectors/valid-local-container.lic");

struct Original {
    raw: Vec<u8>,
    cert_message: Vec<u8>,
    cert_signature: [u8; 64],
    license_message: Vec<u8>,
    license_signature: [u8; 64],
}

fn original() -> &'static Original {
    static O: OnceLock<Original> = OnceLock::new();
    O.get_or_init(|| {
        let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
        let raw = armor::unarmor(VALID, &mut buf).expect("the vector unarmors").to_vec();
        let e = Envelope::decode(&raw).expect("the vector decodes");
        Original {
            cert_message: e.certificate.message.to_vec(),
            cert_signature: e.certificate.signature,
            license_message: e.license.message.to_vec(),
            license_signature: e.license.signature,
            raw: raw.clone(),
        }
    })
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Part {
    CertMessage,
    CertSignature,
    LicenseMessage,
    LicenseSignature,
    RawFile,
}

#[derive(Arbitrary, Debug)]
enum Edit {
    Xor {
        at: u16,
        mask: u8,
    },
    Set {
        at: u16,
        byte: u8,
    },
    Insert {
        at: u16,
        byte: u8,
    },
    Remove {
        at: u16,
    },
    Truncate {
        len: u16,
    },
    Append {
        bytes: Vec<u8>,
    },
    /// For a signature: s + L, the classic malleation `verify_strict` refuses.
    AddGroupOrder,
}

#[derive(Arbitrary, Debug)]
struct Input {
    edits: Vec<(Part, Edit)>,
    armored: bool,
    crlf: bool,
    blank_lines_after_end: u8,
    comments: Vec<String>,
}

/// The order of the Ed25519 group, little-endian.
const L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

fn edit_bytes(v: &mut Vec<u8>, e: &Edit) {
    let at = |i: u16, n: usize| if n == 0 { 0 } else { i as usize % n };
    match e {
        Edit::Xor { at: i, mask } if !v.is_empty() => {
            let i = at(*i, v.len());
            v[i] ^= mask;
        }
        Edit::Set { at: i, byte } if !v.is_empty() => {
            let i = at(*i, v.len());
            v[i] = *byte;
        }
        Edit::Insert { at: i, byte } => {
            let i = at(*i, v.len() + 1);
            v.insert(i, *byte);
        }
        Edit::Remove { at: i } if !v.is_empty() => {
            let i = at(*i, v.len());
            v.remove(i);
        }
        Edit::Truncate { len } => v.truncate(*len as usize),
        Edit::Append { bytes } => v.extend_from_slice(bytes),
        _ => {}
    }
}

fn edit_signature(sig: &mut [u8; 64], e: &Edit) {
    match e {
        Edit::AddGroupOrder => {
            let mut carry = 0u16;
            for (s, l) in sig[32..].iter_mut().zip(L) {
                let t = *s as u16 + l as u16 + carry;
                *s = t as u8;
                carry = t >> 8;
            }
        }
        other => {
            let mut v = sig.to_vec();
            edit_bytes(&mut v, other);
            v.resize(64, 0);
            sig.copy_from_slice(&v[..64]);
        }
    }
}

fuzz_target!(|input: Input| {
    let o = original();
    let (mut cm, mut cs, mut lm, mut ls) =
        (o.cert_message.clone(), o.cert_signature, o.license_message.clone(), o.license_signature);
    let mut raw_edits = Vec::new();
    for (part, e) in &input.edits {
        match part {
            Part::CertMessage => edit_bytes(&mut cm, e),
            Part::CertSignature => edit_signature(&mut cs, e),
            Part::LicenseMessage => edit_bytes(&mut lm, e),
            Part::LicenseSignature => edit_signature(&mut ls, e),
            Part::RawFile => raw_edits.push(e),
        }
    }
    let Ok(mut raw) = encode_license_file(&cm, &cs, &lm, &ls) else { return };
    for e in raw_edits {
        edit_bytes(&mut raw, e);
    }
    let file = if input.armored {
        let comments: Vec<&str> = input
            .comments
            .iter()
            .map(String::as_str)
            .filter(|c| !c.contains(['\n', '\r']) && *c != armor::BEGIN)
            .collect();
        if raw.len() > MAX_LICENSE_FILE_LEN {
            return;
        }
        // `encode` refuses a first comment that starts with `FANLIC-LICENSE/`
        // (found by this target; such input is read as a raw file).
        let Ok(mut text) = armor::encode(&raw, &comments) else { return };
        for _ in 0..input.blank_lines_after_end % 4 {
            text.push('\n');
        }
        if input.crlf {
            text = text.replace('\n', "\r\n");
        }
        text.into_bytes()
    } else {
        raw.clone()
    };

    let roots = [RootKey::from_bytes(ROOT_KEY).expect("root-a is a key")];
    let env = Environment {
        app_name: "FineReport",
        version: "11.0",
        project: "webroot",
        nodes: 1,
        method: LicenseKind::LocalContainer,
        now: Timestamp(1_780_272_000),
        last_seen: None,
    };
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let accepted = verify(&file, &mut buf, &roots, &env).is_ok();
    if raw == o.raw {
        assert!(accepted, "the unedited license was refused: {:?}", String::from_utf8_lossy(&file));
    } else {
        assert!(!accepted, "an edited license was accepted: {input:?}");
    }
});

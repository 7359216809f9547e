//! The license-vector generator's state and primitives: the keys, issuers
//! and fixed times every case signs with, signing a license file in each
//! form, and recording a vector and its expected outcome.

use std::collections::BTreeMap;

use fanlic_formats::{Timestamp, armor, encode_certificate_body, encode_license_file, encode_license_payload, wire};

use crate::{Env, Error, Expected, Files, Result, TestKey, Vector, id16, rfc3339};

use super::date;

/// The fixed time values of the vectors.
pub(super) struct Times {
    /// 2026-01-01T00:00:00Z: when every license is issued.
    pub(super) issued: Timestamp,
    /// 2026-06-01T00:00:00Z: the default "now".
    pub(super) now: Timestamp,
}

/// An issuing key with its certificate.
pub(super) struct Issuer<'k> {
    pub(super) root: &'k TestKey,
    pub(super) key: &'k TestKey,
    pub(super) cert_msg: Vec<u8>,
    pub(super) cert_sig: [u8; 64],
}

impl<'k> Issuer<'k> {
    pub(super) fn new(
        root: &'k TestKey,
        key: &'k TestKey,
        not_before: Timestamp,
        not_after: Timestamp,
        purposes: u32,
    ) -> Result<Self> {
        let body = wire::CertificateBody {
            root_key_id: root.key_id().0,
            key_id: key.key_id().0,
            public_key: key.public(),
            not_before: not_before.0,
            not_after: not_after.0,
            purposes,
        };
        let cert_msg = encode_certificate_body(&body)?;
        let cert_sig = root.sign(&cert_msg);
        Ok(Self { root, key, cert_msg, cert_sig })
    }
}

/// The signed parts of a file, for OpenSSL.
pub(super) struct Parts {
    pub(super) cert_msg: Vec<u8>,
    pub(super) cert_sig: [u8; 64],
    pub(super) root_public: [u8; 32],
    pub(super) license_msg: Vec<u8>,
    pub(super) license_sig: [u8; 64],
    pub(super) issuing_public: [u8; 32],
}

/// How a license file is written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Form<'c> {
    /// Armored, LF, with these unsigned comment lines.
    Armored(&'c [&'c str]),
    /// Armored, CRLF, with these comment lines.
    ArmoredCrlf(&'c [&'c str]),
    /// The raw binary file.
    Raw,
}

pub(super) fn armored(raw: &[u8], form: Form<'_>) -> Result<Vec<u8>> {
    Ok(match form {
        Form::Armored(c) => armor::encode(raw, c)?.into_bytes(),
        Form::ArmoredCrlf(c) => armor::encode(raw, c)?.replace('\n', "\r\n").into_bytes(),
        Form::Raw => raw.to_vec(),
    })
}

/// The base64 body lines of an armored file.
pub(super) fn body_lines(text: &str) -> Vec<&str> {
    text.lines().skip_while(|l| *l != armor::BEGIN).skip(1).take_while(|l| *l != armor::END).collect()
}

pub(super) struct Gen {
    pub(super) files: Files,
    pub(super) vectors: Vec<Vector>,
    pub(super) parts: BTreeMap<String, Parts>,
    pub(super) t: Times,
}

pub(super) fn valid() -> Expected {
    Expected { valid: true, causes: vec![], content_error: None, detail: None }
}

pub(super) fn causes(codes: &[&str]) -> Expected {
    Expected {
        valid: false,
        causes: codes.iter().map(|c| (*c).to_owned()).collect(),
        content_error: None,
        detail: None,
    }
}

pub(super) fn content(reason: &str, detail: Option<&str>) -> Expected {
    Expected {
        valid: false,
        causes: vec!["content_incorrect".to_owned()],
        content_error: Some(reason.to_owned()),
        detail: detail.map(str::to_owned),
    }
}

impl Gen {
    pub(super) fn env(&self) -> Env {
        Env {
            app_name: "FineReport".into(),
            version: "11.0".into(),
            project: "webroot".into(),
            nodes: 1,
            method: "local-container".into(),
            now: rfc3339(self.t.now),
            last_seen: None,
        }
    }

    /// The basic license: FineReport 11.0, project `webroot`, 1 node,
    /// local-container, expiring 2030-12-31, issued 2026-01-01T00:00:00Z.
    pub(super) fn payload(&self, id_name: &str) -> wire::LicensePayload<'static> {
        wire::LicensePayload {
            license_id: id16(id_name),
            kind: wire::Kind::LocalContainer,
            app_name: "FineReport",
            company: "Example Test Co.",
            project: "webroot",
            contract_signed: date(2025, 12, 15),
            issued_at: self.t.issued.0,
            not_before: self.t.issued.0,
            expiry: wire::Expiry::On(date(2030, 12, 31)),
            version: wire::Version { major: 11, minor: 0 },
            max_nodes: 1,
            activation_key: None,
            activation_base_url: None,
            image_public_key: None,
            supersedes: None,
            request_email_sha256: None,
        }
    }

    pub(super) fn put(&mut self, path: String, bytes: Vec<u8>) -> Result<()> {
        match self.files.get(&path) {
            Some(old) if *old != bytes => Err(Error(format!("{path} generated twice with different bytes"))),
            _ => {
                self.files.insert(path, bytes);
                Ok(())
            }
        }
    }

    pub(super) fn file(&mut self, name: &str, bytes: Vec<u8>) -> Result<()> {
        self.put(format!("vectors/{name}"), bytes)
    }

    /// Writes a license file whose parts are all as the issuer makes them and
    /// remembers its signed parts; returns the raw file.
    pub(super) fn signed(
        &mut self,
        file: &str,
        issuer: &Issuer<'_>,
        payload: &wire::LicensePayload<'_>,
        form: Form<'_>,
    ) -> Result<Vec<u8>> {
        let license_msg = encode_license_payload(payload)?;
        self.signed_message(file, issuer, license_msg, form)
    }

    /// Like [`Gen::signed`] with a license message given as bytes (which may
    /// be anything: it is signed as it is).
    pub(super) fn signed_message(
        &mut self,
        file: &str,
        issuer: &Issuer<'_>,
        license_msg: Vec<u8>,
        form: Form<'_>,
    ) -> Result<Vec<u8>> {
        let license_sig = issuer.key.sign(&license_msg);
        let raw = encode_license_file(&issuer.cert_msg, &issuer.cert_sig, &license_msg, &license_sig)?;
        self.file(file, armored(&raw, form)?)?;
        self.parts.insert(
            file.to_owned(),
            Parts {
                cert_msg: issuer.cert_msg.clone(),
                cert_sig: issuer.cert_sig,
                root_public: issuer.root.public(),
                license_msg,
                license_sig,
                issuing_public: issuer.key.public(),
            },
        );
        Ok(raw)
    }

    pub(super) fn vector(
        &mut self,
        name: &str,
        file: &str,
        description: &str,
        roots: &[&str],
        env: Env,
        expected: Expected,
    ) {
        self.vectors.push(Vector {
            name: name.to_owned(),
            file: file.to_owned(),
            description: description.to_owned(),
            roots: roots.iter().map(|r| (*r).to_owned()).collect(),
            env,
            expected,
        });
    }
}

/// Keys and their roles, in the order the README lists them.
pub(super) struct KeySet {
    pub(super) root_a: TestKey,
    pub(super) root_b: TestKey,
    pub(super) issuing_a: TestKey,
    pub(super) issuing_a2: TestKey,
    pub(super) issuing_expired_window: TestKey,
    pub(super) issuing_pc_only: TestKey,
    pub(super) issuing_b: TestKey,
    pub(super) receipt_a: TestKey,
}

impl KeySet {
    pub(super) fn new() -> Result<Self> {
        Ok(Self {
            root_a: TestKey::new("root-a")?,
            root_b: TestKey::new("root-b")?,
            issuing_a: TestKey::new("issuing-a")?,
            issuing_a2: TestKey::new("issuing-a2")?,
            issuing_expired_window: TestKey::new("issuing-expired-window")?,
            issuing_pc_only: TestKey::new("issuing-pc-only")?,
            issuing_b: TestKey::new("issuing-b")?,
            receipt_a: TestKey::new("receipt-a")?,
        })
    }
}

pub(super) const A: &[&str] = &["root-a"];

/// What every group of cases signs with: the keys, the issuers and their
/// certificates' windows and purposes, and the basic license.
pub(super) struct Base<'k> {
    pub(super) k: &'k KeySet,
    /// issuing-a: local-container and private-cloud.
    pub(super) ia: Issuer<'k>,
    /// issuing-a2: every purpose and reserved bit 31.
    pub(super) ia2: Issuer<'k>,
    /// issuing-expired-window: a window in 2024.
    pub(super) iold: Issuer<'k>,
    /// issuing-pc-only: private-cloud only.
    pub(super) ipc: Issuer<'k>,
    /// issuing-b, certified by the untrusted root-b.
    pub(super) ib: Issuer<'k>,
    pub(super) window_a: (Timestamp, Timestamp),
    pub(super) window_a2: (Timestamp, Timestamp),
    pub(super) window_old: (Timestamp, Timestamp),
    pub(super) local_and_cloud: u32,
    pub(super) ia2_purposes: u32,
    /// The basic license's payload, its file name, raw file and armored text.
    pub(super) basic: wire::LicensePayload<'static>,
    pub(super) basic_file: &'static str,
    pub(super) basic_raw: Vec<u8>,
    pub(super) basic_armored: String,
    /// 2027-01-01T00:00:00Z: the not_before of the vectors that test it.
    pub(super) not_before: Timestamp,
}

//! The deterministic generator of `fixtures/keys/` and `fixtures/vectors/`.
//!
//! Every byte written depends only on the constants here: seeds are fixed,
//! Ed25519 signing is deterministic, license ids are hashes of vector names,
//! and JSON is written in a fixed order.

use std::collections::BTreeMap;

use fanlic_formats::{
    CERTIFICATE_SIGNATURE_LABEL, Date, KeyId, LICENSE_FILE_MAGIC, LICENSE_SIGNATURE_LABEL, Purposes, Timestamp, armor,
    encode_certificate_body, encode_license_file, encode_license_payload, wire,
};

use crate::{Env, Error, Expected, Manifest, Result, TestKey, Vector, hex, keys, rfc3339};

/// Generated files: path relative to `fixtures/` (`keys/…`, `vectors/…`) → bytes.
pub type Files = BTreeMap<String, Vec<u8>>;

/// The command that regenerates the fixtures.
pub const REGENERATE: &str = "cargo run -p fanlic-testkit --bin gen-vectors";

fn ts(y: u16, m: u8, d: u8, h: u64, mi: u64, s: u64) -> Result<Timestamp> {
    let day = Date::new(y, m, d).ok_or_else(|| Error(format!("bad date {y}-{m}-{d}")))?;
    Ok(Timestamp(day.start().0 + h * 3600 + mi * 60 + s))
}

fn date(year: u16, month: u8, day: u8) -> wire::Date {
    wire::Date { year, month, day }
}

/// A 128-bit id derived from a name, never all zero in practice.
pub(crate) fn id16(name: &str) -> [u8; 16] {
    let d = ring::digest::digest(&ring::digest::SHA256, format!("fanlic/TEST-ONLY/license-id/{name}").as_bytes());
    let mut id = [0u8; 16];
    id.copy_from_slice(d.as_ref().get(..16).unwrap_or(&[1; 16]));
    id
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, data).as_ref());
    out
}

/// postcard varint (LEB128) of `v`.
pub fn varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let low = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(low);
            return out;
        }
        out.push(low | 0x80);
    }
}

/// The same value as [`varint`], one byte longer: an overlong, non-canonical
/// encoding that postcard itself still reads.
pub fn overlong_varint(v: u64) -> Vec<u8> {
    let mut out = varint(v);
    if let Some(last) = out.last_mut() {
        *last |= 0x80;
    }
    out.push(0);
    out
}

/// The fixed time values of the vectors.
struct Times {
    /// 2026-01-01T00:00:00Z: when every license is issued.
    issued: Timestamp,
    /// 2026-06-01T00:00:00Z: the default "now".
    now: Timestamp,
}

/// An issuing key with its certificate.
struct Issuer<'k> {
    root: &'k TestKey,
    key: &'k TestKey,
    cert_msg: Vec<u8>,
    cert_sig: [u8; 64],
}

impl<'k> Issuer<'k> {
    fn new(
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
struct Parts {
    cert_msg: Vec<u8>,
    cert_sig: [u8; 64],
    root_public: [u8; 32],
    license_msg: Vec<u8>,
    license_sig: [u8; 64],
    issuing_public: [u8; 32],
}

/// How a license file is written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form<'c> {
    /// Armored, LF, with these unsigned comment lines.
    Armored(&'c [&'c str]),
    /// Armored, CRLF, with these comment lines.
    ArmoredCrlf(&'c [&'c str]),
    /// The raw binary file.
    Raw,
}

fn armored(raw: &[u8], form: Form<'_>) -> Result<Vec<u8>> {
    Ok(match form {
        Form::Armored(c) => armor::encode(raw, c)?.into_bytes(),
        Form::ArmoredCrlf(c) => armor::encode(raw, c)?.replace('\n', "\r\n").into_bytes(),
        Form::Raw => raw.to_vec(),
    })
}

/// The base64 body lines of an armored file.
fn body_lines(text: &str) -> Vec<&str> {
    text.lines().skip_while(|l| *l != armor::BEGIN).skip(1).take_while(|l| *l != armor::END).collect()
}

struct Gen {
    files: Files,
    vectors: Vec<Vector>,
    parts: BTreeMap<String, Parts>,
    t: Times,
}

fn valid() -> Expected {
    Expected { valid: true, causes: vec![], content_error: None, detail: None }
}

fn causes(codes: &[&str]) -> Expected {
    Expected {
        valid: false,
        causes: codes.iter().map(|c| (*c).to_owned()).collect(),
        content_error: None,
        detail: None,
    }
}

fn content(reason: &str, detail: Option<&str>) -> Expected {
    Expected {
        valid: false,
        causes: vec!["content_incorrect".to_owned()],
        content_error: Some(reason.to_owned()),
        detail: detail.map(str::to_owned),
    }
}

impl Gen {
    fn env(&self) -> Env {
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
    fn payload(&self, id_name: &str) -> wire::LicensePayload<'static> {
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

    fn put(&mut self, path: String, bytes: Vec<u8>) -> Result<()> {
        match self.files.get(&path) {
            Some(old) if *old != bytes => Err(Error(format!("{path} generated twice with different bytes"))),
            _ => {
                self.files.insert(path, bytes);
                Ok(())
            }
        }
    }

    fn file(&mut self, name: &str, bytes: Vec<u8>) -> Result<()> {
        self.put(format!("vectors/{name}"), bytes)
    }

    /// Writes a license file whose parts are all as the issuer makes them and
    /// remembers its signed parts; returns the raw file.
    fn signed(
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
    fn signed_message(
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

    fn vector(&mut self, name: &str, file: &str, description: &str, roots: &[&str], env: Env, expected: Expected) {
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
struct KeySet {
    root_a: TestKey,
    root_b: TestKey,
    issuing_a: TestKey,
    issuing_a2: TestKey,
    issuing_expired_window: TestKey,
    issuing_pc_only: TestKey,
    issuing_b: TestKey,
    receipt_a: TestKey,
}

impl KeySet {
    fn new() -> Result<Self> {
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

const A: &[&str] = &["root-a"];

/// Generates every file of `fixtures/keys/` and `fixtures/vectors/`.
pub fn generate() -> Result<Files> {
    let k = KeySet::new()?;
    let t = Times { issued: ts(2026, 1, 1, 0, 0, 0)?, now: ts(2026, 6, 1, 0, 0, 0)? };
    let mut g = Gen { files: Files::new(), vectors: Vec::new(), parts: BTreeMap::new(), t };

    // --- issuing keys and their certificates ---
    let window_a = (ts(2025, 1, 1, 0, 0, 0)?, ts(2028, 12, 31, 23, 59, 59)?);
    let local_and_cloud = Purposes::LOCAL_CONTAINER | Purposes::PRIVATE_CLOUD;
    let ia = Issuer::new(&k.root_a, &k.issuing_a, window_a.0, window_a.1, local_and_cloud)?;
    // Reserved purpose bit 31 set: verifiers must ignore it.
    let ia2_purposes = Purposes::ALL | (1 << 31);
    let window_a2 = (ts(2026, 1, 1, 0, 0, 0)?, ts(2029, 12, 31, 23, 59, 59)?);
    let ia2 = Issuer::new(&k.root_a, &k.issuing_a2, window_a2.0, window_a2.1, ia2_purposes)?;
    let window_old = (ts(2024, 1, 1, 0, 0, 0)?, ts(2024, 12, 31, 23, 59, 59)?);
    let iold = Issuer::new(&k.root_a, &k.issuing_expired_window, window_old.0, window_old.1, local_and_cloud)?;
    let ipc = Issuer::new(&k.root_a, &k.issuing_pc_only, window_a.0, window_a.1, Purposes::PRIVATE_CLOUD)?;
    let ib = Issuer::new(&k.root_b, &k.issuing_b, window_a.0, window_a.1, local_and_cloud)?;

    let now = g.t.now;
    let basic = g.payload("valid-local-container");
    let basic_file = "valid-local-container.lic";
    let basic_raw = g.signed(basic_file, &ia, &basic, Form::Armored(&[]))?;
    let basic_armored = armor::encode(&basic_raw, &[])?;

    // ================= valid =================
    g.vector(
        "valid-local-container",
        basic_file,
        "The basic license: FineReport 11.0, project webroot, company Example Test Co., 1 node, local-container, \
         expires 2030-12-31, issued 2026-01-01T00:00:00Z by issuing-a (certified by root-a).",
        A,
        g.env(),
        valid(),
    );

    let mut p = g.payload("valid-private-cloud");
    p.kind = wire::Kind::PrivateCloud;
    g.signed("valid-private-cloud.lic", &ia, &p, Form::Armored(&[]))?;
    let env = Env { method: "private-cloud".into(), ..g.env() };
    g.vector(
        "valid-private-cloud",
        "valid-private-cloud.lic",
        "A private-cloud license, checked with the private-cloud method.",
        A,
        env,
        valid(),
    );

    let mut p = g.payload("valid-perpetual");
    p.expiry = wire::Expiry::Never;
    g.signed("valid-perpetual.lic", &ia, &p, Form::Armored(&[]))?;
    let env = Env { now: rfc3339(ts(2999, 12, 31, 23, 59, 59)?), ..g.env() };
    g.vector(
        "valid-perpetual",
        "valid-perpetual.lic",
        "A perpetual license (expiry never), checked at 2999-12-31T23:59:59Z: long after issuing-a's signing window \
         ended, which bounds when the key may sign, not how long its licenses last.",
        A,
        env,
        valid(),
    );

    let mut p = g.payload("valid-max-nodes-5");
    p.max_nodes = 5;
    g.signed("valid-max-nodes-5.lic", &ia, &p, Form::Armored(&[]))?;
    let env = Env { nodes: 5, ..g.env() };
    g.vector(
        "valid-max-nodes-5",
        "valid-max-nodes-5.lic",
        "max_nodes 5, with exactly 5 nodes in the cluster.",
        A,
        env,
        valid(),
    );

    let mut p = g.payload("valid-all-optional-fields");
    p.activation_key = Some(sha256(b"fanlic/TEST-ONLY/activation-key"));
    p.activation_base_url = Some("https://activation.example.test/fanlic/v1");
    p.image_public_key = Some(sha256(b"fanlic/TEST-ONLY/image-public-key"));
    p.supersedes = Some(basic.license_id);
    p.request_email_sha256 = Some(sha256(b"From: admin@example.test\r\nSubject: License request\r\n\r\nTEST-ONLY\r\n"));
    g.signed("valid-all-optional-fields.lic", &ia, &p, Form::Armored(&[]))?;
    g.vector(
        "valid-all-optional-fields",
        "valid-all-optional-fields.lic",
        "Every optional field filled: activation key, activation base URL, image public key, supersedes (the basic \
         license's id) and request email SHA-256.",
        A,
        g.env(),
        valid(),
    );

    let comments: &[&str] = &[
        "# fanlic license (unsigned comment lines: verifiers ignore them)",
        "# Company: Evil Corp    <- comments are not signed; the signed company is Example Test Co.",
        "# Expires: never",
        "# 测试许可证 TEST-ONLY (UTF-8 comment)",
        "",
        "-----END FANLIC LICENSE-----",
    ];
    let p = g.payload("valid-with-comments");
    g.signed("valid-with-comments.lic", &ia, &p, Form::Armored(comments))?;
    g.vector(
        "valid-with-comments",
        "valid-with-comments.lic",
        "Unsigned comment lines before BEGIN (a misleading company, UTF-8, an empty line, even an END line): ignored.",
        A,
        g.env(),
        valid(),
    );

    let p = g.payload("valid-crlf");
    g.signed("valid-crlf.lic", &ia, &p, Form::ArmoredCrlf(&["# CRLF line endings, as after a trip through mail"]))?;
    g.vector(
        "valid-crlf",
        "valid-crlf.lic",
        "Armored with CRLF line endings (and a comment line).",
        A,
        g.env(),
        valid(),
    );

    let p = g.payload("valid-raw");
    g.signed("valid-raw.bin", &ia, &p, Form::Raw)?;
    g.vector(
        "valid-raw",
        "valid-raw.bin",
        "The raw binary license file (starts with the magic), not armored.",
        A,
        g.env(),
        valid(),
    );

    let env = Env { version: "11.0.20".into(), ..g.env() };
    g.vector(
        "valid-local-version-patch",
        basic_file,
        "Local version 11.0.20 against licensed 11.0: major.minor match.",
        A,
        env,
        valid(),
    );

    // SPEC.md §4.2, the version rule's edges: major and minor compare as
    // numbers (leading zeros), the minor is the longest run of ASCII digits
    // after the first dot, and only ASCII digits are digits.
    for (name, local, description) in [
        (
            "valid-local-version-leading-zeros",
            "11.00.1",
            "Local version 11.00.1 against licensed 11.0: numbers compare by value, so 00 is 0.",
        ),
        (
            "valid-local-version-suffix",
            "11.0x",
            "Local version 11.0x against licensed 11.0: the minor is the digits after the first dot, up to the first non-digit.",
        ),
    ] {
        let env = Env { version: local.into(), ..g.env() };
        g.vector(name, basic_file, description, A, env, valid());
    }

    let p = g.payload("valid-rotated-issuing-key");
    g.signed("valid-rotated-issuing-key.lic", &ia2, &p, Form::Armored(&[]))?;
    g.vector(
        "valid-rotated-issuing-key",
        "valid-rotated-issuing-key.lic",
        "Signed by a second issuing key, issuing-a2, also certified by root-a (key rotation). Its certificate also \
         sets reserved purpose bit 31, which must be ignored.",
        A,
        g.env(),
        valid(),
    );

    let env = Env { now: rfc3339(ts(2030, 12, 31, 23, 59, 59)?), ..g.env() };
    g.vector(
        "valid-last-second-before-expiry",
        basic_file,
        "Checked at 2030-12-31T23:59:59Z, the last second of the expiry date.",
        A,
        env,
        valid(),
    );

    let not_before = ts(2027, 1, 1, 0, 0, 0)?;
    let mut p = g.payload("not-before-2027");
    p.not_before = not_before.0;
    g.signed("not-before-2027.lic", &ia, &p, Form::Armored(&[]))?;
    let env = Env { now: rfc3339(Timestamp(not_before.0 - 300)), ..g.env() };
    g.vector(
        "valid-not-before-within-tolerance",
        "not-before-2027.lic",
        "not_before 2027-01-01T00:00:00Z checked 300 s before it: within the clock tolerance.",
        A,
        env,
        valid(),
    );

    let env = Env { last_seen: Some(rfc3339(Timestamp(now.0 + 300))), ..g.env() };
    g.vector(
        "valid-clock-within-tolerance",
        basic_file,
        "The last-seen time is 300 s after now: within the clock tolerance.",
        A,
        env,
        valid(),
    );

    let p = g.payload("root-b");
    g.signed("root-b.lic", &ib, &p, Form::Armored(&[]))?;
    g.vector(
        "valid-root-b-trusted",
        "root-b.lic",
        "Certified by root-b, checked by a product that trusts root-a and root-b.",
        &["root-a", "root-b"],
        g.env(),
        valid(),
    );

    // ================= invalid claims, valid signatures =================
    let env = Env { now: rfc3339(ts(2031, 1, 1, 0, 0, 0)?), ..g.env() };
    g.vector(
        "license-expired",
        basic_file,
        "Checked at 2031-01-01T00:00:00Z, the first second after the expiry date 2030-12-31.",
        A,
        env,
        causes(&["license_expired"]),
    );
    let env = Env { version: "11.1.3".into(), ..g.env() };
    g.vector(
        "version-mismatch",
        basic_file,
        "Local version 11.1.3 against licensed 11.0.",
        A,
        env,
        causes(&["version_mismatch"]),
    );
    for (name, local, description) in [
        (
            "version-minor-01",
            "11.01",
            "Local version 11.01 against licensed 11.0: the minor is 1, not a string prefix match.",
        ),
        (
            "version-arabic-indic-digits",
            "\u{661}\u{661}.0",
            "Local version \u{661}\u{661}.0 (Arabic-Indic digits one one) against licensed 11.0: only ASCII digits are digits.",
        ),
        (
            "version-fullwidth-digits",
            "\u{ff11}\u{ff11}.0",
            "Local version \u{ff11}\u{ff11}.0 (fullwidth digits) against licensed 11.0: only ASCII digits are digits.",
        ),
        ("version-major-only", "11", "Local version 11 against licensed 11.0: no minor, so it matches nothing."),
        (
            "version-minor-overflow",
            "11.65536",
            "Local version 11.65536 against licensed 11.0: a number above 65535 matches nothing.",
        ),
    ] {
        let env = Env { version: local.into(), ..g.env() };
        g.vector(name, basic_file, description, A, env, causes(&["version_mismatch"]));
    }
    let env = Env { app_name: "FineBI".into(), ..g.env() };
    g.vector(
        "app-name-mismatch",
        basic_file,
        "Local application FineBI, licensed FineReport.",
        A,
        env,
        causes(&["app_name_mismatch"]),
    );
    let env = Env { nodes: 2, ..g.env() };
    g.vector(
        "license-exhausted",
        basic_file,
        "2 nodes in the cluster, 1 allowed.",
        A,
        env,
        causes(&["license_exhausted"]),
    );
    let env = Env { project: "Webroot".into(), ..g.env() };
    g.vector(
        "project-content-mismatch",
        basic_file,
        "Local project Webroot, licensed webroot: the comparison is exact.",
        A,
        env,
        causes(&["project_content_mismatch"]),
    );
    let env = Env { method: "private-cloud".into(), ..g.env() };
    g.vector(
        "license-type-mismatch",
        basic_file,
        "A local-container license checked with the private-cloud method selected.",
        A,
        env,
        causes(&["license_type_mismatch"]),
    );
    let env = Env { now: rfc3339(Timestamp(not_before.0 - 301)), ..g.env() };
    g.vector(
        "not-yet-valid",
        "not-before-2027.lic",
        "not_before 2027-01-01T00:00:00Z checked 301 s before it: beyond the 300 s tolerance.",
        A,
        env,
        causes(&["not_yet_valid"]),
    );
    let env = Env { last_seen: Some(rfc3339(Timestamp(now.0 + 301))), ..g.env() };
    g.vector(
        "clock-rollback",
        basic_file,
        "The last-seen time is 301 s after now: the clock was moved back beyond the tolerance.",
        A,
        env,
        causes(&["clock_rollback"]),
    );

    let mut p = g.payload("all-causes");
    p.expiry = wire::Expiry::On(date(2026, 3, 31));
    p.not_before = ts(2026, 9, 1, 0, 0, 0)?.0;
    g.signed("all-causes.lic", &ia, &p, Form::Armored(&[]))?;
    let env = Env {
        app_name: "FineBI".into(),
        version: "10.0".into(),
        project: "other".into(),
        nodes: 3,
        method: "private-cloud".into(),
        now: rfc3339(now),
        last_seen: Some(rfc3339(ts(2026, 7, 1, 0, 0, 0)?)),
    };
    g.vector(
        "all-causes",
        "all-causes.lic",
        "Every environment cause at once, reported in the fixed order: a validly signed license that expired \
         2026-03-31 yet is not valid before 2026-09-01, checked on 2026-06-01 by FineBI 10.0 on 3 nodes, project \
         other, private-cloud method, after a last-seen time of 2026-07-01.",
        A,
        env,
        causes(&[
            "license_expired",
            "version_mismatch",
            "app_name_mismatch",
            "license_exhausted",
            "project_content_mismatch",
            "license_type_mismatch",
            "not_yet_valid",
            "clock_rollback",
        ]),
    );
    let env = Env {
        project: "other".into(),
        now: rfc3339(ts(2031, 1, 1, 0, 0, 0)?),
        last_seen: Some(rfc3339(ts(2032, 1, 1, 0, 0, 0)?)),
        ..g.env()
    };
    g.vector(
        "three-causes",
        basic_file,
        "Expired, other project, clock rolled back: three causes, in order.",
        A,
        env,
        causes(&["license_expired", "project_content_mismatch", "clock_rollback"]),
    );

    // ================= content_incorrect =================
    let basic_parts = g.parts.get(basic_file).ok_or_else(|| Error("basic parts".into()))?;
    let (cert_msg, cert_sig) = (basic_parts.cert_msg.clone(), basic_parts.cert_sig);
    let (lic_msg, lic_sig) = (basic_parts.license_msg.clone(), basic_parts.license_sig);
    let file_of = |c: &[u8], cs: &[u8; 64], l: &[u8], ls: &[u8; 64]| -> Result<String> {
        Ok(armor::encode(&encode_license_file(c, cs, l, ls)?, &[])?)
    };

    let mut bad = lic_sig;
    bad[0] ^= 0x01;
    g.file("bad-license-signature.lic", file_of(&cert_msg, &cert_sig, &lic_msg, &bad)?.into_bytes())?;
    g.vector(
        "bad-license-signature",
        "bad-license-signature.lic",
        "The basic license with one bit of the license signature flipped.",
        A,
        g.env(),
        content("bad_signature", None),
    );

    let mut bad = cert_sig;
    bad[10] ^= 0x01;
    g.file("bad-certificate-signature.lic", file_of(&cert_msg, &bad, &lic_msg, &lic_sig)?.into_bytes())?;
    g.vector(
        "bad-certificate-signature",
        "bad-certificate-signature.lic",
        "The basic license with one bit of the certificate signature flipped.",
        A,
        g.env(),
        content("bad_signature", None),
    );

    let mut changed = lic_msg.clone();
    let at = changed.windows(7).position(|w| w == b"Example").ok_or_else(|| Error("no company".into()))?;
    if let Some(b) = changed.get_mut(at) {
        *b = b'F'; // "Fxample Test Co.": still a valid payload, no longer the signed one
    }
    g.file("payload-byte-changed.lic", file_of(&cert_msg, &cert_sig, &changed, &lic_sig)?.into_bytes())?;
    g.vector(
        "payload-byte-changed",
        "payload-byte-changed.lic",
        "One byte of the signed license payload changed (company `Fxample Test Co.`), old signature kept.",
        A,
        g.env(),
        content("bad_signature", None),
    );

    g.vector(
        "unknown-root",
        "root-b.lic",
        "A certificate signed by root-b, which the product does not trust.",
        A,
        g.env(),
        content("unknown_root_key", None),
    );

    let p = g.payload("issuing-key-outside-window");
    g.signed("issuing-key-outside-window.lic", &iold, &p, Form::Armored(&[]))?;
    g.vector(
        "issuing-key-outside-window",
        "issuing-key-outside-window.lic",
        "Validly signed by issuing-expired-window, whose certificate allows signing only during 2024; the license \
         says it was issued 2026-01-01.",
        A,
        g.env(),
        content("issuing_key_outside_window", None),
    );

    let p = g.payload("kind-not-certified");
    g.signed("kind-not-certified.lic", &ipc, &p, Form::Armored(&[]))?;
    g.vector(
        "kind-not-certified",
        "kind-not-certified.lic",
        "A local-container license validly signed by issuing-pc-only, certified for private-cloud licenses only.",
        A,
        g.env(),
        content("kind_not_certified", None),
    );

    // Non-canonical, yet validly signed: the signatures hold, the decoder must refuse.
    let p = g.payload("signed-overlong-varint-in-payload");
    let head = postcard::to_allocvec(&(
        p.license_id,
        p.kind,
        p.app_name,
        p.company,
        p.project,
        p.contract_signed,
        p.issued_at,
        p.not_before,
        p.expiry,
        p.version,
    ))?;
    let tail = postcard::to_allocvec(&(
        p.activation_key,
        p.activation_base_url,
        p.image_public_key,
        p.supersedes,
        p.request_email_sha256,
    ))?;
    let msg = [LICENSE_SIGNATURE_LABEL, &head, &overlong_varint(u64::from(p.max_nodes)), &tail].concat();
    g.signed_message("signed-overlong-varint-in-payload.lic", &ia, msg, Form::Armored(&[]))?;
    g.vector(
        "signed-overlong-varint-in-payload",
        "signed-overlong-varint-in-payload.lic",
        "max_nodes written as the overlong varint 0x81 0x00 inside the license payload, and the whole message \
         validly signed: the signatures hold but the payload is not canonical.",
        A,
        g.env(),
        content("bad_encoding", Some("NonCanonical")),
    );

    let p = g.payload("signed-trailing-byte-in-payload");
    let msg = [encode_license_payload(&p)?, vec![1, 0]].concat();
    g.signed_message("signed-trailing-byte-in-payload.lic", &ia, msg, Form::Armored(&[]))?;
    g.vector(
        "signed-trailing-byte-in-payload",
        "signed-trailing-byte-in-payload.lic",
        "After the license payload, its trailing optional activation_policy `receipt` (0x01), then one \
         0x00 byte more, inside the validly signed message.",
        A,
        g.env(),
        content("bad_encoding", Some("TrailingBytes { count: 1 }")),
    );

    let p = g.payload("signed-explicit-code-policy");
    let msg = [encode_license_payload(&p)?, vec![0]].concat();
    g.signed_message("signed-explicit-code-policy.lic", &ia, msg, Form::Armored(&[]))?;
    g.vector(
        "signed-explicit-code-policy",
        "signed-explicit-code-policy.lic",
        "The trailing optional activation_policy written as `code` (0x00): absence is the one encoding \
         of `code`, so the validly signed payload is not canonical.",
        A,
        g.env(),
        content("bad_encoding", Some("activation_policy")),
    );

    // Receipt-policy licenses (SPEC.md §3.3), whose receipts are the vectors
    // of fixtures/vectors/receipts/.
    let mut policy_raw = Vec::new();
    for l in crate::receipts::policy_licenses(g.t.issued)? {
        let file = format!("{}.lic", l.name);
        policy_raw.push(g.signed_message(&file, &ia, l.message, Form::Armored(&[]))?);
        g.vector(l.name, &file, l.description, A, l.env, valid());
    }
    let [local_policy_raw, cloud_policy_raw] =
        <[Vec<u8>; 2]>::try_from(policy_raw).map_err(|_| Error("two receipt-policy licenses".into()))?;

    let p = g.payload("signed-max-nodes-zero");
    let mut w = p;
    w.max_nodes = 0;
    let msg = [LICENSE_SIGNATURE_LABEL, &postcard::to_allocvec(&w)?].concat();
    g.signed_message("signed-max-nodes-zero.lic", &ia, msg, Form::Armored(&[]))?;
    g.vector(
        "signed-max-nodes-zero",
        "signed-max-nodes-zero.lic",
        "A canonical, validly signed payload that breaks a field rule: max_nodes 0.",
        A,
        g.env(),
        content("bad_encoding", Some("max_nodes")),
    );

    let p = g.payload("signed-license-missing-label");
    let msg = postcard::to_allocvec(&p)?;
    g.signed_message("signed-license-missing-label.lic", &ia, msg, Form::Armored(&[]))?;
    g.vector(
        "signed-license-missing-label",
        "signed-license-missing-label.lic",
        "A validly signed license message without its purpose label `fanlic/1/license\\n`.",
        A,
        g.env(),
        content("bad_encoding", Some("purpose label")),
    );

    // A certificate with an overlong varint (not_before), validly signed by root-a.
    let cert_head = postcard::to_allocvec(&(k.root_a.key_id().0, k.issuing_a.key_id().0, k.issuing_a.public()))?;
    let cert_tail = postcard::to_allocvec(&(window_a.1.0, local_and_cloud))?;
    let overlong_cert = [CERTIFICATE_SIGNATURE_LABEL, &cert_head, &overlong_varint(window_a.0.0), &cert_tail].concat();
    let overlong_cert_sig = k.root_a.sign(&overlong_cert);
    g.file(
        "signed-overlong-varint-in-certificate.lic",
        file_of(&overlong_cert, &overlong_cert_sig, &lic_msg, &lic_sig)?.into_bytes(),
    )?;
    g.vector(
        "signed-overlong-varint-in-certificate",
        "signed-overlong-varint-in-certificate.lic",
        "issuing-a's certificate with not_before as an overlong varint, validly signed by root-a; the basic license.",
        A,
        g.env(),
        content("bad_encoding", Some("NonCanonical")),
    );

    // key_id of issuing-a2 on issuing-a's public key, validly signed by root-a.
    let mismatched = wire::CertificateBody {
        root_key_id: k.root_a.key_id().0,
        key_id: k.issuing_a2.key_id().0,
        public_key: k.issuing_a.public(),
        not_before: window_a.0.0,
        not_after: window_a.1.0,
        purposes: local_and_cloud,
    };
    let mismatched_msg = [CERTIFICATE_SIGNATURE_LABEL, &postcard::to_allocvec(&mismatched)?].concat();
    let mismatched_sig = k.root_a.sign(&mismatched_msg);
    g.file(
        "certificate-key-id-mismatch.lic",
        file_of(&mismatched_msg, &mismatched_sig, &lic_msg, &lic_sig)?.into_bytes(),
    )?;
    g.vector(
        "certificate-key-id-mismatch",
        "certificate-key-id-mismatch.lic",
        "A certificate, validly signed by root-a, whose key_id (issuing-a2's) is not the id of its public key \
         (issuing-a's); the basic license.",
        A,
        g.env(),
        content("bad_encoding", Some("key_id")),
    );

    // The identity point as issuing key: small order. With R = identity and
    // s = 0, a signature "verifies" for every message under cofactorless
    // non-strict verification; verify_strict must refuse the weak key.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let weak_cert = wire::CertificateBody {
        root_key_id: k.root_a.key_id().0,
        key_id: KeyId::of(&identity).0,
        public_key: identity,
        not_before: window_a.0.0,
        not_after: window_a.1.0,
        purposes: local_and_cloud,
    };
    let weak_msg = encode_certificate_body(&weak_cert)?;
    let weak_sig = k.root_a.sign(&weak_msg);
    let weak_license = encode_license_payload(&g.payload("small-order-issuing-key"))?;
    let mut forged = [0u8; 64];
    forged[0] = 1;
    g.file("small-order-issuing-key.lic", file_of(&weak_msg, &weak_sig, &weak_license, &forged)?.into_bytes())?;
    g.vector(
        "small-order-issuing-key",
        "small-order-issuing-key.lic",
        "root-a validly certifies the identity point (a small-order key) as an issuing key; the license signature is \
         R = identity, s = 0, which non-strict verification accepts for any message. verify_strict must refuse it.",
        A,
        g.env(),
        content("bad_signature", None),
    );

    let with_trailing = [basic_raw.as_slice(), &[0]].concat();
    g.file("trailing-byte-after-envelope.lic", armor::encode(&with_trailing, &[])?.into_bytes())?;
    g.vector(
        "trailing-byte-after-envelope",
        "trailing-byte-after-envelope.lic",
        "The basic license file with one 0x00 byte after the envelope (armored).",
        A,
        g.env(),
        content("bad_encoding", Some("TrailingBytes { count: 1 }")),
    );

    let len_overlong = [
        LICENSE_FILE_MAGIC.as_slice(),
        &overlong_varint(cert_msg.len() as u64),
        &cert_msg,
        &cert_sig,
        &varint(lic_msg.len() as u64),
        &lic_msg,
        &lic_sig,
    ]
    .concat();
    g.file("overlong-varint-envelope-length.lic", armor::encode(&len_overlong, &[])?.into_bytes())?;
    g.vector(
        "overlong-varint-envelope-length",
        "overlong-varint-envelope-length.lic",
        "The basic license file with the certificate message's length written as an overlong varint; both signed \
         messages are intact.",
        A,
        g.env(),
        content("bad_encoding", Some("NonCanonical")),
    );

    let magic2 =
        [b"FANLIC-LICENSE/2\n".as_slice(), basic_raw.get(LICENSE_FILE_MAGIC.len()..).unwrap_or_default()].concat();
    g.file("unknown-magic.lic", armor::encode(&magic2, &[])?.into_bytes())?;
    g.vector(
        "unknown-magic",
        "unknown-magic.lic",
        "The basic license with the magic FANLIC-LICENSE/2 (a format this version does not know), armored.",
        A,
        g.env(),
        content("unknown_format", None),
    );
    g.file("unknown-magic-raw.bin", magic2)?;
    g.vector(
        "unknown-magic-raw",
        "unknown-magic-raw.bin",
        "The same as unknown-magic, raw. Input that starts with `FANLIC-LICENSE/` is a raw file of some \
         version (SPEC.md §4.1 step 1), so a newer version is reported as unknown_format, not as bad armor.",
        A,
        g.env(),
        content("unknown_format", Some("UnknownMagic")),
    );

    let mut oversized = basic_raw.clone();
    oversized.resize(fanlic_formats::MAX_LICENSE_FILE_LEN + 1, 0);
    g.file("oversized.bin", oversized.clone())?;
    g.vector(
        "oversized",
        "oversized.bin",
        "The raw basic license padded with zero bytes to 2049 bytes, one more than a license file may have.",
        A,
        g.env(),
        content("bad_encoding", Some("TooLong")),
    );

    // SPEC.md §4.1 step 2: the magic is checked first, then the length, and
    // an armored file is judged by the bytes its body decodes to: the same
    // cause for the same bytes, whatever the form.
    let oversized_armored = armor::encode(&oversized, &[])?;
    g.file("oversized-armored.lic", oversized_armored.into_bytes())?;
    g.vector(
        "oversized-armored",
        "oversized-armored.lic",
        "oversized.bin armored: the body decodes to 2049 bytes that start with the known magic. The length limit \
         applies to the decoded bytes, so this is bad_encoding (too long) as for the raw file, not bad_armor.",
        A,
        g.env(),
        content("bad_encoding", Some("TooLong")),
    );
    let mut oversized_magic2 =
        [b"FANLIC-LICENSE/2\n".as_slice(), basic_raw.get(LICENSE_FILE_MAGIC.len()..).unwrap_or_default()].concat();
    oversized_magic2.resize(fanlic_formats::MAX_LICENSE_FILE_LEN + 1, 0);
    g.file("oversized-unknown-magic.lic", armor::encode(&oversized_magic2, &[])?.into_bytes())?;
    g.vector(
        "oversized-unknown-magic-armored",
        "oversized-unknown-magic.lic",
        "unknown-magic.lic's bytes padded to 2049 bytes, armored: the magic is checked before the length (the \
         limit is version 1's), so this is unknown_format, not too long.",
        A,
        g.env(),
        content("unknown_format", Some("UnknownMagic")),
    );
    g.file("oversized-unknown-magic.bin", oversized_magic2)?;
    g.vector(
        "oversized-unknown-magic-raw",
        "oversized-unknown-magic.bin",
        "The same 2049 bytes raw (FANLIC-LICENSE/2, then zero bytes): unknown_format, not too long.",
        A,
        g.env(),
        content("unknown_format", Some("UnknownMagic")),
    );

    // Non-canonical base64: the last character before `=` with non-zero unused
    // bits. The first valid file whose length is not a multiple of 3 has padding.
    let (nz_from, nz) = ["valid-local-container.lic", "valid-all-optional-fields.lic", "valid-perpetual.lic"]
        .iter()
        .find_map(|f| {
            let text = String::from_utf8(g.files.get(&format!("vectors/{f}"))?.clone()).ok()?;
            Some((*f, nonzero_trailing_bits(&text)?))
        })
        .ok_or_else(|| Error("no padded armor to make non-canonical".into()))?;
    g.file("base64-nonzero-trailing-bits.lic", nz.into_bytes())?;
    g.vector(
        "base64-nonzero-trailing-bits",
        "base64-nonzero-trailing-bits.lic",
        &format!(
            "{nz_from} with a non-zero unused bit in the last base64 character before the `=` padding \
             (non-canonical base64)."
        ),
        A,
        g.env(),
        content("bad_armor", Some("Base64")),
    );

    let body: String = body_lines(&basic_armored).concat();
    let mut rewrapped = format!("{}\n", armor::BEGIN);
    for chunk in body.as_bytes().chunks(76) {
        rewrapped.push_str(&String::from_utf8_lossy(chunk));
        rewrapped.push('\n');
    }
    rewrapped.push_str(armor::END);
    rewrapped.push('\n');
    g.file("rewrapped-76-columns.lic", rewrapped.into_bytes())?;
    g.vector(
        "rewrapped-76-columns",
        "rewrapped-76-columns.lic",
        "The basic license's base64 body re-wrapped at 76 columns, as some mailers do.",
        A,
        g.env(),
        content("bad_armor", Some("LineLength")),
    );

    let after = format!("{basic_armored}Sent from my phone\n");
    g.file("text-after-end.lic", after.into_bytes())?;
    g.vector(
        "text-after-end",
        "text-after-end.lic",
        "The basic license followed by a line of text after the END line.",
        A,
        g.env(),
        content("bad_armor", Some("TrailingText")),
    );

    let spaced: Vec<String> =
        basic_armored.lines().enumerate().map(|(i, l)| if i == 2 { format!("{l} ") } else { l.to_owned() }).collect();
    g.file("trailing-space-in-body.lic", format!("{}\n", spaced.join("\n")).into_bytes())?;
    g.vector(
        "trailing-space-in-body",
        "trailing-space-in-body.lic",
        "The basic license with a space at the end of the second base64 line.",
        A,
        g.env(),
        content("bad_armor", Some("LineLength")),
    );

    // Cut just before the LF that ends the third base64 line. (With that LF
    // kept, the empty "line" after it is reported as a 0-character body line.)
    let truncated: String = basic_armored.lines().take(4).collect::<Vec<_>>().join("\n");
    g.file("truncated.lic", truncated.into_bytes())?;
    g.vector(
        "truncated",
        "truncated.lic",
        "The basic armored license cut at the end of its third base64 line: no END line.",
        A,
        g.env(),
        content("bad_armor", Some("MissingEnd")),
    );

    let cut = basic_raw.get(..basic_raw.len().saturating_sub(10)).unwrap_or_default().to_vec();
    g.file("truncated-raw.bin", cut)?;
    g.vector(
        "truncated-raw",
        "truncated-raw.bin",
        "The raw basic license without its last 10 bytes.",
        A,
        g.env(),
        content("bad_encoding", Some("Malformed")),
    );

    g.file("empty.lic", Vec::new())?;
    g.vector("empty", "empty.lic", "An empty file.", A, g.env(), content("bad_armor", Some("MissingBegin")));

    // ================= OpenSSL parts of every valid vector =================
    let valid: Vec<(String, String)> =
        g.vectors.iter().filter(|v| v.expected.valid).map(|v| (v.name.clone(), v.file.clone())).collect();
    for (name, file) in valid {
        let p = g.parts.get(&file).ok_or_else(|| Error(format!("no signed parts for {file}")))?;
        let out = [
            (format!("{name}.cert.msg"), p.cert_msg.clone()),
            (format!("{name}.cert.sig"), p.cert_sig.to_vec()),
            (format!("{name}.cert.pub.pem"), keys::public_key_pem(&p.root_public).into_bytes()),
            (format!("{name}.license.msg"), p.license_msg.clone()),
            (format!("{name}.license.sig"), p.license_sig.to_vec()),
            (format!("{name}.license.pub.pem"), keys::public_key_pem(&p.issuing_public).into_bytes()),
        ];
        for (f, bytes) in out {
            g.put(format!("vectors/openssl/{f}"), bytes)?;
        }
    }

    // ================= manifest =================
    let manifest = Manifest {
        comment: "TEST-ONLY fanlic test vectors (SPEC.md §5). Every key is published in fixtures/keys: trust nothing \
                  signed by one. Generated; do not edit by hand."
            .into(),
        regenerate: REGENERATE.into(),
        vectors: core::mem::take(&mut g.vectors),
    };
    let mut json = serde_json::to_string_pretty(&manifest)?;
    json.push('\n');
    g.put("vectors/manifest.json".into(), json.into_bytes())?;

    // ================= keys =================
    let receipt_window = crate::receipts::receipt_key_window()?;
    let receipt_cert = crate::receipts::certify(&k.root_a, &k.receipt_a, receipt_window, Purposes::RECEIPT)?;
    let key_rows: [(&TestKey, String); 8] = [
        (&k.root_a, "Root key A: the root every vector trusts.".into()),
        (&k.root_b, "Root key B: an untrusted root (trusted only by `valid-root-b-trusted`).".into()),
        (&k.issuing_a, cert_row(&ia, window_a, local_and_cloud)),
        (&k.issuing_a2, cert_row(&ia2, window_a2, ia2_purposes)),
        (&k.issuing_expired_window, cert_row(&iold, window_old, local_and_cloud)),
        (&k.issuing_pc_only, cert_row(&ipc, window_a, Purposes::PRIVATE_CLOUD)),
        (&k.issuing_b, cert_row(&ib, window_a, local_and_cloud)),
        (
            &k.receipt_a,
            format!(
                "Receipt key certified by `root-a`: may sign receipts from {} to {} (30 days); purposes `{:#x}` \
                 (activation receipts).",
                receipt_window.0,
                receipt_window.1,
                Purposes::RECEIPT
            ),
        ),
    ];
    let mut readme = String::from(KEYS_README_HEAD);
    for (key, role) in &key_rows {
        readme.push_str(&format!("| `{}` | `{}` | {} |\n", key.name, key.key_id(), role));
        g.put(format!("keys/{}.pub.raw", key.name), key.public().to_vec())?;
        g.put(format!("keys/{}.pub.pem", key.name), key.public_pem().into_bytes())?;
        g.put(format!("keys/{}.TEST-ONLY.seed.hex", key.name), format!("{}\n", hex(&key.seed)).into_bytes())?;
        g.put(format!("keys/{}.TEST-ONLY.pk8.pem", key.name), key.pkcs8_pem().into_bytes())?;
    }
    readme.push_str(KEYS_README_TAIL);
    g.put("keys/README.md".into(), readme.into_bytes())?;

    // ================= revocation lists (SPEC.md §6.1) =================
    let inputs = crate::revocations::Inputs {
        revoker: signer(&ia2),
        licenses_only: signer(&ia),
        other_root: signer(&ib),
        revoked_license: fanlic_formats::LicenseId(basic.license_id),
        revoked_key: k.issuing_b.key_id(),
        issued_at: ts(2026, 3, 1, 0, 0, 0)?,
        before_window: ts(2025, 6, 1, 0, 0, 0)?,
    };
    crate::revocations::generate(&mut g.files, &inputs)?;

    // ================= activation receipts (SPEC.md §6.5) =================
    let inputs = crate::receipts::Inputs {
        root_a: &k.root_a,
        root_b: &k.root_b,
        receipt_key: &k.receipt_a,
        receipt_cert,
        license_key: &k.issuing_a,
        license_cert: crate::receipts::Cert { msg: ia.cert_msg.clone(), sig: ia.cert_sig },
        revoker: &k.issuing_a2,
        revoker_cert: crate::receipts::Cert { msg: ia2.cert_msg.clone(), sig: ia2.cert_sig },
        local_raw: local_policy_raw,
        cloud_raw: cloud_policy_raw,
    };
    crate::receipts::generate(&mut g.files, inputs)?;

    Ok(g.files)
}

fn signer<'k>(i: &Issuer<'k>) -> crate::revocations::Signer<'k> {
    crate::revocations::Signer { key: i.key, cert_msg: i.cert_msg.clone(), cert_sig: i.cert_sig }
}

fn cert_row(i: &Issuer<'_>, window: (Timestamp, Timestamp), purposes: u32) -> String {
    let mut kinds = Vec::new();
    if purposes & Purposes::LOCAL_CONTAINER != 0 {
        kinds.push("local-container");
    }
    if purposes & Purposes::PRIVATE_CLOUD != 0 {
        kinds.push("private-cloud");
    }
    if purposes & Purposes::REVOCATION_LIST != 0 {
        kinds.push("revocation-list");
    }
    format!(
        "Issuing key certified by `{}`: may sign from {} to {}; purposes `{purposes:#x}` ({}).",
        i.root.name,
        window.0,
        window.1,
        kinds.join(", ")
    )
}

/// The armored text with the last base64 character before `=` given a
/// non-zero unused bit, or `None` if the body has no padding.
fn nonzero_trailing_bits(armored: &str) -> Option<String> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let end = armored.find(&format!("\n{}", armor::END))?;
    let body = armored.get(..end)?;
    let data_end = body.trim_end_matches('=').len();
    if data_end == body.len() {
        return None;
    }
    let last = *body.as_bytes().get(data_end.checked_sub(1)?)?;
    let idx = ALPHABET.iter().position(|&c| c == last)?;
    let replaced = *ALPHABET.get(idx | 1)?;
    if replaced == last {
        return None; // already non-zero: cannot happen for canonical input
    }
    let mut out = armored.as_bytes().to_vec();
    *out.get_mut(data_end - 1)? = replaced;
    String::from_utf8(out).ok()
}

const KEYS_README_HEAD: &str = "# TEST-ONLY keys

**Every key in this directory is for tests only. The private seeds are
published here: nothing signed by one of these keys may ever be trusted, and
no product may embed one of these root keys.**

Generated by `cargo run -p fanlic-testkit --bin gen-vectors` (do not edit by
hand). Each key's 32-byte Ed25519 seed is fixed:
`seed = SHA-256(\"fanlic/TEST-ONLY/seed/\" || NAME)`.

Files for each key `NAME`:

| file | content |
| --- | --- |
| `NAME.pub.raw` | the 32 raw public key bytes |
| `NAME.pub.pem` | PEM `PUBLIC KEY` (SubjectPublicKeyInfo: `302a300506032b6570032100` + key); `openssl pkey -pubin -in NAME.pub.pem -noout` reads it |
| `NAME.TEST-ONLY.seed.hex` | the private seed, 64 hex digits |
| `NAME.TEST-ONLY.pk8.pem` | PEM `PRIVATE KEY`: PKCS#8 v2 exactly as `ring` writes it (seed and public key) |

OpenSSL 3.0 does not read PKCS#8 v2 (`ring`'s form, with the public key). To
use a test key with OpenSSL, wrap the seed in PKCS#8 v1:

```sh
{ printf 302e020100300506032b657004220420; cat NAME.TEST-ONLY.seed.hex; } | xxd -r -p \
  | openssl pkey -inform DER -out NAME.v1.pem
```

| key | key id | role |
| --- | --- | --- |
";

const KEYS_README_TAIL: &str = "
The vectors also use one key that has no seed: the identity point
(`0100…00`, small order) in `small-order-issuing-key.lic`.
";

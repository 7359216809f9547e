//! Private-cloud test vectors (SPEC.md §7): server answer files and
//! `privateConfig` files in `fixtures/vectors/private-cloud/`, each `NAME.bin`
//! with its expected outcome in `NAME.json` next to it ([`PrivateCloudVector`]).
//! Written by the same deterministic generator as the license vectors
//! ([`crate::generate`]).
//!
//! Keys (all TEST-ONLY): `root-a` certifies `issuing-a` (purposes `0x3`),
//! which signs the server licenses. The image key is derived as SPEC.md §7.1
//! says, from a TEST-ONLY master secret (version 1) and
//! the license id ([`master_secret`], [`image_seed`]). The instance keys are the test keys `instance-a` (the
//! server) and `instance-clone` (a copy of it); `image-other` is another
//! image's key. Expected outcomes are written by hand here; they are never
//! computed by running the verifier.

use fanlic_formats::{
    KeyId, LicenseId, Timestamp, encode_certificate_body, encode_instance_certificate, encode_license_file,
    encode_license_payload, encode_private_config_body, encode_private_config_file, encode_server_answer,
    encode_server_answer_file, encode_tls_binding, encode_tls_binding_file,
    private_cloud::{
        AnswerKind, Event, EventKind, IMAGE_KEY_SALT, InstanceCertificate, NodeRecord, SERVER_ANSWER_MAGIC,
        ServerAnswer, TLS_BINDING_MAGIC, TlsBinding, chain_event, wire as pc,
    },
    wire,
};
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde::{Deserialize, Serialize};

use crate::{Env, Error, Files, Result, TestKey, hex, parse_rfc3339, rfc3339, vectors_dir};

/// `fixtures/vectors/private-cloud/`.
pub fn private_cloud_dir() -> std::path::PathBuf {
    vectors_dir().join("private-cloud")
}

/// The TEST-ONLY activation master secret (SPEC.md §6.2) the image keys are
/// derived from: `SHA-256("fanlic/TEST-ONLY/master-secret")`, version 1.
pub fn master_secret() -> [u8; 32] {
    sha256(b"fanlic/TEST-ONLY/master-secret")
}

/// The master secret's version.
pub const MASTER_VERSION: u32 = 1;

/// One vector: `NAME.json`, next to the file it checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivateCloudVector {
    /// What the vector tests.
    pub description: String,
    /// The file checked, in `fixtures/vectors/private-cloud/`.
    pub file: String,
    /// `server-answer` (checked with `verify_server_answer` and
    /// `Client::on_answer`) or `private-config` (`verify_private_config`).
    pub check: String,
    /// For a server answer: what the product knows and asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<AnswerInput>,
    /// For a `privateConfig`: what the checker knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ConfigInput>,
    /// For a TLS binding: what the application knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding: Option<BindingInput>,
    /// The outcome every entry point must report.
    pub expected: PrivateCloudExpected,
}

/// What a product knows when it checks a server answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerInput {
    /// Names of the trusted root keys (`fixtures/keys/NAME.pub.raw`).
    pub roots: Vec<String>,
    /// The product's environment (`now` is the time of the check).
    pub env: Env,
    /// What it asked: `registered`, `heartbeat` or `deregistered`.
    pub kind: String,
    /// Its node id, 32 hex digits.
    pub node_id: String,
    /// The request's nonce, 32 hex digits.
    pub nonce: String,
    /// The instance key it pinned before, 64 hex digits, or null.
    pub pinned_instance_key: Option<String>,
}

/// What an application knows when it checks a TLS binding (SPEC.md §7.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingInput {
    /// Names of the trusted root keys (`fixtures/keys/NAME.pub.raw`).
    pub roots: Vec<String>,
    /// SHA-256 of the SubjectPublicKeyInfo of the connection's certificate,
    /// 64 hex digits.
    pub connection_spki_sha256: String,
    /// The instance key it pinned before, 64 hex digits, or null.
    pub pinned_instance_key: Option<String>,
}

/// What the vendor or the server knows when it checks a `privateConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigInput {
    /// The image public key, 64 hex digits.
    pub image_public_key: String,
    /// The server license's id, 32 hex digits.
    pub license_id: String,
}

/// The expected outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivateCloudExpected {
    /// Whether it is accepted.
    pub valid: bool,
    /// For an answer: the cause codes in order (`AnswerCause::code`); for a
    /// `privateConfig`: the one reason (`PrivateConfigError::reason`). Empty
    /// when valid.
    pub causes: Vec<String>,
    /// When given, text the `Debug` form of the rejection contains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// An accepted answer's content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<AcceptedJson>,
    /// An accepted `privateConfig`'s generation and log head (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ConfigJson>,
    /// An accepted TLS binding: the instance key it pins (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound_instance_key: Option<String>,
}

/// An accepted answer, as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptedJson {
    /// 32 hex digits.
    pub license_id: String,
    /// 64 hex digits.
    pub instance_public_key: String,
    /// `registered`, `heartbeat` or `deregistered`.
    pub kind: String,
    /// RFC 3339.
    pub at: String,
    /// RFC 3339.
    pub valid_until: String,
    /// Nodes registered.
    pub nodes: u32,
    /// Under receipt policy: the end of the lease of the receipt the answer
    /// carries (RFC 3339), or null.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<String>,
}

/// An accepted `privateConfig`, as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigJson {
    /// Its generation.
    pub generation: u64,
    /// Its nodes' ids (hex).
    pub nodes: Vec<String>,
    /// The head of its event chain (hex).
    pub log_head: String,
}

impl PrivateCloudVector {
    /// Every vector of `fixtures/vectors/private-cloud/`, by name (the JSON
    /// file's stem), in name order.
    pub fn load_all() -> Result<Vec<(String, Self)>> {
        crate::load_json_vectors(&private_cloud_dir())
    }

    /// The file it checks.
    pub fn read_file(&self) -> Result<Vec<u8>> {
        Ok(std::fs::read(private_cloud_dir().join(&self.file))?)
    }
}

/// `registered`, `heartbeat`, `deregistered`.
pub fn kind_name(kind: AnswerKind) -> &'static str {
    match kind {
        AnswerKind::Registered => "registered",
        AnswerKind::Heartbeat => "heartbeat",
        AnswerKind::Deregistered => "deregistered",
    }
}

/// The inverse of [`kind_name`].
pub fn parse_kind(s: &str) -> Result<AnswerKind> {
    match s {
        "registered" => Ok(AnswerKind::Registered),
        "heartbeat" => Ok(AnswerKind::Heartbeat),
        "deregistered" => Ok(AnswerKind::Deregistered),
        _ => Err(Error(format!("unknown answer kind `{s}`"))),
    }
}

/// Bytes from lowercase hex, exactly `N` of them.
pub fn unhex<const N: usize>(s: &str) -> Result<[u8; N]> {
    let bad = || Error(format!("`{s}` is not {N} bytes of hex"));
    if s.len() != 2 * N {
        return Err(bad());
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2).ok_or_else(bad)?, 16).map_err(|_| bad())?;
    }
    Ok(out)
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, data).as_ref());
    out
}

struct Len32;

impl ring::hkdf::KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

/// An Ed25519 key from a seed (for the derived image key).
struct SeedKey {
    pair: Ed25519KeyPair,
}

impl SeedKey {
    fn from_seed(seed: &[u8; 32]) -> Result<Self> {
        Ok(Self { pair: Ed25519KeyPair::from_seed_unchecked(seed)? })
    }

    fn public(&self) -> [u8; 32] {
        let mut p = [0u8; 32];
        p.copy_from_slice(self.pair.public_key().as_ref());
        p
    }

    fn sign(&self, message: &[u8]) -> [u8; 64] {
        let mut s = [0u8; 64];
        s.copy_from_slice(self.pair.sign(message).as_ref());
        s
    }
}

/// The image key of `license_id` (SPEC.md §7.1): `HKDF-SHA256(salt =
/// "fanlic/1/image-key\n", IKM = master secret, info = u32-big-endian(version)
/// || license_id, L = 32)` is its Ed25519 seed.
pub fn image_seed(master: &[u8; 32], version: u32, license_id: &LicenseId) -> Result<[u8; 32]> {
    let prk = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, IMAGE_KEY_SALT).extract(master);
    let v = version.to_be_bytes();
    let info = [v.as_slice(), license_id.0.as_slice()];
    let mut seed = [0u8; 32];
    prk.expand(&info, Len32).and_then(|okm| okm.fill(&mut seed)).map_err(|_| Error("HKDF expand failed".into()))?;
    Ok(seed)
}

/// The server license's id.
pub fn server_license_id() -> LicenseId {
    LicenseId(crate::vectors::id16("private-cloud-server"))
}

/// The node id of the product in the answer vectors.
pub const NODE_ID: [u8; 16] = [0x11; 16];

fn nonce(n: u8) -> [u8; 16] {
    let d = sha256(format!("fanlic/TEST-ONLY/nonce/{n}").as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(d.get(..16).unwrap_or(&[n; 16]));
    out
}

const A: &[&str] = &["root-a"];

struct Keys {
    root: TestKey,
    issuing: TestKey,
    image: SeedKey,
    image_other: TestKey,
    instance: TestKey,
    clone: TestKey,
}

/// Fixed times.
struct Times {
    /// 2026-01-01T00:00:00Z: the license is issued, the instance made.
    issued: Timestamp,
    /// 2026-06-01T00:00:00Z: the product's time.
    now: Timestamp,
}

struct Gen<'f> {
    files: &'f mut Files,
    k: Keys,
    t: Times,
    license_id: LicenseId,
    /// The server license (private-cloud, with the image key), raw.
    license: Vec<u8>,
}

/// An instance certificate's body and signature.
struct Cert {
    msg: Vec<u8>,
    sig: [u8; 64],
}

fn env(now: Timestamp) -> Env {
    Env {
        app_name: "FineBI".into(),
        version: "6.1.3".into(),
        project: "bi-cluster".into(),
        nodes: 1,
        method: "private-cloud".into(),
        now: rfc3339(now),
        last_seen: None,
    }
}

fn refused(causes: &[&str], detail: Option<&str>) -> PrivateCloudExpected {
    PrivateCloudExpected {
        valid: false,
        causes: causes.iter().map(|c| (*c).to_owned()).collect(),
        detail: detail.map(str::to_owned),
        accepted: None,
        config: None,
        bound_instance_key: None,
    }
}

impl Gen<'_> {
    fn file(&mut self, name: &str, bytes: Vec<u8>) -> Result<()> {
        let path = format!("vectors/private-cloud/{name}");
        if self.files.get(&path).is_some_and(|old| *old != bytes) {
            return Err(Error(format!("{path} generated twice with different bytes")));
        }
        self.files.insert(path, bytes);
        Ok(())
    }

    fn json(&mut self, name: &str, v: &PrivateCloudVector) -> Result<()> {
        let mut json = serde_json::to_string_pretty(v)?;
        json.push('\n');
        self.file(&format!("{name}.json"), json.into_bytes())
    }

    /// A license of `kind` for the server, signed by issuing-a under root-a.
    fn license(&self, kind: wire::Kind, image_public_key: Option<[u8; 32]>) -> Result<Vec<u8>> {
        let cert = encode_certificate_body(&wire::CertificateBody {
            root_key_id: self.k.root.key_id().0,
            key_id: self.k.issuing.key_id().0,
            public_key: self.k.issuing.public(),
            not_before: parse_rfc3339("2025-01-01T00:00:00Z")?.0,
            not_after: parse_rfc3339("2028-12-31T23:59:59Z")?.0,
            purposes: 0x3,
        })?;
        let payload = encode_license_payload(&wire::LicensePayload {
            license_id: self.license_id.0,
            kind,
            app_name: "FineBI",
            company: "Example Manufacturing Co., Ltd.",
            project: "bi-cluster",
            contract_signed: wire::Date { year: 2025, month: 12, day: 15 },
            issued_at: self.t.issued.0,
            not_before: self.t.issued.0,
            expiry: wire::Expiry::On(wire::Date { year: 2030, month: 12, day: 31 }),
            version: wire::Version { major: 6, minor: 1 },
            max_nodes: 3,
            activation_key: None,
            activation_base_url: None,
            image_public_key,
            supersedes: None,
            request_email_sha256: None,
        })?;
        Ok(encode_license_file(&cert, &self.k.root.sign(&cert), &payload, &self.k.issuing.sign(&payload))?)
    }

    fn cert_body(&self, license_id: LicenseId, image_key_id: KeyId, instance: [u8; 32]) -> Result<Vec<u8>> {
        let c = InstanceCertificate::from_wire(&pc::InstanceCertificateBody {
            license_id: license_id.0,
            image_key_id: image_key_id.0,
            instance_public_key: instance,
            created_at: self.t.issued.0,
        })?;
        Ok(encode_instance_certificate(&c)?)
    }

    /// The server's certificate: instance-a, certified by the license's image key.
    fn cert(&self) -> Result<Cert> {
        let msg = self.cert_body(self.license_id, KeyId::of(&self.k.image.public()), self.k.instance.public())?;
        let sig = self.k.image.sign(&msg);
        Ok(Cert { msg, sig })
    }

    fn body(&self, kind: AnswerKind, nonce: [u8; 16], at: Timestamp) -> Result<ServerAnswer> {
        Ok(ServerAnswer::from_wire(&pc::ServerAnswerBody {
            license_id: self.license_id.0,
            kind,
            node_id: NODE_ID,
            nonce,
            at: at.0,
            valid_until: at.0 + fanlic_formats::private_cloud::SILENCE_LIMIT_SECS,
            nodes: if kind == AnswerKind::Deregistered { 0 } else { 2 },
        })?)
    }

    fn answer_file(&self, license: &[u8], cert: &Cert, answer: &ServerAnswer, signer: &TestKey) -> Result<Vec<u8>> {
        let msg = encode_server_answer(answer)?;
        Ok(encode_server_answer_file(license, &cert.msg, &cert.sig, &msg, &signer.sign(&msg))?)
    }

    fn answer_input(&self, kind: AnswerKind, nonce: [u8; 16], pinned: Option<[u8; 32]>) -> AnswerInput {
        AnswerInput {
            roots: A.iter().map(|r| (*r).to_owned()).collect(),
            env: env(self.t.now),
            kind: kind_name(kind).to_owned(),
            node_id: hex(&NODE_ID),
            nonce: hex(&nonce),
            pinned_instance_key: pinned.map(|p| hex(&p)),
        }
    }

    /// Writes `NAME.bin` and `NAME.json` for a server answer.
    fn answer_vector(
        &mut self,
        name: &str,
        bytes: Vec<u8>,
        description: &str,
        input: AnswerInput,
        expected: PrivateCloudExpected,
    ) -> Result<()> {
        let file = format!("{name}.bin");
        self.file(&file, bytes)?;
        let v = PrivateCloudVector {
            description: description.to_owned(),
            file,
            check: "server-answer".into(),
            answer: Some(input),
            config: None,
            binding: None,
            expected,
        };
        self.json(name, &v)
    }

    fn config_vector(
        &mut self,
        name: &str,
        file: &str,
        bytes: Option<Vec<u8>>,
        description: &str,
        license_id: LicenseId,
        expected: PrivateCloudExpected,
    ) -> Result<()> {
        if let Some(bytes) = bytes {
            self.file(file, bytes)?;
        }
        let v = PrivateCloudVector {
            description: description.to_owned(),
            file: file.to_owned(),
            check: "private-config".into(),
            answer: None,
            binding: None,
            config: Some(ConfigInput { image_public_key: hex(&self.k.image.public()), license_id: hex(&license_id.0) }),
            expected,
        };
        self.json(name, &v)
    }
}

/// Adds the files of `fixtures/vectors/private-cloud/` to `files`.
pub fn generate(files: &mut Files) -> Result<()> {
    let license_id = server_license_id();
    let k = Keys {
        root: TestKey::new("root-a")?,
        issuing: TestKey::new("issuing-a")?,
        image: SeedKey::from_seed(&image_seed(&master_secret(), MASTER_VERSION, &license_id)?)?,
        image_other: TestKey::new("image-other")?,
        instance: TestKey::new("instance-a")?,
        clone: TestKey::new("instance-clone")?,
    };
    let t = Times { issued: parse_rfc3339("2026-01-01T00:00:00Z")?, now: parse_rfc3339("2026-06-01T00:00:00Z")? };
    let mut g = Gen { files, k, t, license_id, license: Vec::new() };
    g.license = g.license(wire::Kind::PrivateCloud, Some(g.k.image.public()))?;
    let license = g.license.clone();
    let cert = g.cert()?;
    let at = Timestamp(g.t.now.0 - 60);
    let instance_hex = hex(&g.k.instance.public());

    // ---- good answers, one per kind ----
    for kind in [AnswerKind::Registered, AnswerKind::Heartbeat, AnswerKind::Deregistered] {
        let n = nonce(1);
        let body = g.body(kind, n, at)?;
        let bytes = g.answer_file(&license, &cert, &body, &g.k.instance)?;
        let name = format!("answer-{}", kind_name(kind));
        let expected = PrivateCloudExpected {
            valid: true,
            causes: vec![],
            detail: None,
            accepted: Some(AcceptedJson {
                license_id: hex(&license_id.0),
                instance_public_key: instance_hex.clone(),
                kind: kind_name(kind).to_owned(),
                at: rfc3339(at),
                valid_until: rfc3339(Timestamp(at.0 + 86_400)),
                nodes: body.nodes,
                lease_until: None,
            }),
            config: None,
            bound_instance_key: None,
        };
        let input = g.answer_input(kind, n, None);
        g.answer_vector(
            &name,
            bytes,
            &format!(
                "A `{}` answer at 2026-05-31T23:59:00Z, valid 24 hours, from instance-a certified by the license's \
                 image key; the license is private-cloud, signed by issuing-a under root-a. Accepted.",
                kind_name(kind)
            ),
            input,
            expected,
        )?;
    }

    let hb = AnswerKind::Heartbeat;
    let n = nonce(1);
    let good = g.body(hb, n, at)?;
    let good_msg = encode_server_answer(&good)?;

    // ---- rule 6: a receipt under code policy is ignored ----
    let bytes = fanlic_formats::encode_server_answer_file_with_receipt(
        &license,
        &cert.msg,
        &cert.sig,
        &good_msg,
        &g.k.instance.sign(&good_msg),
        Some(b"FANLIC-RECEIPT/1\nnot a receipt"),
    )?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-receipt-ignored-under-code-policy",
        bytes,
        "The good heartbeat answer with a trailing receipt field that is no receipt at all: the server license is \
         under code policy, so the product ignores the field (SPEC.md §7.2 rule 6). Accepted.",
        input,
        PrivateCloudExpected {
            valid: true,
            causes: vec![],
            detail: None,
            accepted: Some(AcceptedJson {
                license_id: hex(&license_id.0),
                instance_public_key: instance_hex.clone(),
                kind: kind_name(hb).to_owned(),
                at: rfc3339(at),
                valid_until: rfc3339(Timestamp(at.0 + 86_400)),
                nodes: good.nodes,
                lease_until: None,
            }),
            config: None,
            bound_instance_key: None,
        },
    )?;

    // ---- rule 2: the instance certificate ----
    let mut bad_sig = cert.sig;
    bad_sig[5] ^= 0x01;
    let bytes = encode_server_answer_file(&license, &cert.msg, &bad_sig, &good_msg, &g.k.instance.sign(&good_msg))?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-bad-instance-certificate-signature",
        bytes,
        "The good heartbeat answer with one bit of the instance certificate's signature flipped: one opaque cause, \
         and nothing of the certificate or the answer is evaluated.",
        input,
        refused(&["bad_signature"], None),
    )?;

    let other_msg = g.cert_body(license_id, g.k.image_other.key_id(), g.k.instance.public())?;
    let other = Cert { sig: g.k.image_other.sign(&other_msg), msg: other_msg };
    let bytes = g.answer_file(&license, &other, &good, &g.k.instance)?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-certificate-from-other-image",
        bytes,
        "The good heartbeat answer, but instance-a's certificate is signed by image-other (another image's key), \
         not by the license's image key.",
        input,
        refused(&["bad_signature"], None),
    )?;

    let wrong_id_msg = g.cert_body(license_id, g.k.image_other.key_id(), g.k.instance.public())?;
    let wrong_id = Cert { sig: g.k.image.sign(&wrong_id_msg), msg: wrong_id_msg };
    let bytes = g.answer_file(&license, &wrong_id, &good, &g.k.instance)?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-wrong-image-key-id",
        bytes,
        "The good heartbeat answer; instance-a's certificate is signed by the license's image key but names \
         image-other's key id as `image_key_id`.",
        input,
        refused(&["image_key_id_mismatch"], Some(&format!("certificate: KeyId({})", g.k.image_other.key_id()))),
    )?;

    let other_license = LicenseId(crate::vectors::id16("private-cloud-other-server"));
    let foreign_msg = g.cert_body(other_license, KeyId::of(&g.k.image.public()), g.k.instance.public())?;
    let foreign = Cert { sig: g.k.image.sign(&foreign_msg), msg: foreign_msg };
    let bytes = g.answer_file(&license, &foreign, &good, &g.k.instance)?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-certificate-for-other-license",
        bytes,
        "The good heartbeat answer; instance-a's certificate, signed by the license's image key, is for another \
         license id.",
        input,
        refused(&["certificate_license_mismatch"], None),
    )?;

    // ---- rule 3: the answer's signature and the pin ----
    let bytes = g.answer_file(&license, &cert, &good, &g.k.clone)?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-signed-by-other-key",
        bytes,
        "The good heartbeat answer signed by instance-clone, while the certificate certifies instance-a: one opaque \
         cause, nothing of the answer is evaluated.",
        input,
        refused(&["bad_signature"], None),
    )?;

    let clone_msg = g.cert_body(license_id, KeyId::of(&g.k.image.public()), g.k.clone.public())?;
    let clone_cert = Cert { sig: g.k.image.sign(&clone_msg), msg: clone_msg };
    let bytes = g.answer_file(&license, &clone_cert, &good, &g.k.clone)?;
    let pinned = g.k.instance.public();
    let input = g.answer_input(hb, n, Some(pinned));
    g.answer_vector(
        "answer-cloned-server",
        bytes.clone(),
        "A heartbeat answer from a copy of the server: instance-clone, validly certified by the same image key, \
         but the product pinned instance-a.",
        input,
        refused(&["instance_key_changed"], Some(&format!("pinned: KeyId({})", g.k.instance.key_id()))),
    )?;
    let input = g.answer_input(hb, n, None);
    let clone_hex = hex(&g.k.clone.public());
    g.answer_vector(
        "answer-cloned-server-unpinned",
        bytes,
        "The same answer from the copy, to a product that has pinned nothing yet: accepted (only the pin, or the \
         vendor's activation binding, tells a copy apart).",
        input,
        PrivateCloudExpected {
            valid: true,
            causes: vec![],
            detail: None,
            accepted: Some(AcceptedJson {
                license_id: hex(&license_id.0),
                instance_public_key: clone_hex,
                kind: "heartbeat".into(),
                at: rfc3339(at),
                valid_until: rfc3339(Timestamp(at.0 + 86_400)),
                nodes: 2,
                lease_until: None,
            }),
            config: None,
            bound_instance_key: None,
        },
    )?;

    // ---- rule 4: the request ----
    let bytes = g.answer_file(&license, &cert, &good, &g.k.instance)?;
    let input = g.answer_input(hb, nonce(2), None);
    g.answer_vector(
        "answer-wrong-nonce",
        bytes.clone(),
        "The good heartbeat answer (to the request with nonce 1) given to the request with nonce 2: a replay.",
        input,
        refused(&["nonce_mismatch"], None),
    )?;

    let mut wrong_node = good;
    wrong_node.node_id = [0x22; 16];
    let bytes = g.answer_file(&license, &cert, &wrong_node, &g.k.instance)?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-wrong-node",
        bytes,
        "A heartbeat answer to the right nonce, for node 2222…22 instead of this node 1111…11.",
        input,
        refused(&["node_mismatch"], None),
    )?;

    let bytes = g.answer_file(&license, &cert, &good, &g.k.instance)?;
    let input = g.answer_input(AnswerKind::Registered, n, None);
    g.answer_vector(
        "answer-wrong-kind",
        bytes,
        "The good heartbeat answer given to a registration request.",
        input,
        refused(&["kind_mismatch"], None),
    )?;

    let mut other_id = good;
    other_id.license_id = other_license;
    let bytes = g.answer_file(&license, &cert, &other_id, &g.k.instance)?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-license-id-mismatch",
        bytes,
        "A heartbeat answer, validly signed by instance-a, that names another license id than the server license.",
        input,
        refused(&["answer_license_mismatch"], None),
    )?;

    // ---- rule 5: time ----
    let old_at = Timestamp(g.t.now.0 - 86_400 - 60);
    let expired = g.body(hb, n, old_at)?;
    let bytes = g.answer_file(&license, &cert, &expired, &g.k.instance)?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-expired",
        bytes,
        "A heartbeat answer made at 2026-05-30T23:59:00Z, valid until 2026-05-31T23:59:00Z, checked at \
         2026-06-01T00:00:00Z.",
        input,
        refused(&["answer_expired"], None),
    )?;

    let ahead = g.body(hb, n, Timestamp(g.t.now.0 + 301))?;
    let bytes = g.answer_file(&license, &cert, &ahead, &g.k.instance)?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-from-future",
        bytes,
        "A heartbeat answer whose `at` is 301 seconds after the product's time.",
        input,
        refused(&["answer_from_future"], None),
    )?;

    // ---- rule 1: the server license ----
    let local = g.license(wire::Kind::LocalContainer, Some(g.k.image.public()))?;
    let bytes = g.answer_file(&local, &cert, &good, &g.k.instance)?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-local-container-license",
        bytes,
        "The good heartbeat answer carrying a local-container license (with the image key): the license is checked \
         with the private-cloud method.",
        input,
        refused(&["license_type_mismatch"], None),
    )?;

    let no_image = g.license(wire::Kind::PrivateCloud, None)?;
    let bytes = g.answer_file(&no_image, &cert, &good, &g.k.instance)?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-license-without-image-key",
        bytes,
        "The good heartbeat answer carrying a private-cloud license without `image_public_key`.",
        input,
        refused(&["no_image_key"], None),
    )?;

    let bytes = g.answer_file(&license, &cert, &good, &g.k.instance)?;
    let mut input = g.answer_input(hb, n, None);
    input.roots = vec!["root-b".into()];
    g.answer_vector(
        "answer-unknown-root",
        bytes,
        "The good heartbeat answer checked by a product that trusts only root-b: the license is content_incorrect, \
         alone.",
        input,
        refused(&["content_incorrect"], Some("UnknownRootKey")),
    )?;

    let armored_license = fanlic_formats::armor::encode(&license, &[])?.into_bytes();
    let bytes = g.answer_file(&armored_license, &cert, &good, &g.k.instance)?;
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-armored-license",
        bytes,
        "The good heartbeat answer with the server license armored (§3.4) instead of raw: refused.",
        input,
        refused(&["content_incorrect"], Some("UnknownMagic")),
    )?;

    // Everything at once that can be known together.
    let mut many = expired;
    many.node_id = [0x22; 16];
    let bytes = g.answer_file(&license, &cert, &many, &g.k.instance)?;
    let mut input = g.answer_input(AnswerKind::Registered, nonce(2), Some(g.k.clone.public()));
    input.env.app_name = "FineReport".into();
    input.env.nodes = 4;
    g.answer_vector(
        "answer-several-causes",
        bytes,
        "An expired heartbeat answer for another node, given to a registration request with another nonce by a \
         FineReport product of 4 nodes that pinned instance-clone: every cause at once.",
        input,
        refused(
            &[
                "app_name_mismatch",
                "license_exhausted",
                "instance_key_changed",
                "kind_mismatch",
                "node_mismatch",
                "nonce_mismatch",
                "answer_expired",
            ],
            None,
        ),
    )?;

    // A signed answer body that breaks a rule of §7.2 (valid_until more than
    // 24 hours after `at`) is malformed_answer, not a cause of its own; it is
    // reported first, with the license's causes found before it (§7.5 order).
    let long = pc::ServerAnswerBody {
        license_id: g.license_id.0,
        kind: hb,
        node_id: NODE_ID,
        nonce: n,
        at: at.0,
        valid_until: at.0 + fanlic_formats::private_cloud::SILENCE_LIMIT_SECS + 1,
        nodes: 2,
    };
    let long_msg =
        [fanlic_formats::private_cloud::SERVER_ANSWER_LABEL, postcard::to_allocvec(&long)?.as_slice()].concat();
    let bytes = encode_server_answer_file(&license, &cert.msg, &cert.sig, &long_msg, &g.k.instance.sign(&long_msg))?;
    let mut input = g.answer_input(hb, n, None);
    input.env.version = "6.2.0".into();
    g.answer_vector(
        "answer-valid-until-too-late",
        bytes,
        "A heartbeat answer validly signed by instance-a whose valid_until is 86401 s after `at`, checked by a \
         FineBI 6.2.0 product (licensed 6.1): malformed_answer (a decode error of the signed answer, not a cause \
         of its own) comes first, then the license's version_mismatch.",
        input,
        refused(&["malformed_answer", "version_mismatch"], Some("valid_until")),
    )?;

    // ---- the file ----
    let good_file = g.answer_file(&license, &cert, &good, &g.k.instance)?;
    let truncated = good_file.get(..good_file.len().saturating_sub(10)).unwrap_or_default().to_vec();
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-truncated",
        truncated,
        "The good heartbeat answer file without its last 10 bytes.",
        input,
        refused(&["malformed_answer"], Some("Malformed")),
    )?;
    let magic2 =
        [b"FANLIC-SERVER-ANSWER/2\n".as_slice(), good_file.get(SERVER_ANSWER_MAGIC.len()..).unwrap_or_default()]
            .concat();
    let input = g.answer_input(hb, n, None);
    g.answer_vector(
        "answer-unknown-magic",
        magic2,
        "The good heartbeat answer file with the magic FANLIC-SERVER-ANSWER/2.",
        input,
        refused(&["malformed_answer"], Some("UnknownMagic")),
    )?;

    // ---- privateConfig ----
    config_vectors(&mut g, &cert, other_license)?;
    binding_vectors(&mut g, &cert, other_license)?;
    node_auth_vectors(&mut g)?;
    Ok(())
}

/// The TEST-ONLY TLS key of the binding vectors: the DER SubjectPublicKeyInfo
/// of an ECDSA P-256 key made once with `openssl genpkey -algorithm EC
/// -pkeyopt ec_paramgen_curve:P-256` (its private key was not kept: a
/// binding names only the public key).
pub const TLS_SPKI_HEX: &str = "3059301306072a8648ce3d020106082a8648ce3d0301070342000441313994a233642e6e7c2395c596b4b8d1e1524e861948d50c29877d2dcf3419ead4ed930716543833da00cf5aebbe82a671efe5a6760f90cac9db2a964ea864";

fn binding_message(license_id: LicenseId, spki_sha256: [u8; 32]) -> Result<Vec<u8>> {
    let b = TlsBinding::from_wire(&pc::TlsBindingBody { license_id: license_id.0, spki_sha256 })?;
    Ok(encode_tls_binding(&b)?)
}

fn binding_file(license: &[u8], cert: &Cert, msg: &[u8], signer: &TestKey) -> Result<Vec<u8>> {
    Ok(encode_tls_binding_file(license, &cert.msg, &cert.sig, msg, &signer.sign(msg))?)
}

impl Gen<'_> {
    #[allow(clippy::too_many_arguments, reason = "one vector's every input, named at the call")]
    fn binding_vector(
        &mut self,
        name: &str,
        bytes: Option<Vec<u8>>,
        description: &str,
        roots: &[&str],
        connection: [u8; 32],
        pinned: Option<[u8; 32]>,
        expected: PrivateCloudExpected,
    ) -> Result<()> {
        let file = match bytes {
            Some(b) => {
                let file = format!("{name}.bin");
                self.file(&file, b)?;
                file
            }
            None => "tls-binding-valid.bin".to_owned(),
        };
        let v = PrivateCloudVector {
            description: description.to_owned(),
            file,
            check: "tls-binding".into(),
            answer: None,
            config: None,
            binding: Some(BindingInput {
                roots: roots.iter().map(|r| (*r).to_owned()).collect(),
                connection_spki_sha256: hex(&connection),
                pinned_instance_key: pinned.map(|p| hex(&p)),
            }),
            expected,
        };
        self.json(name, &v)
    }
}

fn binding_vectors(g: &mut Gen<'_>, cert: &Cert, other_license: LicenseId) -> Result<()> {
    let spki: Vec<u8> = (0..TLS_SPKI_HEX.len() / 2)
        .map(|i| u8::from_str_radix(TLS_SPKI_HEX.get(2 * i..2 * i + 2).unwrap_or("zz"), 16))
        .collect::<core::result::Result<_, _>>()
        .map_err(|e| Error(format!("TLS_SPKI_HEX: {e}")))?;
    g.file("tls-binding-spki.der", spki.clone())?;
    let h = sha256(&spki);
    let other_tls = sha256(b"fanlic/TEST-ONLY/another-tls-key");
    let license = g.license.clone();
    let license_id = g.license_id;
    let msg = binding_message(license_id, h)?;
    let good = binding_file(&license, cert, &msg, &g.k.instance)?;
    let instance = g.k.instance.public();
    let valid = |pinned: &str| PrivateCloudExpected {
        valid: true,
        causes: vec![],
        detail: None,
        accepted: None,
        config: None,
        bound_instance_key: Some(pinned.to_owned()),
    };
    // The parts OpenSSL checks: the instance certificate under the image
    // key, the binding under the instance key; the script also hashes
    // tls-binding-spki.der and finds the hash in the binding message.
    for (f, bytes) in [
        ("tls-binding-valid.instance-certificate.msg", cert.msg.clone()),
        ("tls-binding-valid.instance-certificate.sig", cert.sig.to_vec()),
        (
            "tls-binding-valid.instance-certificate.pub.pem",
            crate::keys::public_key_pem(&g.k.image.public()).into_bytes(),
        ),
        ("tls-binding-valid.binding.msg", msg.clone()),
        ("tls-binding-valid.binding.sig", g.k.instance.sign(&msg).to_vec()),
        ("tls-binding-valid.binding.pub.pem", crate::keys::public_key_pem(&instance).into_bytes()),
    ] {
        g.files.insert(format!("vectors/openssl-private-cloud/{f}"), bytes);
    }
    g.binding_vector(
        "tls-binding-valid",
        Some(good.clone()),
        "instance-a, certified by the license's image key, binds the TLS key of tls-binding-spki.der (ECDSA P-256); \
         the connection presented that key and nothing is pinned yet: accepted, and instance-a is pinned.",
        A,
        h,
        None,
        valid(&hex(&instance)),
    )?;
    g.binding_vector(
        "tls-binding-valid-pinned",
        None,
        "The good binding, with instance-a already pinned.",
        A,
        h,
        Some(instance),
        valid(&hex(&instance)),
    )?;
    g.binding_vector(
        "tls-binding-other-tls-key",
        None,
        "The good binding relayed over a connection that presented another TLS key (a machine in the middle).",
        A,
        other_tls,
        Some(instance),
        refused(&["tls_key_not_bound"], Some("TlsKeyNotBound")),
    )?;
    // A genuine second instance of the same image: instance-clone, certified
    // by the image key, binding its own TLS key.
    let clone_cert_msg = g.cert_body(license_id, KeyId::of(&g.k.image.public()), g.k.clone.public())?;
    let clone_cert = Cert { sig: g.k.image.sign(&clone_cert_msg), msg: clone_cert_msg };
    let clone_msg = binding_message(license_id, other_tls)?;
    g.binding_vector(
        "tls-binding-other-instance",
        Some(binding_file(&license, &clone_cert, &clone_msg, &g.k.clone)?),
        "A binding by instance-clone (a second server from the same image, certified by its image key) for its own \
         TLS key, while the application pinned instance-a.",
        A,
        other_tls,
        Some(instance),
        refused(&["instance_key_changed"], None),
    )?;
    g.binding_vector(
        "tls-binding-signed-by-other-key",
        Some(binding_file(&license, cert, &msg, &g.k.clone)?),
        "The binding of instance-a's certificate and message, signed by instance-clone.",
        A,
        h,
        None,
        refused(&["bad_signature"], None),
    )?;
    let other_msg = binding_message(other_license, h)?;
    g.binding_vector(
        "tls-binding-other-license",
        Some(binding_file(&license, cert, &other_msg, &g.k.instance)?),
        "A binding validly signed by instance-a that names another license id.",
        A,
        h,
        None,
        refused(&["binding_license_mismatch"], None),
    )?;
    g.binding_vector(
        "tls-binding-unknown-root",
        None,
        "The good binding checked by a product that trusts only root-b.",
        &["root-b"],
        h,
        None,
        refused(&["content_incorrect"], Some("UnknownRootKey")),
    )?;
    let no_image = g.license(wire::Kind::PrivateCloud, None)?;
    g.binding_vector(
        "tls-binding-license-without-image-key",
        Some(binding_file(&no_image, cert, &msg, &g.k.instance)?),
        "The good binding carrying a private-cloud license without `image_public_key`.",
        A,
        h,
        None,
        refused(&["no_image_key"], None),
    )?;
    let local = g.license(wire::Kind::LocalContainer, Some(g.k.image.public()))?;
    g.binding_vector(
        "tls-binding-local-container-license",
        Some(binding_file(&local, cert, &msg, &g.k.instance)?),
        "The good binding carrying a local-container license (with the image key).",
        A,
        h,
        None,
        refused(&["license_type_mismatch"], None),
    )?;
    let magic2 =
        [b"FANLIC-TLS-BINDING/2\n".as_slice(), good.get(TLS_BINDING_MAGIC.len()..).unwrap_or_default()].concat();
    g.binding_vector(
        "tls-binding-unknown-magic",
        Some(magic2),
        "The good binding file with the magic FANLIC-TLS-BINDING/2.",
        A,
        h,
        None,
        refused(&["malformed_binding"], Some("UnknownMagic")),
    )?;
    Ok(())
}

fn state(g: &Gen<'_>) -> pc::PrivateConfigBody {
    let t = g.t.issued.0;
    let node2 = [0x33; 16];
    pc::PrivateConfigBody {
        license_id: g.license_id.0,
        instance_public_key: g.k.instance.public(),
        generation: 7,
        time_high_water: g.t.now.0,
        activated_at: Some(t + 600),
        nodes: vec![
            NodeRecord { node_id: NODE_ID, registered_at: t + 900, last_seen: g.t.now.0 - 60 },
            NodeRecord { node_id: node2, registered_at: t + 960, last_seen: g.t.now.0 - 120 },
        ],
        log_base: [0; 32],
        events: vec![
            Event { at: t, kind: EventKind::Created, node_id: [0; 16] },
            Event { at: t, kind: EventKind::Started, node_id: [0; 16] },
            Event { at: t + 600, kind: EventKind::Activated, node_id: [0; 16] },
            Event { at: t + 900, kind: EventKind::NodeRegistered, node_id: NODE_ID },
            Event { at: t + 960, kind: EventKind::NodeRegistered, node_id: node2 },
        ],
    }
}

fn config_file(cert: &Cert, body: &pc::PrivateConfigBody, signer: &TestKey) -> Result<Vec<u8>> {
    let msg = encode_private_config_body(body)?;
    Ok(encode_private_config_file(&cert.msg, &cert.sig, &msg, &signer.sign(&msg))?)
}

fn config_vectors(g: &mut Gen<'_>, cert: &Cert, other_license: LicenseId) -> Result<()> {
    let s = state(g);
    let good = config_file(cert, &s, &g.k.instance)?;
    let head = s.events.iter().fold(s.log_base, |h, e| chain_event(&h, e));
    let license_id = g.license_id;
    g.config_vector(
        "config-valid",
        "config-valid.bin",
        Some(good.clone()),
        "A privateConfig of generation 7: instance-a certified by the license's image key, activated, two nodes, \
         five events.",
        license_id,
        PrivateCloudExpected {
            valid: true,
            causes: vec![],
            detail: None,
            accepted: None,
            config: Some(ConfigJson {
                generation: 7,
                nodes: s.nodes.iter().map(|n| hex(&n.node_id)).collect(),
                log_head: hex(&head),
            }),
            bound_instance_key: None,
        },
    )?;
    g.config_vector(
        "config-foreign-license",
        "config-valid.bin",
        None,
        "The valid privateConfig checked for another license id (a file from another customer's server).",
        other_license,
        refused(&["foreign_license"], None),
    )?;

    // One byte of the state changed: the generation 7 → 6 (a rollback by hand).
    let msg = encode_private_config_body(&s)?;
    let forged_msg = encode_private_config_body(&pc::PrivateConfigBody { generation: 6, ..s.clone() })?;
    let tampered = encode_private_config_file(&cert.msg, &cert.sig, &forged_msg, &g.k.instance.sign(&msg))?;
    g.config_vector(
        "config-tampered",
        "config-tampered.bin",
        Some(tampered),
        "The valid privateConfig with its generation edited from 7 to 6, the signature kept.",
        license_id,
        refused(&["bad_signature"], None),
    )?;

    let other_msg = g.cert_body(license_id, g.k.image_other.key_id(), g.k.instance.public())?;
    let other = Cert { sig: g.k.image_other.sign(&other_msg), msg: other_msg };
    g.config_vector(
        "config-other-image",
        "config-other-image.bin",
        Some(config_file(&other, &s, &g.k.instance)?),
        "A privateConfig whose instance certificate is signed by image-other, checked with the license's image key.",
        license_id,
        refused(&["bad_signature"], None),
    )?;

    g.config_vector(
        "config-signed-by-clone",
        "config-signed-by-clone.bin",
        Some(config_file(cert, &s, &g.k.clone)?),
        "The valid state signed by instance-clone, while the certificate certifies instance-a.",
        license_id,
        refused(&["bad_signature"], None),
    )?;

    let other_key = pc::PrivateConfigBody { instance_public_key: g.k.clone.public(), ..s.clone() };
    g.config_vector(
        "config-state-other-instance",
        "config-state-other-instance.bin",
        Some(config_file(cert, &other_key, &g.k.instance)?),
        "A state validly signed by instance-a that names instance-clone's key as `instance_public_key`.",
        license_id,
        refused(&["instance_key_mismatch"], None),
    )?;

    let other_id = pc::PrivateConfigBody { license_id: other_license.0, ..s.clone() };
    g.config_vector(
        "config-state-other-license",
        "config-state-other-license.bin",
        Some(config_file(cert, &other_id, &g.k.instance)?),
        "A state validly signed by instance-a that names another license id than its certificate.",
        license_id,
        refused(&["state_license_mismatch"], None),
    )?;

    // Two checks fail at once: only the first is reported, in the order of
    // §7.4 (certificate: license id, then image key id; state: license id,
    // then instance key).
    let both_msg = g.cert_body(other_license, g.k.image_other.key_id(), g.k.instance.public())?;
    let both = Cert { sig: g.k.image.sign(&both_msg), msg: both_msg };
    g.config_vector(
        "config-certificate-two-mismatches",
        "config-certificate-two-mismatches.bin",
        Some(config_file(&both, &s, &g.k.instance)?),
        "An instance certificate validly signed by the license's image key that names another license id and \
         image-other's key id: foreign_license, the first failing check.",
        license_id,
        refused(&["foreign_license"], None),
    )?;
    let both =
        pc::PrivateConfigBody { license_id: other_license.0, instance_public_key: g.k.clone.public(), ..s.clone() };
    g.config_vector(
        "config-state-two-mismatches",
        "config-state-two-mismatches.bin",
        Some(config_file(cert, &both, &g.k.instance)?),
        "A state validly signed by instance-a that names another license id and instance-clone's key: \
         state_license_mismatch, the first failing check.",
        license_id,
        refused(&["state_license_mismatch"], None),
    )?;

    let unsorted = pc::PrivateConfigBody { nodes: s.nodes.iter().rev().copied().collect(), ..s.clone() };
    let unsorted_msg =
        [fanlic_formats::private_cloud::PRIVATE_CONFIG_LABEL, postcard::to_allocvec(&unsorted)?.as_slice()].concat();
    let file = encode_private_config_file(&cert.msg, &cert.sig, &unsorted_msg, &g.k.instance.sign(&unsorted_msg))?;
    g.config_vector(
        "config-unsorted-nodes",
        "config-unsorted-nodes.bin",
        Some(file),
        "A state validly signed by instance-a whose nodes are not in ascending order of node_id.",
        license_id,
        refused(&["bad_encoding"], Some("ascending")),
    )?;

    let magic2 = [b"FANLIC-PRIVATECONFIG/2\n".as_slice(), good.get(23..).unwrap_or_default()].concat();
    g.config_vector(
        "config-unknown-magic",
        "config-unknown-magic.bin",
        Some(magic2),
        "The valid privateConfig with the magic FANLIC-PRIVATECONFIG/2.",
        license_id,
        refused(&["unknown_format"], None),
    )?;
    Ok(())
}

/// One request's MAC (SPEC.md §7.3, "Authentication"), in
/// `fixtures/vectors/private-cloud/node-auth/requests.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeAuthVector {
    /// Short name.
    pub name: String,
    /// What it shows.
    pub description: String,
    /// The join secret, 64 hex digits.
    pub join_secret: String,
    /// `HMAC-SHA256(join_secret, "fanlic/1/node-request-key\n")`, hex.
    pub request_key: String,
    /// The request's path.
    pub path: String,
    /// The application's time, Unix seconds.
    pub at: u64,
    /// The exact body bytes, as text.
    pub body: String,
    /// `HMAC-SHA256(request_key, "fanlic/1/node-request\n" || path || "\n" || decimal(at) || "\n" || body)`, hex.
    pub mac: String,
    /// The `Authorization` header's value.
    pub authorization: String,
}

/// The node-auth vectors' file.
pub const NODE_AUTH_VECTORS: &str = "node-auth/requests.json";

/// Every node-auth vector.
pub fn load_node_auth() -> Result<Vec<NodeAuthVector>> {
    Ok(serde_json::from_str(&std::fs::read_to_string(private_cloud_dir().join(NODE_AUTH_VECTORS))?)?)
}

fn node_auth_vectors(g: &mut Gen<'_>) -> Result<()> {
    use fanlic_verifier::node_auth::JoinSecret;
    let secret = sha256(b"fanlic test join secret a");
    let other = sha256(b"fanlic test join secret b");
    let at = g.t.now.0;
    let node = hex(&[0x11; 16]);
    let cases = [
        (
            "heartbeat",
            &secret,
            "/api/v1/heartbeat",
            at,
            format!("{{\"node_id\":\"{node}\",\"nonce\":\"{}\"}}", hex(&nonce(1))),
            "A heartbeat at 2026-06-01T00:00:00Z.",
        ),
        (
            "register",
            &secret,
            "/api/v1/register",
            at,
            format!(
                "{{\"app_name\":\"FineReport\",\"version\":\"11.0.20\",\"project\":\"webroot\",\"node_id\":\"{node}\",\"nonce\":\"{}\"}}",
                hex(&nonce(2))
            ),
            "A registration: the body names the node, so the MAC cannot serve another node.",
        ),
        (
            "deregister",
            &secret,
            "/api/v1/deregister",
            at + 1,
            format!("{{\"node_id\":\"{node}\",\"nonce\":\"{}\"}}", hex(&nonce(3))),
            "A deregistration one second later.",
        ),
        (
            "heartbeat-other-secret",
            &other,
            "/api/v1/heartbeat",
            at,
            format!("{{\"node_id\":\"{node}\",\"nonce\":\"{}\"}}", hex(&nonce(1))),
            "The first vector's request under another join secret: another MAC.",
        ),
    ];
    let mut out = Vec::new();
    for (name, secret, path, at, body, description) in cases {
        let s = JoinSecret::from_bytes(*secret);
        let key = s.request_key();
        let key_bytes: [u8; 32] = {
            // The request key's bytes, computed independently of the verifier.
            let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
            ring::hmac::sign(&k, fanlic_verifier::node_auth::REQUEST_KEY_LABEL)
                .as_ref()
                .try_into()
                .map_err(|_| Error("hmac length".into()))?
        };
        let mac = key.request_mac(path, at, body.as_bytes());
        let mut msg = fanlic_verifier::node_auth::REQUEST_MAC_LABEL.to_vec();
        msg.extend_from_slice(format!("{path}\n{at}\n{body}").as_bytes());
        let independent = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key_bytes), &msg);
        if independent.as_ref() != mac.as_slice() {
            return Err(Error(format!("node-auth {name}: the verifier's MAC is not HMAC-SHA256 of the stated input")));
        }
        let authorization = key.authorization(path, at, body.as_bytes()).as_str().to_owned();
        out.push(NodeAuthVector {
            name: name.to_owned(),
            description: description.to_owned(),
            join_secret: hex(secret),
            request_key: hex(&key_bytes),
            path: path.to_owned(),
            at,
            body,
            mac: hex(&mac),
            authorization,
        });
    }
    let mut json = serde_json::to_string_pretty(&out)?;
    json.push('\n');
    g.file(NODE_AUTH_VECTORS, json.into_bytes())
}

//! Activation-receipt vectors (SPEC.md §6.5) in `fixtures/vectors/receipts/`:
//! each `NAME.bin` (a raw receipt file; some also armored, `NAME.fanlic`)
//! with `NAME.json` ([`ReceiptVector`]) naming the license, the challenge,
//! the acceptor's instance key and held receipt, its clock and the expected
//! outcome. The receipt-policy licenses they answer are vectors of the main
//! manifest (§3.3); the answers that carry a receipt (§7.2 rule 6) are in
//! `fixtures/vectors/private-cloud/`; the challenge keys are in
//! `fixtures/activation/challenge-keys.json`; the signed parts of every
//! accepted receipt, for OpenSSL, in `fixtures/vectors/openssl-receipts/`.
//!
//! Keys (all TEST-ONLY): `root-a` certifies the receipt key `receipt-a`
//! (purposes `0x8`, a 30-day window) and `issuing-a` (which signs the
//! licenses) and `issuing-a2` (which signs the delivered revocation lists).
//! The private-cloud license's image key is derived from the test master
//! secret as SPEC.md §7.1 says; `instance-a` is the authorization server's
//! instance key and `instance-clone` a copy's. Expected outcomes are written
//! by hand here; they are never computed by running the verifier.

use fanlic_formats::{
    ActivationPolicy, KeyId, LicenseId, Purposes, SignedBody, Timestamp,
    activation::ServerInstance,
    armor, encode_certificate_body, encode_instance_certificate, encode_license_payload_with_policy,
    encode_receipt_body, encode_receipt_file, encode_revocation_file, encode_revocation_list_body,
    encode_server_answer, encode_server_answer_file_with_receipt,
    private_cloud::{AnswerKind, InstanceCertificate, ServerAnswer, instance_fingerprint, wire as pc},
    receipt::{CHALLENGE_KEY_LABEL, RECEIPT_FILE_MAGIC, RECEIPT_LABEL, Receipt, receipt_id},
    wire,
};
use fanlic_verifier::activation::{ActivationKey, ChallengeInput, make_challenge_after, project_fingerprint};
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde::{Deserialize, Serialize};

use crate::{
    Env, Error, Files, Result, TestKey, hex, keys, parse_rfc3339,
    private_cloud::{AcceptedJson, AnswerInput, MASTER_VERSION, PrivateCloudExpected, PrivateCloudVector, image_seed},
    rfc3339, vectors_dir,
};

/// `fixtures/vectors/receipts/`.
pub fn receipts_dir() -> std::path::PathBuf {
    vectors_dir().join("receipts")
}

/// `fixtures/vectors/openssl-receipts/`.
pub fn openssl_receipts_dir() -> std::path::PathBuf {
    vectors_dir().join("openssl-receipts")
}

/// One receipt vector: `NAME.json`, next to the file it checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptVector {
    /// What the vector tests.
    pub description: String,
    /// Who checks it: `product` (a local container that made the
    /// challenge), `server` (an authorization server that made it) or
    /// `application` (one checking its server's receipt, §7.2 rule 6).
    pub acceptor: String,
    /// The raw receipt file, in `fixtures/vectors/receipts/`.
    pub file: String,
    /// The same receipt armored, in `fixtures/vectors/receipts/`, or null.
    pub armored: Option<String>,
    /// Names of the trusted root keys (`fixtures/keys/NAME.pub.raw`).
    pub roots: Vec<String>,
    /// The acceptor's license, armored, in `fixtures/vectors/`.
    pub license: String,
    /// SHA-256 of that license's raw file (64 hex digits).
    pub license_sha256: String,
    /// The raw token of the challenge the acceptor holds (hex), or null
    /// (an application made none).
    pub challenge_token: Option<String>,
    /// SHA-256 of `challenge_token` (64 hex digits), or null.
    pub challenge_sha256: Option<String>,
    /// What the challenge was made of (SPEC.md §6.2), or null: the token is
    /// `make_challenge_after` of these under the license's challenge key.
    pub challenge: Option<ChallengeJson>,
    /// The acceptor's instance key (64 hex digits), or null (a product).
    pub instance_public_key: Option<String>,
    /// Whether the acceptor checks `previous_receipt` (a server does).
    pub previous_receipt_checked: bool,
    /// The id of the receipt the acceptor holds (64 hex digits), or null:
    /// it holds none.
    pub previous_receipt: Option<String>,
    /// The acceptor's clock, RFC 3339 UTC.
    pub now: String,
    /// The outcome every entry point must report.
    pub expected: ReceiptExpected,
}

/// A challenge's inputs (SPEC.md §6.2), as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeJson {
    /// 32 hex digits.
    pub nonce: String,
    /// 32 hex digits.
    pub node_id: String,
    /// 64 hex digits.
    pub project_fingerprint: String,
    /// Nodes in the cluster.
    pub nodes: u32,
    /// The product's version.
    pub app_version: String,
    /// When it was made, RFC 3339.
    pub issued_at: String,
    /// An authorization server's instance fingerprint (64 hex digits), or null.
    pub instance_fingerprint: Option<String>,
    /// Its `privateConfig` generation, or null.
    pub generation: Option<u64>,
    /// The receipt id it names as previous (64 hex digits), or null.
    pub previous_receipt: Option<String>,
}

/// The expected outcome of a receipt vector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptExpected {
    /// Whether it is accepted.
    pub accepted: bool,
    /// Cause codes in order (`ReceiptCause::code`); empty when accepted.
    pub causes: Vec<String>,
    /// An accepted receipt's id, `SHA-256(receipt message)` (64 hex digits).
    pub receipt_id: Option<String>,
    /// An accepted receipt's vendor time, RFC 3339.
    pub vendor_time: Option<String>,
    /// An accepted receipt's lease end, RFC 3339, or null.
    pub lease_until: Option<String>,
    /// The sequence of the revocation list an accepted receipt delivers (one
    /// that verifies and is the one it names), or null.
    pub delivered_list_sequence: Option<u64>,
}

impl ReceiptVector {
    /// Every vector of `fixtures/vectors/receipts/`, by name, in name order.
    pub fn load_all() -> Result<Vec<(String, Self)>> {
        crate::load_json_vectors(&receipts_dir())
    }

    /// The raw receipt file.
    pub fn read_file(&self) -> Result<Vec<u8>> {
        Ok(std::fs::read(receipts_dir().join(&self.file))?)
    }

    /// The armored receipt file, if the vector has one.
    pub fn read_armored(&self) -> Result<Option<Vec<u8>>> {
        Ok(match &self.armored {
            Some(f) => Some(std::fs::read(receipts_dir().join(f))?),
            None => None,
        })
    }

    /// The acceptor's license file, armored.
    pub fn read_license(&self) -> Result<Vec<u8>> {
        Ok(std::fs::read(vectors_dir().join(&self.license))?)
    }
}

/// `fixtures/activation/challenge-keys.json`: activation key → challenge key
/// (SPEC.md §3.3), for the cases of `vectors.json` and for the
/// receipt-policy licenses, whose activation keys are derived here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeKeys {
    /// Where the rule is.
    pub spec: String,
    /// `fanlic/1/challenge-key\n`.
    pub label: String,
    /// Every case.
    pub cases: Vec<ChallengeKeyCase>,
}

/// One challenge key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeKeyCase {
    /// A case name of `vectors.json`, or a license vector's name.
    pub name: String,
    /// The master secret (hex), when the activation key is derived here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master_secret: Option<String>,
    /// Its version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master_version: Option<u32>,
    /// The license id (hex), when derived here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_id: Option<String>,
    /// The license file under `fixtures/vectors/` that carries the challenge key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// The activation key (hex).
    pub activation_key: String,
    /// `HMAC-SHA256(activation_key, "fanlic/1/challenge-key\n")` (hex).
    pub challenge_key: String,
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, data).as_ref());
    out
}

/// The challenge key of an activation key, with ring (SPEC.md §3.3).
pub fn challenge_key(activation_key: &[u8; 32]) -> [u8; 32] {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, activation_key);
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::hmac::sign(&key, CHALLENGE_KEY_LABEL).as_ref());
    out
}

struct Len32;

impl ring::hkdf::KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

/// A license's activation key (SPEC.md §6.2), with ring's HKDF.
pub fn activation_key(master: &[u8; 32], version: u32, license_id: &LicenseId) -> Result<[u8; 32]> {
    let prk = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, b"fanlic/1/activation-key\n").extract(master);
    let v = version.to_be_bytes();
    let info = [v.as_slice(), license_id.0.as_slice()];
    let mut key = [0u8; 32];
    prk.expand(&info, Len32).and_then(|okm| okm.fill(&mut key)).map_err(|_| Error("HKDF expand failed".into()))?;
    Ok(key)
}

/// The receipt-policy local-container license's vector name.
pub const LOCAL_LICENSE: &str = "valid-receipt-policy-local-container";
/// The receipt-policy private-cloud license's vector name.
pub const CLOUD_LICENSE: &str = "valid-receipt-policy-private-cloud";
/// Their activation base URL.
const BASE_URL: &str = "https://activation.example.test/fanlic/v1";

/// A receipt-policy license's message, for the main manifest.
pub(crate) struct PolicyLicense {
    pub(crate) name: &'static str,
    pub(crate) description: &'static str,
    pub(crate) message: Vec<u8>,
    pub(crate) env: Env,
}

/// The license id of a receipt-policy vector license.
pub fn policy_license_id(name: &str) -> LicenseId {
    LicenseId(crate::vectors::id16(name))
}

/// The activation key of a receipt-policy vector license (test master secret, version 1).
pub fn policy_activation_key(name: &str) -> Result<[u8; 32]> {
    activation_key(&crate::private_cloud::master_secret(), MASTER_VERSION, &policy_license_id(name))
}

/// The image key of the receipt-policy private-cloud license.
fn cloud_image() -> Result<Ed25519KeyPair> {
    let seed = image_seed(&crate::private_cloud::master_secret(), MASTER_VERSION, &policy_license_id(CLOUD_LICENSE))?;
    Ok(Ed25519KeyPair::from_seed_unchecked(&seed)?)
}

fn public_of(pair: &Ed25519KeyPair) -> [u8; 32] {
    let mut p = [0u8; 32];
    p.copy_from_slice(pair.public_key().as_ref());
    p
}

fn sign_with(pair: &Ed25519KeyPair, msg: &[u8]) -> [u8; 64] {
    let mut s = [0u8; 64];
    s.copy_from_slice(pair.sign(msg).as_ref());
    s
}

/// The two receipt-policy licenses (SPEC.md §3.3): their `activation_key`
/// field is the challenge key. Issued 2026-01-01T00:00:00Z.
pub(crate) fn policy_licenses(issued: Timestamp) -> Result<Vec<PolicyLicense>> {
    let mut out = Vec::new();
    let local_key = challenge_key(&policy_activation_key(LOCAL_LICENSE)?);
    let local = wire::LicensePayload {
        license_id: policy_license_id(LOCAL_LICENSE).0,
        kind: wire::Kind::LocalContainer,
        app_name: "FineReport",
        company: "Example Test Co.",
        project: "webroot",
        contract_signed: wire::Date { year: 2025, month: 12, day: 15 },
        issued_at: issued.0,
        not_before: issued.0,
        expiry: wire::Expiry::On(wire::Date { year: 2030, month: 12, day: 31 }),
        version: wire::Version { major: 11, minor: 0 },
        max_nodes: 1,
        activation_key: Some(local_key),
        activation_base_url: Some(BASE_URL),
        image_public_key: None,
        supersedes: None,
        request_email_sha256: None,
    };
    out.push(PolicyLicense {
        name: LOCAL_LICENSE,
        description: "The basic license under receipt policy (trailing activation_policy 0x01): its activation_key \
                      field holds the challenge key HMAC-SHA256(activation key, \"fanlic/1/challenge-key\\n\") \
                      (fixtures/activation/challenge-keys.json), with an activation base URL. It verifies as any \
                      license; it is activated only by a receipt (fixtures/vectors/receipts/).",
        message: encode_license_payload_with_policy(&local, ActivationPolicy::Receipt)?,
        env: Env {
            app_name: "FineReport".into(),
            version: "11.0".into(),
            project: "webroot".into(),
            nodes: 1,
            method: "local-container".into(),
            now: "2026-06-01T00:00:00Z".into(),
            last_seen: None,
        },
    });
    let cloud_key = challenge_key(&policy_activation_key(CLOUD_LICENSE)?);
    let image = public_of(&cloud_image()?);
    let cloud = wire::LicensePayload {
        license_id: policy_license_id(CLOUD_LICENSE).0,
        kind: wire::Kind::PrivateCloud,
        app_name: "FineBI",
        company: "Example Manufacturing Co., Ltd.",
        project: "bi-cluster",
        contract_signed: wire::Date { year: 2025, month: 12, day: 15 },
        issued_at: issued.0,
        not_before: issued.0,
        expiry: wire::Expiry::On(wire::Date { year: 2030, month: 12, day: 31 }),
        version: wire::Version { major: 6, minor: 1 },
        max_nodes: 3,
        activation_key: Some(cloud_key),
        activation_base_url: Some(BASE_URL),
        image_public_key: Some(image),
        supersedes: None,
        request_email_sha256: None,
    };
    out.push(PolicyLicense {
        name: CLOUD_LICENSE,
        description: "A private-cloud server license under receipt policy: the challenge key in activation_key, an \
                      activation base URL and the image key derived from the test master secret; 3 nodes. Its \
                      authorization server is activated by receipts (fixtures/vectors/receipts/) and its answers \
                      carry one (fixtures/vectors/private-cloud/answer-receipt-*).",
        message: encode_license_payload_with_policy(&cloud, ActivationPolicy::Receipt)?,
        env: Env {
            app_name: "FineBI".into(),
            version: "6.1.3".into(),
            project: "bi-cluster".into(),
            nodes: 1,
            method: "private-cloud".into(),
            now: "2026-06-01T00:00:00Z".into(),
            last_seen: None,
        },
    });
    Ok(out)
}

/// The receipt key's window: 2026-05-15T00:00:00Z, 30 days.
pub fn receipt_key_window() -> Result<(Timestamp, Timestamp)> {
    let from = parse_rfc3339("2026-05-15T00:00:00Z")?;
    Ok((from, Timestamp(from.0 + 30 * 86_400)))
}

/// A certificate and its signature.
#[derive(Clone, Debug)]
pub struct Cert {
    /// The signed message.
    pub msg: Vec<u8>,
    /// Its signature.
    pub sig: [u8; 64],
}

/// A certificate of `key` by `root` (SPEC.md §3.2).
pub fn certify(root: &TestKey, key: &TestKey, window: (Timestamp, Timestamp), purposes: u32) -> Result<Cert> {
    let msg = encode_certificate_body(&wire::CertificateBody {
        root_key_id: root.key_id().0,
        key_id: key.key_id().0,
        public_key: key.public(),
        not_before: window.0.0,
        not_after: window.1.0,
        purposes,
    })?;
    Ok(Cert { sig: root.sign(&msg), msg })
}

/// What the receipt vectors need from the license generator.
pub(crate) struct Inputs<'k> {
    pub(crate) root_a: &'k TestKey,
    pub(crate) root_b: &'k TestKey,
    pub(crate) receipt_key: &'k TestKey,
    /// The receipt key's certificate by root-a (purposes 0x8, 30 days).
    pub(crate) receipt_cert: Cert,
    /// issuing-a and its certificate: signs the licenses.
    pub(crate) license_key: &'k TestKey,
    pub(crate) license_cert: Cert,
    /// issuing-a2 and its certificate: signs revocation lists.
    pub(crate) revoker: &'k TestKey,
    pub(crate) revoker_cert: Cert,
    /// The two receipt-policy licenses, raw and armored (file under `vectors/`).
    pub(crate) local_raw: Vec<u8>,
    pub(crate) cloud_raw: Vec<u8>,
}

/// The acceptor of a vector.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Acceptor {
    Product,
    /// An authorization server holding this receipt (None: none).
    Server(Option<[u8; 32]>),
    Application,
}

/// A challenge's token.
#[derive(Clone)]
struct Token {
    raw: Vec<u8>,
    input: ChallengeJson,
}

fn challenge_json(input: &ChallengeInput<'_>, previous: Option<[u8; 32]>) -> ChallengeJson {
    ChallengeJson {
        nonce: hex(&input.nonce),
        node_id: hex(&input.node_id),
        project_fingerprint: hex(&input.project_fingerprint),
        nodes: input.nodes,
        app_version: input.app_version.to_owned(),
        issued_at: rfc3339(input.now),
        instance_fingerprint: input.server.map(|s| hex(&s.instance_fingerprint)),
        generation: input.server.map(|s| s.generation),
        previous_receipt: previous.map(|p| hex(&p)),
    }
}

impl Token {
    fn sha256(&self) -> [u8; 32] {
        sha256(&self.raw)
    }
}

struct Gen<'f, 'k> {
    files: &'f mut Files,
    i: Inputs<'k>,
    instance: TestKey,
    clone: TestKey,
    vendor_time: Timestamp,
    now: Timestamp,
    lease: Timestamp,
}

fn hex32(b: &[u8; 32]) -> String {
    hex(b)
}

impl Gen<'_, '_> {
    fn put(&mut self, path: String, bytes: Vec<u8>) -> Result<()> {
        if self.files.get(&path).is_some_and(|old| *old != bytes) {
            return Err(Error(format!("{path} generated twice with different bytes")));
        }
        self.files.insert(path, bytes);
        Ok(())
    }

    /// A local-container challenge (product) with `nonce_byte`.
    fn local_token(&self, nonce_byte: u8) -> Result<Token> {
        let key = ActivationKey::from_bytes(challenge_key(&policy_activation_key(LOCAL_LICENSE)?));
        let input = ChallengeInput {
            nonce: [nonce_byte; 16],
            node_id: [0x0c; 16],
            project_fingerprint: project_fingerprint("FineReport", "webroot", b"")?,
            nodes: 1,
            app_version: "11.0.20",
            now: Timestamp(self.vendor_time.0 - 60),
            server: None,
        };
        let c = make_challenge_after(policy_license_id(LOCAL_LICENSE), &key, &input, None)?;
        Ok(Token { raw: c.token().to_vec(), input: challenge_json(&input, None) })
    }

    /// An authorization server's challenge (instance-a, generation 1) naming `previous`.
    fn cloud_token(&self, nonce_byte: u8, previous: Option<[u8; 32]>) -> Result<Token> {
        let key = ActivationKey::from_bytes(challenge_key(&policy_activation_key(CLOUD_LICENSE)?));
        let input = ChallengeInput {
            nonce: [nonce_byte; 16],
            node_id: [0x0d; 16],
            project_fingerprint: project_fingerprint("FineBI", "bi-cluster", b"")?,
            nodes: 3,
            app_version: "6.1.3",
            now: Timestamp(self.vendor_time.0 - 60),
            server: Some(ServerInstance {
                instance_fingerprint: instance_fingerprint(&self.instance.public()),
                generation: 1,
            }),
        };
        let c = make_challenge_after(policy_license_id(CLOUD_LICENSE), &key, &input, previous)?;
        Ok(Token { raw: c.token().to_vec(), input: challenge_json(&input, previous) })
    }

    /// The local receipt for `token`, as the service makes it.
    fn local_receipt(&self, token: &Token) -> Result<Receipt> {
        Ok(Receipt::new(
            policy_license_id(LOCAL_LICENSE),
            sha256(&self.i.local_raw),
            token.sha256(),
            None,
            None,
            self.vendor_time,
            None,
            1,
            0,
        )?)
    }

    /// The server's receipt for `token`, binding `instance`, after `previous`, with `lease`.
    fn cloud_receipt(
        &self,
        token: &Token,
        instance: [u8; 32],
        previous: Option<[u8; 32]>,
        lease: Option<Timestamp>,
    ) -> Result<Receipt> {
        Ok(Receipt::new(
            policy_license_id(CLOUD_LICENSE),
            sha256(&self.i.cloud_raw),
            token.sha256(),
            Some(instance),
            previous,
            self.vendor_time,
            lease,
            3,
            0,
        )?)
    }

    /// A receipt file: `receipt` signed by `signer` under `cert`, with `list`.
    fn file(
        &self,
        cert: &Cert,
        signer: &TestKey,
        receipt: &Receipt,
        list: Option<&[u8]>,
    ) -> Result<(Vec<u8>, Vec<u8>)> {
        let msg = encode_receipt_body(receipt)?;
        let file = encode_receipt_file(
            SignedBody { message: &cert.msg, signature: cert.sig },
            SignedBody { message: &msg, signature: signer.sign(&msg) },
            list,
        )?;
        Ok((file, msg))
    }

    /// The receipt file as the service signs it: receipt-a under its certificate.
    fn signed(&self, receipt: &Receipt, list: Option<&[u8]>) -> Result<Vec<u8>> {
        let cert = self.i.receipt_cert.clone();
        Ok(self.file(&cert, self.i.receipt_key, receipt, list)?.0)
    }

    /// A certificate of receipt-a by root-a with these purposes and window.
    fn receipt_cert(&self, window: (Timestamp, Timestamp), purposes: u32) -> Result<Cert> {
        certify(self.i.root_a, self.i.receipt_key, window, purposes)
    }

    /// Writes `NAME.bin` (and `NAME.fanlic` when `armored`) and `NAME.json`;
    /// for an accepted receipt, its signed parts for OpenSSL.
    #[allow(clippy::too_many_arguments)]
    fn vector(
        &mut self,
        name: &str,
        bytes: &[u8],
        armored: Option<&[&str]>,
        description: &str,
        acceptor: Acceptor,
        token: Option<&Token>,
        now: Timestamp,
        causes: &[&str],
    ) -> Result<()> {
        self.vector_file(name, name, bytes, armored, description, acceptor, token, now, causes)
    }

    /// [`Gen::vector`] whose receipt file is `FILE.bin` (shared with another vector).
    #[allow(clippy::too_many_arguments)]
    fn vector_file(
        &mut self,
        name: &str,
        file_stem: &str,
        bytes: &[u8],
        armored: Option<&[&str]>,
        description: &str,
        acceptor: Acceptor,
        token: Option<&Token>,
        now: Timestamp,
        causes: &[&str],
    ) -> Result<()> {
        let file = format!("{file_stem}.bin");
        self.put(format!("vectors/receipts/{file}"), bytes.to_vec())?;
        let armored_name = match armored {
            Some(comments) => {
                let f = format!("{file_stem}.fanlic");
                self.put(format!("vectors/receipts/{f}"), armor::encode_receipt(bytes, comments)?.into_bytes())?;
                Some(f)
            }
            None => None,
        };
        let (license, raw) = match acceptor {
            Acceptor::Product => (LOCAL_LICENSE, &self.i.local_raw),
            _ => (CLOUD_LICENSE, &self.i.cloud_raw),
        };
        let license_sha256 = hex32(&sha256(raw));
        let accepted = causes.is_empty();
        let mut expected = ReceiptExpected {
            accepted,
            causes: causes.iter().map(|c| (*c).to_owned()).collect(),
            receipt_id: None,
            vendor_time: None,
            lease_until: None,
            delivered_list_sequence: None,
        };
        if accepted {
            let env = fanlic_formats::receipt::ReceiptEnvelope::decode(bytes)?;
            let r = Receipt::decode(env.receipt.message)?;
            expected.receipt_id = Some(hex32(&receipt_id(env.receipt.message)));
            expected.vendor_time = Some(rfc3339(r.vendor_time));
            expected.lease_until = r.lease_until.map(rfc3339);
            // delivered_list_sequence: set by hand (set_delivered) where a list is delivered.
            let cert = fanlic_formats::IssuingKeyCertificate::decode(env.certificate.message)?;
            let openssl = [
                (format!("{file_stem}.cert.msg"), env.certificate.message.to_vec()),
                (format!("{file_stem}.cert.sig"), env.certificate.signature.to_vec()),
                (format!("{file_stem}.cert.pub.pem"), keys::public_key_pem(&self.i.root_a.public()).into_bytes()),
                (format!("{file_stem}.receipt.msg"), env.receipt.message.to_vec()),
                (format!("{file_stem}.receipt.sig"), env.receipt.signature.to_vec()),
                (format!("{file_stem}.receipt.pub.pem"), keys::public_key_pem(&cert.public_key).into_bytes()),
            ];
            for (f, b) in openssl {
                self.put(format!("vectors/openssl-receipts/{f}"), b)?;
            }
        }
        let (instance, checked, previous) = match acceptor {
            Acceptor::Product => (None, false, None),
            Acceptor::Server(held) => (Some(hex32(&self.instance.public())), true, held.map(|h| hex32(&h))),
            Acceptor::Application => (Some(hex32(&self.instance.public())), false, None),
        };
        let v = ReceiptVector {
            description: description.to_owned(),
            acceptor: match acceptor {
                Acceptor::Product => "product",
                Acceptor::Server(_) => "server",
                Acceptor::Application => "application",
            }
            .to_owned(),
            file,
            armored: armored_name,
            roots: vec!["root-a".to_owned()],
            license: format!("{license}.lic"),
            license_sha256,
            challenge_token: token.map(|t| hex(&t.raw)),
            challenge_sha256: token.map(|t| hex32(&t.sha256())),
            challenge: token.map(|t| t.input.clone()),
            instance_public_key: instance,
            previous_receipt_checked: checked,
            previous_receipt: previous,
            now: rfc3339(now),
            expected,
        };
        let mut json = serde_json::to_string_pretty(&v)?;
        json.push('\n');
        self.put(format!("vectors/receipts/{name}.json"), json.into_bytes())
    }

    /// Sets the delivered list's sequence of an accepted vector's JSON.
    fn set_delivered(&mut self, name: &str, sequence: u64) -> Result<()> {
        let path = format!("vectors/receipts/{name}.json");
        let text = self.files.get(&path).ok_or_else(|| Error(format!("no {path}")))?;
        let mut v: ReceiptVector = serde_json::from_slice(text)?;
        v.expected.delivered_list_sequence = Some(sequence);
        let mut json = serde_json::to_string_pretty(&v)?;
        json.push('\n');
        self.files.insert(path, json.into_bytes());
        Ok(())
    }

    /// A revocation list of `sequence` by issuing-a2, revoking `revoked`.
    fn list(&self, sequence: u64, revoked: &[LicenseId]) -> Result<Vec<u8>> {
        let body = encode_revocation_list_body(sequence, parse_rfc3339("2026-05-01T00:00:00Z")?, revoked, &[])?;
        Ok(encode_revocation_file(
            &self.i.revoker_cert.msg,
            &self.i.revoker_cert.sig,
            &body,
            &self.i.revoker.sign(&body),
        )?)
    }
}

/// The receipt with a changed wire body, checked as a decoder checks it.
fn with(r: &Receipt, f: impl FnOnce(&mut fanlic_formats::receipt::wire::ReceiptBody)) -> Result<Receipt> {
    let mut w = r.to_wire();
    f(&mut w);
    Ok(Receipt::from_wire(&w)?)
}

fn flip(bytes: &mut [u8], at: usize) -> Result<()> {
    let b = bytes.get_mut(at).ok_or_else(|| Error(format!("no byte {at}")))?;
    *b ^= 0x01;
    Ok(())
}

/// Adds the receipt vectors, the answers that carry receipts and the
/// challenge keys to `files`.
pub(crate) fn generate(files: &mut Files, inputs: Inputs<'_>) -> Result<()> {
    let mut g = Gen {
        files,
        i: inputs,
        instance: TestKey::new("instance-a")?,
        clone: TestKey::new("instance-clone")?,
        // The challenge is made a minute before the vendor signs, and the
        // receipt accepted two minutes after: within the challenge's 5 minutes.
        vendor_time: parse_rfc3339("2026-05-31T23:58:00Z")?,
        now: parse_rfc3339("2026-06-01T00:00:00Z")?,
        lease: parse_rfc3339("2026-08-30T00:00:00Z")?,
    };
    let now = g.now;
    let window = receipt_key_window()?;
    let product = Acceptor::Product;
    let instance = g.instance.public();

    // ================= accepted =================
    let t_local = g.local_token(0x01)?;
    let local = g.local_receipt(&t_local)?;
    let local_file = g.signed(&local, None)?;
    g.vector(
        "valid-local-container",
        &local_file,
        Some(&["# fanlic activation receipt (unsigned comment lines: readers ignore them)", "# TEST-ONLY"]),
        "A product's receipt: the receipt-policy local-container license, the challenge the product holds (its \
         token's SHA-256), no instance key, vendor time 2026-05-31T23:58:00Z inside receipt-a's window \
         (2026-05-15T00:00:00Z, 30 days, purposes 0x8, certified by root-a), no lease, no revocation list. \
         Accepted raw and armored (NAME.fanlic, with comment lines).",
        product,
        Some(&t_local),
        now,
        &[],
    )?;

    // The server's first activation: it holds no receipt, its challenge names none.
    let t_first = g.cloud_token(0x02, None)?;
    let first = g.cloud_receipt(&t_first, instance, None, Some(g.lease))?;
    let first_file = g.signed(&first, None)?;
    let first_id = receipt_id(&encode_receipt_body(&first)?);
    g.vector(
        "valid-private-cloud-first",
        &first_file,
        None,
        "An authorization server's first receipt: the receipt-policy private-cloud license, the server's challenge \
         (which names no previous receipt), instance-a's key, no previous receipt (the server holds none), lease \
         until 2026-08-30T00:00:00Z. Accepted by the server that holds no receipt.",
        Acceptor::Server(None),
        Some(&t_first),
        now,
        &[],
    )?;

    // Its re-activation: the challenge names the first receipt.
    let t_next = g.cloud_token(0x03, Some(first_id))?;
    let next = g.cloud_receipt(&t_next, instance, Some(first_id), Some(g.lease))?;
    let next_file = g.signed(&next, None)?;
    g.vector(
        "valid-private-cloud",
        &next_file,
        Some(&["# TEST-ONLY receipt"]),
        "The server's re-activation: its challenge and the receipt name as previous_receipt the id of \
         valid-private-cloud-first's receipt, which the server holds; instance-a; lease until \
         2026-08-30T00:00:00Z. Accepted raw and armored.",
        Acceptor::Server(Some(first_id)),
        Some(&t_next),
        now,
        &[],
    )?;
    g.vector_file(
        "valid-private-cloud-application",
        "valid-private-cloud",
        &next_file,
        None,
        "valid-private-cloud's receipt checked as an application checks its server's (SPEC.md §7.2 rule 6): no \
         challenge, the answer's instance key instance-a, the previous receipt not checked. Accepted.",
        Acceptor::Application,
        None,
        now,
        &[],
    )?;

    // ================= bindings (rules 3 to 6) =================
    let other_token = g.local_token(0x04)?;
    let f = g.signed(&g.local_receipt(&other_token)?, None)?;
    g.vector(
        "wrong-challenge",
        &f,
        None,
        "A valid receipt for another challenge of the same license (another nonce) than the one the product holds.",
        product,
        Some(&t_local),
        now,
        &["receipt_challenge_mismatch"],
    )?;

    let r = g.cloud_receipt(&t_next, g.clone.public(), Some(first_id), Some(g.lease))?;
    let f = g.signed(&r, None)?;
    g.vector(
        "wrong-instance",
        &f,
        None,
        "The server's re-activation receipt, but binding instance-clone's key: the server (instance-a) refuses it.",
        Acceptor::Server(Some(first_id)),
        Some(&t_next),
        now,
        &["receipt_instance_mismatch"],
    )?;

    let elsewhere = sha256(b"fanlic/TEST-ONLY/another-receipt");
    let t_fork = g.cloud_token(0x05, Some(elsewhere))?;
    let r = g.cloud_receipt(&t_fork, instance, Some(elsewhere), Some(g.lease))?;
    let f = g.signed(&r, None)?;
    g.vector(
        "previous-mismatch",
        &f,
        None,
        "A receipt for the server's challenge, but naming as previous_receipt another receipt than the one the \
         server holds (valid-private-cloud-first's): a copy of the server that re-activated elsewhere.",
        Acceptor::Server(Some(first_id)),
        Some(&t_fork),
        now,
        &["receipt_previous_mismatch"],
    )?;

    let f = g.signed(&g.cloud_receipt(&t_next, instance, Some(first_id), Some(g.lease))?, None)?;
    g.vector(
        "previous-when-none-held",
        &f,
        None,
        "valid-private-cloud's receipt (which follows valid-private-cloud-first's) offered to a server that holds \
         no receipt: a server started from a configuration older than its first activation.",
        Acceptor::Server(None),
        Some(&t_next),
        now,
        &["receipt_previous_mismatch"],
    )?;

    let ended = parse_rfc3339("2026-05-31T23:59:00Z")?;
    let r = g.cloud_receipt(&t_first, instance, None, Some(ended))?;
    let f = g.signed(&r, None)?;
    g.vector(
        "lease-expired",
        &f,
        None,
        "The server's first receipt with a lease until 2026-05-31T23:59:00Z (after vendor_time), checked at \
         2026-06-01T00:00:00Z: the lease has ended on the acceptor's clock.",
        Acceptor::Server(None),
        Some(&t_first),
        now,
        &["lease_expired"],
    )?;

    let f = g.signed(&g.cloud_receipt(&t_first, instance, None, Some(now))?, None)?;
    g.vector(
        "lease-ends-now",
        &f,
        None,
        "The server's first receipt with a lease until 2026-06-01T00:00:00Z, the acceptor's clock: the lease has \
         ended at its first instant (now >= lease_until).",
        Acceptor::Server(None),
        Some(&t_first),
        now,
        &["lease_expired"],
    )?;

    let r = with(&local, |w| w.license_sha256 = sha256(b"fanlic/TEST-ONLY/other-license-bytes"))?;
    let f = g.signed(&r, None)?;
    g.vector(
        "license-mismatch",
        &f,
        None,
        "The product's receipt with the license's id and max_nodes but the SHA-256 of other license bytes.",
        product,
        Some(&t_local),
        now,
        &["receipt_license_mismatch"],
    )?;

    // ================= the receipt key (rule 1) =================
    let extra = g.receipt_cert(window, Purposes::RECEIPT | Purposes::LOCAL_CONTAINER)?;
    let f = g.file(&extra, g.i.receipt_key, &local, None)?.0;
    g.vector(
        "key-extra-purpose",
        &f,
        None,
        "The product's receipt signed by receipt-a under a certificate (by root-a) granting purposes 0x9: receipts \
         and local-container licenses. A receipt key must be certified for receipts alone.",
        product,
        Some(&t_local),
        now,
        &["receipt_key_not_certified"],
    )?;

    let long = g.receipt_cert((window.0, Timestamp(window.0.0 + 40 * 86_400)), Purposes::RECEIPT)?;
    let f = g.file(&long, g.i.receipt_key, &local, None)?.0;
    g.vector(
        "key-window-40-days",
        &f,
        None,
        "The product's receipt signed by receipt-a under a certificate granting 0x8 for 40 days from \
         2026-05-15T00:00:00Z (vendor_time inside it): longer than 31 days.",
        product,
        Some(&t_local),
        now,
        &["receipt_key_not_certified"],
    )?;

    // The issuing key that signs the licenses (issuing-a, purposes 0x3 for
    // four years) never signs a receipt.
    let f = g.file(&g.i.license_cert.clone(), g.i.license_key, &local, None)?.0;
    g.vector(
        "signed-by-license-issuing-key",
        &f,
        None,
        "The product's receipt signed by issuing-a under its certificate by root-a (purposes 0x3, 2025-01-01 to \
         2028-12-31): a key that signs licenses is not a receipt key.",
        product,
        Some(&t_local),
        now,
        &["receipt_key_not_certified"],
    )?;
    let reserved = g.receipt_cert(window, Purposes::RECEIPT | (1 << 31))?;
    let f = g.file(&reserved, g.i.receipt_key, &local, None)?.0;
    g.vector(
        "key-reserved-purpose-bit",
        &f,
        None,
        "The product's receipt under a certificate of receipt-a granting 0x80000008: the reserved bit 31 grants \
         nothing and takes nothing away. Accepted.",
        product,
        Some(&t_local),
        now,
        &[],
    )?;

    // Boundaries: a window of exactly 31 days is a receipt key's longest; a
    // window ending at vendor_time still contains it.
    let longest = g.receipt_cert((window.0, Timestamp(window.0.0 + 31 * 86_400)), Purposes::RECEIPT)?;
    let f = g.file(&longest, g.i.receipt_key, &local, None)?.0;
    g.vector(
        "key-window-31-days",
        &f,
        None,
        "The product's receipt signed by receipt-a under a certificate granting 0x8 for exactly 31 days (2678400 \
         seconds) from 2026-05-15T00:00:00Z: the longest window allowed. Accepted.",
        product,
        Some(&t_local),
        now,
        &[],
    )?;
    let over = g.receipt_cert((window.0, Timestamp(window.0.0 + 31 * 86_400 + 1)), Purposes::RECEIPT)?;
    let f = g.file(&over, g.i.receipt_key, &local, None)?.0;
    g.vector(
        "key-window-31-days-and-1-second",
        &f,
        None,
        "The same with a window one second longer than 31 days.",
        product,
        Some(&t_local),
        now,
        &["receipt_key_not_certified"],
    )?;
    let ending = g.receipt_cert((Timestamp(g.vendor_time.0 - 30 * 86_400), g.vendor_time), Purposes::RECEIPT)?;
    let f = g.file(&ending, g.i.receipt_key, &local, None)?.0;
    g.vector(
        "key-window-ends-at-vendor-time",
        &f,
        None,
        "The product's receipt under a certificate of receipt-a whose window (30 days) ends at the receipt's \
         vendor_time, 2026-05-31T23:58:00Z: not_after is the last instant the key may sign. Accepted.",
        product,
        Some(&t_local),
        now,
        &[],
    )?;

    let before = parse_rfc3339("2026-05-10T00:00:00Z")?;
    let early = with(&local, |w| w.vendor_time = before.0)?;
    let f = g.signed(&early, None)?;
    g.vector(
        "vendor-time-outside-window",
        &f,
        None,
        "The product's receipt with vendor_time 2026-05-10T00:00:00Z, before receipt-a's window opens \
         (2026-05-15T00:00:00Z).",
        product,
        Some(&t_local),
        now,
        &["receipt_key_outside_window"],
    )?;

    // ================= signatures and roots =================
    let cert = g.i.receipt_cert.clone();
    let (msg, sig) = {
        let msg = encode_receipt_body(&local)?;
        let sig = g.i.receipt_key.sign(&msg);
        (msg, sig)
    };
    let mut bad = sig;
    flip(&mut bad, 10)?;
    let f = encode_receipt_file(
        SignedBody { message: &cert.msg, signature: cert.sig },
        SignedBody { message: &msg, signature: bad },
        None,
    )?;
    g.vector(
        "bad-receipt-signature",
        &f,
        None,
        "The product's receipt with one bit of the receipt's signature flipped: one opaque cause, nothing of the \
         receipt evaluated.",
        product,
        Some(&t_local),
        now,
        &["receipt_bad_signature"],
    )?;

    let mut bad = cert.sig;
    flip(&mut bad, 10)?;
    let f = encode_receipt_file(
        SignedBody { message: &cert.msg, signature: bad },
        SignedBody { message: &msg, signature: sig },
        None,
    )?;
    g.vector(
        "bad-certificate-signature",
        &f,
        None,
        "The product's receipt with one bit of the receipt key certificate's signature (by root-a) flipped: one \
         opaque cause, nothing of the certificate or the receipt evaluated.",
        product,
        Some(&t_local),
        now,
        &["receipt_bad_signature"],
    )?;

    let extra_msg = encode_receipt_body(&local)?;
    let mut bad = g.i.receipt_key.sign(&extra_msg);
    flip(&mut bad, 10)?;
    let f = encode_receipt_file(
        SignedBody { message: &extra.msg, signature: extra.sig },
        SignedBody { message: &extra_msg, signature: bad },
        None,
    )?;
    g.vector(
        "bad-receipt-signature-key-not-certified",
        &f,
        None,
        "The product's receipt under the 0x9 certificate (which verifies by root-a) with one bit of the receipt's \
         signature flipped: the opaque signature cause, and the certificate's claims, which are known, in the \
         order of the causes; nothing of the receipt is evaluated.",
        product,
        Some(&t_local),
        now,
        &["receipt_bad_signature", "receipt_key_not_certified"],
    )?;

    let by_b = certify(g.i.root_b, g.i.receipt_key, window, Purposes::RECEIPT)?;
    let f = g.file(&by_b, g.i.receipt_key, &local, None)?.0;
    g.vector(
        "unknown-root",
        &f,
        None,
        "The product's receipt under a certificate of receipt-a by root-b, which the product does not trust.",
        product,
        Some(&t_local),
        now,
        &["receipt_unknown_root_key"],
    )?;

    // ================= the delivered revocation list =================
    let local_id = policy_license_id(LOCAL_LICENSE);
    let other_id = LicenseId(crate::vectors::id16("valid-local-container"));
    let revoking = g.list(3, &[local_id, other_id])?;
    let r3 = with(&local, |w| w.revocation_sequence = 3)?;
    let f = g.signed(&r3, Some(&revoking))?;
    g.vector(
        "revoked-by-delivered-list",
        &f,
        None,
        "The product's receipt naming revocation_sequence 3 and delivering list 3 (by issuing-a2, certified by \
         root-a for revocation lists), which revokes this license.",
        product,
        Some(&t_local),
        now,
        &["revoked"],
    )?;

    let r4 = with(&local, |w| w.revocation_sequence = 4)?;
    let f = g.signed(&r4, Some(&revoking))?;
    g.vector(
        "delivered-list-other-sequence",
        &f,
        None,
        "The product's receipt naming revocation_sequence 4 but delivering list 3 (which revokes this license): the \
         list is not the one named, so it is ignored, never the receipt. Accepted, no list delivered.",
        product,
        Some(&t_local),
        now,
        &[],
    )?;

    let sparing = g.list(3, &[other_id])?;
    let f = g.signed(&r3, Some(&sparing))?;
    g.vector(
        "valid-with-delivered-list",
        &f,
        None,
        "The product's receipt naming revocation_sequence 3 and delivering list 3, which revokes another license \
         (valid-local-container's): accepted, and the list delivered.",
        product,
        Some(&t_local),
        now,
        &[],
    )?;
    g.set_delivered("valid-with-delivered-list", 3)?;

    // ================= several causes at once =================
    let r = with(&local, |w| {
        w.max_nodes = 2;
        w.challenge_sha256 = other_token.sha256();
        w.instance_public_key = Some(instance);
        w.lease_until = Some(ended.0);
    })?;
    let f = g.file(&extra, g.i.receipt_key, &r, None)?.0;
    g.vector(
        "several-causes",
        &f,
        None,
        "The product's receipt under the 0x9 certificate, with max_nodes 2 (the license has 1), another challenge, \
         an instance key (a product's receipt names none) and a lease that ended 2026-05-31T23:59:00Z: every cause \
         at once, in order.",
        product,
        Some(&t_local),
        now,
        &[
            "receipt_key_not_certified",
            "receipt_license_mismatch",
            "receipt_challenge_mismatch",
            "receipt_instance_mismatch",
            "lease_expired",
        ],
    )?;

    // ================= malformed =================
    let cut = local_file.get(..local_file.len().saturating_sub(10)).unwrap_or_default().to_vec();
    g.vector(
        "malformed-truncated",
        &cut,
        None,
        "valid-local-container's raw receipt without its last 10 bytes.",
        product,
        Some(&t_local),
        now,
        &["receipt_malformed"],
    )?;
    let mut trailing = local_file.clone();
    trailing.push(0);
    g.vector(
        "malformed-trailing-byte",
        &trailing,
        None,
        "valid-local-container's raw receipt with one 0x00 byte after it.",
        product,
        Some(&t_local),
        now,
        &["receipt_malformed"],
    )?;
    let mut magic = local_file.clone();
    let version = RECEIPT_FILE_MAGIC.len() - 2;
    let b = magic.get_mut(version).ok_or_else(|| Error("short receipt".into()))?;
    *b = b'2';
    g.vector(
        "malformed-unknown-magic",
        &magic,
        None,
        "valid-local-container's raw receipt with the magic FANLIC-RECEIPT/2: a version this reader does not know.",
        product,
        Some(&t_local),
        now,
        &["receipt_malformed"],
    )?;

    // Signed parts that do not decode: found once their signature holds.
    let w = {
        let c = wire::CertificateBody {
            root_key_id: g.i.root_a.key_id().0,
            key_id: g.i.root_b.key_id().0,
            public_key: g.i.receipt_key.public(),
            not_before: window.0.0,
            not_after: window.1.0,
            purposes: Purposes::RECEIPT,
        };
        let msg = [fanlic_formats::CERTIFICATE_SIGNATURE_LABEL, &postcard::to_allocvec(&c)?].concat();
        Cert { sig: g.i.root_a.sign(&msg), msg }
    };
    let f = g.file(&w, g.i.receipt_key, &local, None)?.0;
    g.vector(
        "certificate-key-id-mismatch",
        &f,
        None,
        "The product's receipt under a certificate of receipt-a's key, signed by root-a, whose key_id is root-b's \
         key id, not that of its public key: the certificate does not decode.",
        product,
        Some(&t_local),
        now,
        &["receipt_malformed"],
    )?;

    let lw = local.to_wire();
    let head = [
        RECEIPT_LABEL,
        &lw.license_id,
        &lw.license_sha256,
        &lw.challenge_sha256,
        &[0, 0],
        &crate::vectors::varint(lw.vendor_time),
    ]
    .concat();
    let bodies: [(&str, Vec<u8>, &str); 2] = [
        (
            "signed-overlong-varint-in-receipt",
            [head.as_slice(), &[0], &crate::vectors::overlong_varint(1), &[0]].concat(),
            "The product's receipt with max_nodes written as the overlong varint 0x81 0x00, the message validly signed \
             by receipt-a: the signature holds but the body is not canonical.",
        ),
        (
            "signed-lease-not-after-vendor-time",
            [head.as_slice(), &[1], &crate::vectors::varint(lw.vendor_time), &[1, 0]].concat(),
            "The product's receipt with lease_until equal to vendor_time, validly signed by receipt-a: a lease must end \
             after the vendor's time, so the body does not decode.",
        ),
    ];
    let cert = g.i.receipt_cert.clone();
    for (name, msg, description) in bodies {
        let f = encode_receipt_file(
            SignedBody { message: &cert.msg, signature: cert.sig },
            SignedBody { message: &msg, signature: g.i.receipt_key.sign(&msg) },
            None,
        )?;
        g.vector(name, &f, None, description, product, Some(&t_local), now, &["receipt_malformed"])?;
    }

    // ================= answers that carry a receipt (§7.2 rule 6) =================
    answers(&mut g, &next_file, &first_id, &t_next, ended)?;

    // ================= challenge keys (§3.3) =================
    challenge_keys(g.files)?;
    Ok(())
}

/// `fixtures/vectors/private-cloud/answer-receipt-*`: heartbeat answers of
/// instance-a for the receipt-policy server license.
fn answers(
    g: &mut Gen<'_, '_>,
    good_receipt: &[u8],
    first_id: &[u8; 32],
    token: &Token,
    ended: Timestamp,
) -> Result<()> {
    let license_id = policy_license_id(CLOUD_LICENSE);
    let image = cloud_image()?;
    let instance = g.instance.public();
    let cert_msg = encode_instance_certificate(&InstanceCertificate::from_wire(&pc::InstanceCertificateBody {
        license_id: license_id.0,
        image_key_id: KeyId::of(&public_of(&image)).0,
        instance_public_key: instance,
        created_at: parse_rfc3339("2026-01-01T00:00:00Z")?.0,
    })?)?;
    let cert_sig = sign_with(&image, &cert_msg);
    let nonce = {
        let d = sha256(b"fanlic/TEST-ONLY/nonce/receipt");
        let mut n = [0u8; 16];
        n.copy_from_slice(d.get(..16).unwrap_or(&[7; 16]));
        n
    };
    let at = Timestamp(g.now.0 - 60);
    let body = ServerAnswer::from_wire(&pc::ServerAnswerBody {
        license_id: license_id.0,
        kind: AnswerKind::Heartbeat,
        node_id: crate::private_cloud::NODE_ID,
        nonce,
        at: at.0,
        valid_until: at.0 + 86_400,
        nodes: 2,
    })?;
    let msg = encode_server_answer(&body)?;
    let sig = g.instance.sign(&msg);
    let raw = g.i.cloud_raw.clone();
    let answer = |receipt: Option<&[u8]>| {
        encode_server_answer_file_with_receipt(&raw, &cert_msg, &cert_sig, &msg, &sig, receipt)
    };
    let input = AnswerInput {
        roots: vec!["root-a".to_owned()],
        env: Env {
            app_name: "FineBI".into(),
            version: "6.1.3".into(),
            project: "bi-cluster".into(),
            nodes: 1,
            method: "private-cloud".into(),
            now: rfc3339(g.now),
            last_seen: None,
        },
        kind: "heartbeat".into(),
        node_id: hex(&crate::private_cloud::NODE_ID),
        nonce: hex(&nonce),
        pinned_instance_key: None,
    };
    let refused = |causes: &[&str]| PrivateCloudExpected {
        valid: false,
        causes: causes.iter().map(|c| (*c).to_owned()).collect(),
        detail: None,
        accepted: None,
        config: None,
        bound_instance_key: None,
    };
    let accepted = PrivateCloudExpected {
        valid: true,
        causes: vec![],
        detail: None,
        accepted: Some(AcceptedJson {
            license_id: hex(&license_id.0),
            instance_public_key: hex(&instance),
            kind: "heartbeat".into(),
            at: rfc3339(at),
            valid_until: rfc3339(Timestamp(at.0 + 86_400)),
            nodes: 2,
            lease_until: Some(rfc3339(g.lease)),
        }),
        config: None,
        bound_instance_key: None,
    };
    let clone_receipt = g.signed(&g.cloud_receipt(token, g.clone.public(), Some(*first_id), Some(g.lease))?, None)?;
    let ended_receipt = g.signed(&g.cloud_receipt(token, instance, Some(*first_id), Some(ended))?, None)?;
    let several = g.signed(
        &with(&g.cloud_receipt(token, g.clone.public(), Some(*first_id), Some(ended))?, |w| w.max_nodes = 2)?,
        None,
    )?;
    let cases: [(&str, Option<&[u8]>, &str, PrivateCloudExpected); 5] = [
        (
            "answer-receipt-accepted",
            Some(good_receipt),
            "A heartbeat answer of instance-a for the receipt-policy server license (valid-receipt-policy-private-cloud), \
             carrying the server's receipt without a revocation list (receipts/valid-private-cloud.bin: instance-a, \
             lease until 2026-08-30T00:00:00Z). Accepted, with the lease.",
            accepted,
        ),
        (
            "answer-receipt-missing",
            None,
            "The same answer without a receipt: under receipt policy the product accepts no server the vendor did \
             not receipt.",
            refused(&["receipt_missing"]),
        ),
        (
            "answer-receipt-other-instance",
            Some(&clone_receipt),
            "The same answer (instance-a's certificate and signature) carrying a receipt that binds instance-clone: a \
             copy of the server using another's receipt.",
            refused(&["receipt_instance_mismatch"]),
        ),
        (
            "answer-receipt-lease-expired",
            Some(&ended_receipt),
            "The same answer carrying a receipt for instance-a whose lease ended at 2026-05-31T23:59:00Z, checked at \
             2026-06-01T00:00:00Z on the product's clock (the server's answer is fresh).",
            refused(&["lease_expired"]),
        ),
        (
            "answer-receipt-several-causes",
            Some(&several),
            "The same answer, checked against a request with another nonce, carrying a receipt with max_nodes 2 \
             (the license has 3), binding instance-clone, whose lease ended at 2026-05-31T23:59:00Z: the answer's \
             cause, then the receipt's first cause only (receipt_license_mismatch, not receipt_instance_mismatch), \
             then lease_expired.",
            refused(&["nonce_mismatch", "receipt_license_mismatch", "lease_expired"]),
        ),
    ];
    for (name, receipt, description, expected) in cases {
        let file = format!("{name}.bin");
        g.put(format!("vectors/private-cloud/{file}"), answer(receipt)?)?;
        let mut input = input.clone();
        if name == "answer-receipt-several-causes" {
            input.nonce = hex(&[0x99; 16]);
        }
        let v = PrivateCloudVector {
            description: description.to_owned(),
            file,
            check: "server-answer".into(),
            answer: Some(input),
            config: None,
            binding: None,
            expected,
        };
        let mut json = serde_json::to_string_pretty(&v)?;
        json.push('\n');
        g.put(format!("vectors/private-cloud/{name}.json"), json.into_bytes())?;
    }
    Ok(())
}

/// The activation vectors' names and activation keys (fixtures/activation/vectors.json).
fn activation_cases() -> Result<Vec<(String, [u8; 32])>> {
    let text = std::fs::read_to_string(crate::fixtures_dir().join("activation").join("vectors.json"))?;
    let v: serde_json::Value = serde_json::from_str(&text)?;
    let cases = v.get("cases").and_then(|c| c.as_array()).ok_or_else(|| Error("vectors.json: no cases".into()))?;
    cases
        .iter()
        .map(|c| {
            let name = c
                .get("name")
                .and_then(|n| n.as_str())
                .ok_or_else(|| Error("vectors.json: a case without name".into()))?;
            let key = c
                .get("activation_key")
                .and_then(|n| n.as_str())
                .ok_or_else(|| Error(format!("vectors.json: {name} has no activation_key")))?;
            Ok((name.to_owned(), crate::private_cloud::unhex::<32>(key)?))
        })
        .collect()
}

fn challenge_keys(files: &mut Files) -> Result<()> {
    let mut cases = Vec::new();
    for (name, key) in activation_cases()? {
        cases.push(ChallengeKeyCase {
            name,
            master_secret: None,
            master_version: None,
            license_id: None,
            license: None,
            activation_key: hex(&key),
            challenge_key: hex(&challenge_key(&key)),
        });
    }
    // The activation key of the verifier's unit tests (verifier/src/receipt.rs).
    let key = [0x42; 32];
    cases.push(ChallengeKeyCase {
        name: "activation-key-0x42".into(),
        master_secret: None,
        master_version: None,
        license_id: None,
        license: None,
        activation_key: hex(&key),
        challenge_key: hex(&challenge_key(&key)),
    });
    for name in [LOCAL_LICENSE, CLOUD_LICENSE] {
        let key = policy_activation_key(name)?;
        cases.push(ChallengeKeyCase {
            name: name.to_owned(),
            master_secret: Some(hex(&crate::private_cloud::master_secret())),
            master_version: Some(MASTER_VERSION),
            license_id: Some(hex(&policy_license_id(name).0)),
            license: Some(format!("{name}.lic")),
            activation_key: hex(&key),
            challenge_key: hex(&challenge_key(&key)),
        });
    }
    let doc = ChallengeKeys {
        spec: "formats/SPEC.md §3.3".into(),
        label: String::from_utf8_lossy(CHALLENGE_KEY_LABEL).into_owned(),
        cases,
    };
    let mut json = serde_json::to_string_pretty(&doc)?;
    json.push('\n');
    files.insert("activation/challenge-keys.json".into(), json.into_bytes());
    Ok(())
}

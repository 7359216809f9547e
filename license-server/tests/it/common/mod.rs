//! A TEST-ONLY private-cloud license, signed with the published test keys of
//! `fanlic-testkit`, and the license folder of an image made from it. Shared by
//! the unit tests (through `#[path]`) and the integration tests.
#![allow(dead_code, reason = "shared by the unit and the integration tests; each uses a part")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::{fs, os::unix::fs::PermissionsExt as _, path::Path};

use fanlic_formats::{
    ActivationPolicy, LicenseId, SignedBody, Timestamp, armor, encode_certificate_body, encode_license_file,
    encode_license_payload_with_policy, encode_receipt_body, encode_receipt_file, receipt::Receipt, wire,
};
use fanlic_testkit::keys::{TestKey, pem, public_key_pem};
use sha2::{Digest as _, Sha256};

/// The license's activation key (the vendor derives one per license; any
/// 32 bytes do for a test).
pub const ACTIVATION_KEY: [u8; 32] = [0x42; 32];
/// The license id.
pub const LICENSE_ID: [u8; 16] = [0x5a; 16];
/// Where the license's QR codes point.
pub const BASE_URL: &str = "https://activate.example.invalid/a";
/// When the license was issued; test clocks start after it.
pub const ISSUED_AT: u64 = 1_700_000_000;

/// A signed server license and its keys.
#[derive(Debug)]
pub struct Fixture {
    /// The vendor root key.
    pub root: TestKey,
    /// The image key (the license's `image_public_key`).
    pub image: TestKey,
    /// The raw license file.
    pub raw: Vec<u8>,
    /// `server.lic`.
    pub armored: String,
}

impl Fixture {
    /// The license id.
    pub fn license_id(&self) -> LicenseId {
        LicenseId(LICENSE_ID)
    }
}

/// A private-cloud FineReport 11.0 license for project `webroot`, with
/// `max_nodes`, perpetual.
pub fn fixture(max_nodes: u32) -> Fixture {
    fixture_with(max_nodes, ActivationPolicy::Code)
}

/// [`fixture`] under `policy` (under receipt policy [`ACTIVATION_KEY`] is
/// the license's challenge key).
pub fn fixture_with(max_nodes: u32, policy: ActivationPolicy) -> Fixture {
    let root = TestKey::new("root-a").unwrap();
    let issuing = TestKey::new("issuing-private-cloud").unwrap();
    let image = TestKey::new("image-server").unwrap();
    let cert = encode_certificate_body(&wire::CertificateBody {
        root_key_id: root.key_id().0,
        key_id: issuing.key_id().0,
        public_key: issuing.public(),
        not_before: 0,
        not_after: 4_000_000_000,
        purposes: 0x2,
    })
    .unwrap();
    let payload = encode_license_payload_with_policy(
        &wire::LicensePayload {
            license_id: LICENSE_ID,
            kind: wire::Kind::PrivateCloud,
            app_name: "FineReport",
            company: "Example Co.",
            project: "webroot",
            contract_signed: wire::Date { year: 2023, month: 11, day: 1 },
            issued_at: ISSUED_AT,
            not_before: ISSUED_AT,
            expiry: wire::Expiry::Never,
            version: wire::Version { major: 11, minor: 0 },
            max_nodes,
            activation_key: Some(ACTIVATION_KEY),
            activation_base_url: Some(BASE_URL),
            image_public_key: Some(image.public()),
            supersedes: None,
            request_email_sha256: None,
        },
        policy,
    )
    .unwrap();
    let raw = encode_license_file(&cert, &root.sign(&cert), &payload, &issuing.sign(&payload)).unwrap();
    let armored = fanlic_formats::armor::encode(&raw, &["TEST-ONLY server license"]).unwrap();
    Fixture { root, image, raw, armored }
}

/// Writes the image's license folder: `server.lic`, `image.key` (PKCS#8 v1,
/// mode 0600) and `root-keys.pem`.
pub fn write_license_dir(dir: &Path, f: &Fixture) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join("server.lic"), &f.armored).unwrap();
    let v1 = [
        [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20].as_slice(),
        &f.image.seed,
    ]
    .concat();
    let key = dir.join("image.key");
    fs::write(&key, pem("PRIVATE KEY", &v1)).unwrap();
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
    fs::write(dir.join("root-keys.pem"), public_key_pem(&f.root.public())).unwrap();
}

/// Accepts any server certificate but still checks the handshake's
/// signatures: for raw test clients that exercise the server's connection
/// handling or its TLS binding, not its certificate.
#[derive(Debug)]
pub struct AnyCert(pub std::sync::Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &rustls::pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &rustls::pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// What a TEST-ONLY vendor signs into a receipt (SPEC.md §6.4).
#[derive(Clone, Debug)]
pub struct ReceiptTerms {
    /// SHA-256 of the raw challenge token.
    pub challenge_sha256: [u8; 32],
    /// The authorization server's instance key.
    pub instance_public_key: Option<[u8; 32]>,
    /// The receipt it follows.
    pub previous_receipt: Option<[u8; 32]>,
    /// The vendor's clock.
    pub vendor_time: u64,
    /// The lease's end.
    pub lease_until: Option<u64>,
    /// The license's nodes.
    pub max_nodes: u32,
    /// A revocation file to deliver, with its sequence.
    pub revocation_list: Option<(Vec<u8>, u64)>,
}

/// An armored receipt for `f`'s license signed by a TEST-ONLY receipt key
/// (purposes 0x8, a 30-day window around `vendor_time`) certified by `f`'s
/// root key; and its id.
pub fn sign_receipt(f: &Fixture, t: &ReceiptTerms) -> (String, [u8; 32]) {
    let receipt_key = TestKey::new("receipt-key").unwrap();
    let cert = encode_certificate_body(&wire::CertificateBody {
        root_key_id: f.root.key_id().0,
        key_id: receipt_key.key_id().0,
        public_key: receipt_key.public(),
        not_before: t.vendor_time - 86_400,
        not_after: t.vendor_time + 29 * 86_400,
        purposes: 0x8,
    })
    .unwrap();
    let body = encode_receipt_body(
        &Receipt::new(
            f.license_id(),
            Sha256::digest(&f.raw).into(),
            t.challenge_sha256,
            t.instance_public_key,
            t.previous_receipt,
            Timestamp(t.vendor_time),
            t.lease_until.map(Timestamp),
            t.max_nodes,
            t.revocation_list.as_ref().map_or(0, |(_, seq)| *seq),
        )
        .unwrap(),
    )
    .unwrap();
    let raw = encode_receipt_file(
        SignedBody { message: &cert, signature: f.root.sign(&cert) },
        SignedBody { message: &body, signature: receipt_key.sign(&body) },
        t.revocation_list.as_ref().map(|(l, _)| l.as_slice()),
    )
    .unwrap();
    (armor::encode_receipt(&raw, &["TEST-ONLY receipt"]).unwrap(), fanlic_formats::receipt::receipt_id(&body))
}

/// A TEST-ONLY revocation file of `sequence` revoking `licenses`, signed by
/// an issuing key certified by `f`'s root key for revocation lists.
pub fn revocation_file(f: &Fixture, sequence: u64, issued_at: u64, licenses: &[LicenseId]) -> Vec<u8> {
    let key = TestKey::new("issuing-revocations").unwrap();
    let cert = encode_certificate_body(&wire::CertificateBody {
        root_key_id: f.root.key_id().0,
        key_id: key.key_id().0,
        public_key: key.public(),
        not_before: 0,
        not_after: 4_000_000_000,
        purposes: 0x4,
    })
    .unwrap();
    let list = fanlic_formats::encode_revocation_list_body(sequence, Timestamp(issued_at), licenses, &[]).unwrap();
    fanlic_formats::encode_revocation_file(&cert, &f.root.sign(&cert), &list, &key.sign(&list)).unwrap()
}

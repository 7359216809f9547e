//! Test data and verification paths shared by the `verify` benchmark, the
//! allocation test and the `report` binary.
//!
//! Everything is generated in-process from fixed seeds, so the benchmark needs
//! no file: one root key, one issuing key certified by it, and one license for
//! FineReport 11.0, project `webroot`, 1 node, local-container, issued
//! 2026-01-01, expiring 2030-12-31. The same claims are also issued as an EdDSA
//! JWT and as a PASETO v4.public token, each alone ("single": one signature)
//! and as a chain (issuing-key certificate token + license token: two
//! signatures, the trust model of fanlic).

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use fanlic_formats::{
    KeyId, LicenseKind, Purposes, Timestamp, armor, encode_certificate_body, encode_license_file,
    encode_license_payload, wire,
};
use fanlic_verifier::{Environment, RootKey};

/// Seed of the (test) root key.
pub const ROOT_SEED: [u8; 32] = [0x52; 32];
/// Seed of the (test) issuing key.
pub const ISSUING_SEED: [u8; 32] = [0x49; 32];

/// 2026-01-01T00:00:00Z.
pub const ISSUED_AT: u64 = 1_767_225_600;
/// 2031-01-01T00:00:00Z: the first second after the expiry day 2030-12-31.
pub const EXPIRES_AT: u64 = 1_924_992_000;
/// 2025-01-01T00:00:00Z: the issuing key's certificate starts.
pub const KEY_NOT_BEFORE: u64 = 1_735_689_600;
/// 2027-12-31T23:59:59Z: the issuing key's certificate ends.
pub const KEY_NOT_AFTER: u64 = 1_830_297_599;
/// 2026-06-01T00:00:00Z: "now" for fanlic (JWT and PASETO read the clock).
pub const NOW: u64 = 1_780_272_000;

/// The license's claims, shared by the three formats.
pub const LICENSE_ID: [u8; 16] =
    [0x3f, 0x1c, 0x9a, 0x02, 0x77, 0x4e, 0x41, 0xb8, 0x9d, 0x16, 0x5a, 0xe0, 0xc4, 0x2b, 0x88, 0x71];
/// Application name.
pub const APP_NAME: &str = "FineReport";
/// Customer company.
pub const COMPANY: &str = "Example Manufacturing Co., Ltd.";
/// Project ("project content").
pub const PROJECT: &str = "webroot";

/// The environment a product reports when it checks the license.
pub fn environment() -> Environment<'static> {
    Environment {
        app_name: APP_NAME,
        version: "11.0.20",
        project: PROJECT,
        nodes: 1,
        method: LicenseKind::LocalContainer,
        now: Timestamp(NOW),
        last_seen: None,
    }
}

#[cfg(feature = "compare")]
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(feature = "compare")]
fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Everything the benchmarks verify.
#[derive(Debug)]
pub struct Fixture {
    /// Root public key bytes.
    pub root_public: [u8; 32],
    /// Issuing public key bytes.
    pub issuing_public: [u8; 32],
    /// Root key as a product embeds it.
    pub roots: [RootKey; 1],
    /// Root verifying key (for the bare baselines).
    pub root_vk: VerifyingKey,
    /// Issuing verifying key (for the bare baselines).
    pub issuing_vk: VerifyingKey,
    /// Certificate signed message (label || body) and its signature.
    pub cert_message: Vec<u8>,
    /// Root's signature over `cert_message`.
    pub cert_signature: [u8; 64],
    /// License signed message (label || payload) and its signature.
    pub license_message: Vec<u8>,
    /// Issuing key's signature over `license_message`.
    pub license_signature: [u8; 64],
    /// The raw (binary) license file.
    pub raw: Vec<u8>,
    /// The armored `Container.lic` (no comment lines).
    pub armored: String,
    /// JWT: the license alone, signed by the issuing key.
    #[cfg(feature = "compare")]
    pub jwt_license: String,
    /// JWT: the issuing key's certificate, signed by the root.
    #[cfg(feature = "compare")]
    pub jwt_cert: String,
    /// PASETO v4.public: the license alone, signed by the issuing key.
    #[cfg(feature = "compare")]
    pub paseto_license: String,
    /// PASETO v4.public: the issuing key's certificate, signed by the root.
    #[cfg(feature = "compare")]
    pub paseto_cert: String,
}

#[cfg(feature = "compare")]
/// PKCS#8 v1 wrapping of an Ed25519 seed (RFC 8410), as jsonwebtoken wants it.
fn ed25519_pkcs8(seed: &[u8; 32]) -> Vec<u8> {
    let mut der = vec![0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
    der.extend_from_slice(seed);
    der
}

#[cfg(feature = "compare")]
/// JWT header `kid` / claim values and PASETO claim values, shared.
fn license_json_claims(issuing_key_id: &str) -> serde_json::Value {
    serde_json::json!({
        "jti": hex(&LICENSE_ID),
        "kid": issuing_key_id,
        "kind": "local-container",
        "app": APP_NAME,
        "company": COMPANY,
        "project": PROJECT,
        "contract_signed": "2025-12-15",
        "version": "11.0",
        "max_nodes": 1,
    })
}

impl Fixture {
    /// Generates the keys, the fanlic license and the JWT and PASETO tokens.
    pub fn new() -> Self {
        let root_sk = SigningKey::from_bytes(&ROOT_SEED);
        let issuing_sk = SigningKey::from_bytes(&ISSUING_SEED);
        let root_public = root_sk.verifying_key().to_bytes();
        let issuing_public = issuing_sk.verifying_key().to_bytes();
        let root_id = KeyId::of(&root_public);
        let issuing_id = KeyId::of(&issuing_public);

        // --- fanlic ---
        let cert_message = encode_certificate_body(&wire::CertificateBody {
            root_key_id: root_id.0,
            key_id: issuing_id.0,
            public_key: issuing_public,
            not_before: KEY_NOT_BEFORE,
            not_after: KEY_NOT_AFTER,
            purposes: Purposes::LOCAL_CONTAINER,
        })
        .expect("certificate encodes");
        let cert_signature = root_sk.sign(&cert_message).to_bytes();
        let license_message = encode_license_payload(&wire::LicensePayload {
            license_id: LICENSE_ID,
            kind: wire::Kind::LocalContainer,
            app_name: APP_NAME,
            company: COMPANY,
            project: PROJECT,
            contract_signed: wire::Date { year: 2025, month: 12, day: 15 },
            issued_at: ISSUED_AT,
            not_before: ISSUED_AT,
            expiry: wire::Expiry::On(wire::Date { year: 2030, month: 12, day: 31 }),
            version: wire::Version { major: 11, minor: 0 },
            max_nodes: 1,
            activation_key: None,
            activation_base_url: None,
            image_public_key: None,
            supersedes: None,
            request_email_sha256: None,
        })
        .expect("license encodes");
        let license_signature = issuing_sk.sign(&license_message).to_bytes();
        let raw = encode_license_file(&cert_message, &cert_signature, &license_message, &license_signature)
            .expect("file encodes");
        let armored = armor::encode(&raw, &[]).expect("armors");

        #[cfg(feature = "compare")]
        let (jwt_license, jwt_cert, paseto_license, paseto_cert) = compare_tokens(&issuing_public, &root_public);

        Self {
            root_public,
            issuing_public,
            roots: [RootKey::from_bytes(&root_public).expect("root key")],
            root_vk: root_sk.verifying_key(),
            issuing_vk: issuing_sk.verifying_key(),
            cert_message,
            cert_signature,
            license_message,
            license_signature,
            raw,
            armored,
            #[cfg(feature = "compare")]
            jwt_license,
            #[cfg(feature = "compare")]
            jwt_cert,
            #[cfg(feature = "compare")]
            paseto_license,
            #[cfg(feature = "compare")]
            paseto_cert,
        }
    }
}

/// The same claims as JWT and PASETO tokens: (JWT license, JWT certificate,
/// PASETO license, PASETO certificate).
#[cfg(feature = "compare")]
fn compare_tokens(issuing_public: &[u8; 32], root_public: &[u8; 32]) -> (String, String, String, String) {
    let root_id = KeyId::of(root_public);
    let issuing_id = KeyId::of(issuing_public);
    {
        // --- JWT (EdDSA) ---
        let mut lic = license_json_claims(&issuing_id.to_string());
        lic["iat"] = ISSUED_AT.into();
        lic["nbf"] = ISSUED_AT.into();
        lic["exp"] = EXPIRES_AT.into();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(issuing_id.to_string());
        let jwt_license =
            jsonwebtoken::encode(&header, &lic, &jsonwebtoken::EncodingKey::from_ed_der(&ed25519_pkcs8(&ISSUING_SEED)))
                .expect("JWT signs");
        let cert = serde_json::json!({
            "sub": issuing_id.to_string(),
            "pk": b64url(issuing_public),
            "key_nbf": KEY_NOT_BEFORE,
            "key_exp": KEY_NOT_AFTER,
            "purposes": Purposes::LOCAL_CONTAINER,
        });
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(root_id.to_string());
        let jwt_cert =
            jsonwebtoken::encode(&header, &cert, &jsonwebtoken::EncodingKey::from_ed_der(&ed25519_pkcs8(&ROOT_SEED)))
                .expect("JWT signs");

        // --- PASETO v4.public ---
        let paseto_sk = |seed: &[u8; 32], public: &[u8; 32]| {
            let mut sk = [0u8; 64];
            sk[..32].copy_from_slice(seed);
            sk[32..].copy_from_slice(public);
            pasetors::keys::AsymmetricSecretKey::<pasetors::version4::V4>::from(&sk).expect("PASETO key")
        };
        let mut claims = pasetors::claims::Claims::new().expect("claims");
        claims.issued_at("2026-01-01T00:00:00Z").expect("iat");
        claims.not_before("2026-01-01T00:00:00Z").expect("nbf");
        claims.expiration("2031-01-01T00:00:00Z").expect("exp");
        claims.token_identifier(&hex(&LICENSE_ID)).expect("jti");
        for (k, v) in license_json_claims(&issuing_id.to_string()).as_object().expect("object") {
            if k != "jti" {
                claims.add_additional(k, v.clone()).expect("claim");
            }
        }
        let paseto_license = pasetors::public::sign(&paseto_sk(&ISSUING_SEED, issuing_public), &claims, None, None)
            .expect("PASETO signs");
        let mut claims = pasetors::claims::Claims::new().expect("claims");
        // The certificate's window is checked against the license's issue
        // time, not the clock, as in fanlic: no registered time claims.
        claims.remove_claim("iat");
        claims.remove_claim("nbf");
        claims.remove_claim("exp");
        claims.subject(&issuing_id.to_string()).expect("sub");
        claims.add_additional("kid", root_id.to_string()).expect("claim");
        claims.add_additional("pk", b64url(issuing_public)).expect("claim");
        claims.add_additional("key_nbf", KEY_NOT_BEFORE).expect("claim");
        claims.add_additional("key_exp", KEY_NOT_AFTER).expect("claim");
        claims.add_additional("purposes", Purposes::LOCAL_CONTAINER).expect("claim");
        let paseto_cert =
            pasetors::public::sign(&paseto_sk(&ROOT_SEED, root_public), &claims, None, None).expect("PASETO signs");
        (jwt_license, jwt_cert, paseto_license, paseto_cert)
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

/// What the product checks after the signatures, for JWT and PASETO: the same
/// rules as `fanlic_verifier::check` (expiry and not-before are done by the
/// JWT/PASETO libraries). Returns whether every check passed.
#[cfg(feature = "compare")]
use fanlic_formats::Version;

#[cfg(feature = "compare")]
fn claims_match(env: &Environment<'_>, kind: &str, app: &str, project: &str, version: &str, max_nodes: u64) -> bool {
    kind == env.method.as_str()
        && app == env.app_name
        && project == env.project
        && version.parse::<Version>().is_ok_and(|v| v.matches_local(env.version))
        && env.nodes as u64 <= max_nodes
}

/// The EdDSA JWT paths (jsonwebtoken, `rust_crypto` backend: ed25519-dalek 2).
#[cfg(feature = "compare")]
pub mod jwt {
    use super::*;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    use serde::Deserialize;

    /// The license claims, typed, as a JWT user would declare them.
    #[derive(Debug, Deserialize)]
    pub struct LicenseClaims {
        /// License id.
        pub jti: String,
        /// Issuing key id.
        pub kid: String,
        /// `local-container` / `private-cloud`.
        pub kind: String,
        /// Application.
        pub app: String,
        /// Company.
        pub company: String,
        /// Project.
        pub project: String,
        /// Contract date.
        pub contract_signed: String,
        /// Version major.minor.
        pub version: String,
        /// Max nodes.
        pub max_nodes: u64,
        /// Issued at.
        pub iat: u64,
        /// Not before.
        pub nbf: u64,
        /// Expiry.
        pub exp: u64,
    }

    /// The issuing-key certificate claims.
    #[derive(Debug, Deserialize)]
    pub struct CertClaims {
        /// Issuing key id.
        pub sub: String,
        /// Issuing public key, base64url.
        pub pk: String,
        /// Window start.
        pub key_nbf: u64,
        /// Window end.
        pub key_exp: u64,
        /// Purposes bit set.
        pub purposes: u32,
    }

    /// A jsonwebtoken crypto provider whose EdDSA verifier is ed25519-dalek's
    /// `verify_strict`, as fanlic's is, instead of jsonwebtoken's non-strict
    /// `verify`: the JWT paths then do the very same Ed25519 work as fanlic.
    /// Process-wide; installed when `FANLIC_BENCH_JWT_STRICT=1` (see
    /// [`crate::cases::Cases::new`]). Returns whether it was installed.
    pub fn install_strict_provider() -> bool {
        use jsonwebtoken::crypto::{CryptoProvider, JwtVerifier, rust_crypto::DEFAULT_PROVIDER};

        struct Strict(VerifyingKey);
        impl signature::Verifier<Vec<u8>> for Strict {
            fn verify(&self, msg: &[u8], sig: &Vec<u8>) -> Result<(), signature::Error> {
                let sig = ed25519_dalek::Signature::from_slice(sig)?;
                self.0.verify_strict(msg, &sig)
            }
        }
        impl JwtVerifier for Strict {
            fn algorithm(&self) -> Algorithm {
                Algorithm::EdDSA
            }
        }
        fn factory(alg: &Algorithm, key: &DecodingKey) -> jsonwebtoken::errors::Result<Box<dyn JwtVerifier>> {
            if *alg != Algorithm::EdDSA {
                return (DEFAULT_PROVIDER.verifier_factory)(alg, key);
            }
            let bytes: &[u8; 32] =
                key.try_get_as_bytes()?.try_into().map_err(|_| jsonwebtoken::errors::ErrorKind::InvalidEddsaKey)?;
            let vk = VerifyingKey::from_bytes(bytes).map_err(|_| jsonwebtoken::errors::ErrorKind::InvalidEddsaKey)?;
            Ok(Box::new(Strict(vk)))
        }
        let provider = Box::leak(Box::new(CryptoProvider { verifier_factory: factory, ..DEFAULT_PROVIDER.clone() }));
        provider.install_default().is_ok()
    }

    /// Keys and validation rules, made once at start-up like a product would.
    #[derive(Debug)]
    pub struct Verifier {
        /// The root key.
        pub root: DecodingKey,
        /// Root key id (header `kid` of certificates).
        pub root_id: String,
        /// The issuing key, for the single-token case (known in advance).
        pub issuing: DecodingKey,
        cert_validation: Validation,
        license_validation: Validation,
    }

    impl Verifier {
        /// Set up from the fixture's public keys.
        pub fn new(f: &Fixture) -> Self {
            let mut license_validation = Validation::new(Algorithm::EdDSA);
            license_validation.validate_nbf = true;
            license_validation.leeway = fanlic_verifier::CLOCK_TOLERANCE_SECS;
            license_validation.set_required_spec_claims(&["exp", "nbf", "iat"]);
            let mut cert_validation = Validation::new(Algorithm::EdDSA);
            cert_validation.validate_exp = false;
            cert_validation.set_required_spec_claims::<&str>(&[]);
            Self {
                root: DecodingKey::from_ed_der(&f.root_public),
                root_id: KeyId::of(&f.root_public).to_string(),
                issuing: DecodingKey::from_ed_der(&f.issuing_public),
                cert_validation,
                license_validation,
            }
        }

        /// One token: signature (issuing key known in advance), `exp`/`nbf`,
        /// then the product's claim checks.
        pub fn verify_single(&self, token: &str, env: &Environment<'_>) -> Option<LicenseClaims> {
            let data = jsonwebtoken::decode::<LicenseClaims>(token, &self.issuing, &self.license_validation).ok()?;
            let c = data.claims;
            claims_match(env, &c.kind, &c.app, &c.project, &c.version, c.max_nodes).then_some(c)
        }

        /// The chain: the certificate token under the root key, then the
        /// license token under the certified key, then the window, purpose and
        /// the product's claim checks.
        pub fn verify_chain(&self, cert: &str, token: &str, env: &Environment<'_>) -> Option<LicenseClaims> {
            let cert = jsonwebtoken::decode::<CertClaims>(cert, &self.root, &self.cert_validation).ok()?;
            if cert.header.kid.as_deref() != Some(self.root_id.as_str()) {
                return None;
            }
            let c = cert.claims;
            let issuing = DecodingKey::from_ed_components(&c.pk).ok()?;
            let data = jsonwebtoken::decode::<LicenseClaims>(token, &issuing, &self.license_validation).ok()?;
            let l = data.claims;
            let ok = data.header.kid.as_deref() == Some(c.sub.as_str())
                && l.kid == c.sub
                && c.key_nbf <= l.iat
                && l.iat <= c.key_exp
                && c.purposes & Purposes::LOCAL_CONTAINER != 0
                && claims_match(env, &l.kind, &l.app, &l.project, &l.version, l.max_nodes);
            ok.then_some(l)
        }
    }
}

/// The PASETO v4.public paths (pasetors: Ed25519 from ed25519-compact, not
/// ed25519-dalek).
#[cfg(feature = "compare")]
pub mod paseto {
    use super::*;
    use pasetors::{
        Public,
        claims::{Claims, ClaimsValidationRules},
        keys::AsymmetricPublicKey,
        token::{TrustedToken, UntrustedToken},
        version4::V4,
    };

    /// Keys and validation rules, made once at start-up.
    #[derive(Debug)]
    pub struct Verifier {
        /// The root key.
        pub root: AsymmetricPublicKey<V4>,
        /// Root key id.
        pub root_id: String,
        /// The issuing key, for the single-token case.
        pub issuing: AsymmetricPublicKey<V4>,
        cert_rules: ClaimsValidationRules,
        license_rules: ClaimsValidationRules,
    }

    fn str_claim<'c>(c: &'c Claims, k: &str) -> Option<&'c str> {
        c.get_claim(k)?.as_str()
    }
    fn u64_claim(c: &Claims, k: &str) -> Option<u64> {
        c.get_claim(k)?.as_u64()
    }

    fn check_license(t: &TrustedToken, env: &Environment<'_>) -> Option<()> {
        let c = t.payload_claims()?;
        claims_match(
            env,
            str_claim(c, "kind")?,
            str_claim(c, "app")?,
            str_claim(c, "project")?,
            str_claim(c, "version")?,
            u64_claim(c, "max_nodes")?,
        )
        .then_some(())
    }

    impl Verifier {
        /// Set up from the fixture's public keys.
        pub fn new(f: &Fixture) -> Self {
            let mut cert_rules = ClaimsValidationRules::new();
            cert_rules.disable_valid_at();
            cert_rules.allow_non_expiring();
            Self {
                root: AsymmetricPublicKey::<V4>::from(&f.root_public).expect("key"),
                root_id: KeyId::of(&f.root_public).to_string(),
                issuing: AsymmetricPublicKey::<V4>::from(&f.issuing_public).expect("key"),
                cert_rules,
                license_rules: ClaimsValidationRules::new(),
            }
        }

        /// One token: parse, signature, `iat`/`nbf`/`exp`, product checks.
        pub fn verify_single(&self, token: &str, env: &Environment<'_>) -> Option<TrustedToken> {
            let untrusted = UntrustedToken::<Public, V4>::try_from(token).ok()?;
            let t = pasetors::public::verify(&self.issuing, &untrusted, &self.license_rules, None, None).ok()?;
            check_license(&t, env)?;
            Some(t)
        }

        /// The chain: certificate token under the root, license token under the
        /// certified key, then window, purpose and product checks.
        pub fn verify_chain(&self, cert: &str, token: &str, env: &Environment<'_>) -> Option<TrustedToken> {
            use base64::Engine as _;
            let untrusted = UntrustedToken::<Public, V4>::try_from(cert).ok()?;
            let c = pasetors::public::verify(&self.root, &untrusted, &self.cert_rules, None, None).ok()?;
            let cc = c.payload_claims()?;
            if str_claim(cc, "kid")? != self.root_id {
                return None;
            }
            let pk = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(str_claim(cc, "pk")?).ok()?;
            let issuing = AsymmetricPublicKey::<V4>::from(&pk).ok()?;
            let untrusted = UntrustedToken::<Public, V4>::try_from(token).ok()?;
            let t = pasetors::public::verify(&issuing, &untrusted, &self.license_rules, None, None).ok()?;
            let lc = t.payload_claims()?;
            // iat is RFC 3339 in PASETO; compare against the window as a time.
            let iat = time::OffsetDateTime::parse(str_claim(lc, "iat")?, &time::format_description::well_known::Rfc3339)
                .ok()?
                .unix_timestamp() as u64;
            let ok = str_claim(lc, "kid")? == str_claim(cc, "sub")?
                && u64_claim(cc, "key_nbf")? <= iat
                && iat <= u64_claim(cc, "key_exp")?
                && u64_claim(cc, "purposes")? & u64::from(Purposes::LOCAL_CONTAINER) != 0;
            if !ok {
                return None;
            }
            check_license(&t, env)?;
            Some(t)
        }
    }
}

/// fanlic end to end: armor (if any) + decode + both signatures + every check.
pub fn fanlic_verify(f: &Fixture, input: &[u8], env: &Environment<'_>) -> bool {
    let mut buf = [0u8; fanlic_formats::MAX_LICENSE_FILE_LEN];
    fanlic_verifier::verify(input, &mut buf, &f.roots, env).is_ok()
}

/// Sizes in bytes of each format, as stored/sent.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// fanlic raw binary file.
    pub fanlic_raw: usize,
    /// fanlic armored `Container.lic` (no comment lines).
    pub fanlic_armored: usize,
    /// JWT license token alone.
    #[cfg(feature = "compare")]
    pub jwt_single: usize,
    /// JWT certificate + "\n" + license token.
    #[cfg(feature = "compare")]
    pub jwt_chain: usize,
    /// PASETO license token alone.
    #[cfg(feature = "compare")]
    pub paseto_single: usize,
    /// PASETO certificate + "\n" + license token.
    #[cfg(feature = "compare")]
    pub paseto_chain: usize,
}

impl Fixture {
    /// The sizes of the license in each format.
    pub fn sizes(&self) -> Sizes {
        Sizes {
            fanlic_raw: self.raw.len(),
            fanlic_armored: self.armored.len(),
            #[cfg(feature = "compare")]
            jwt_single: self.jwt_license.len(),
            #[cfg(feature = "compare")]
            jwt_chain: self.jwt_cert.len() + 1 + self.jwt_license.len(),
            #[cfg(feature = "compare")]
            paseto_single: self.paseto_license.len(),
            #[cfg(feature = "compare")]
            paseto_chain: self.paseto_cert.len() + 1 + self.paseto_license.len(),
        }
    }
}

/// The benchmark cases, shared by the criterion bench, the interleaved bench
/// and `icount`, so that all three measure the very same closures.
pub mod cases {
    use std::hint::black_box;

    use ed25519_dalek::{Signature, VerifyingKey};
    use fanlic_formats::{Envelope, IssuingKeyCertificate, License, MAX_LICENSE_FILE_LEN, armor};
    use fanlic_verifier::Environment;

    use crate::Fixture;
    use crate::environment;
    use crate::fanlic_verify;

    /// Case ids and what they measure, in report order.
    pub const ALL: &[(&str, &str)] = &[
        ("a_bare_strict_license", "(a) bare `verify_strict`, license message only (1 sig)"),
        ("b_bare_strict_chain", "(b) bare `verify_strict`, certificate + license (2 sigs)"),
        ("b2_bare_strict_chain_keyparse", "(b2) = (b) + decompress the issuing key from its 32 bytes"),
        ("c_fanlic_armored", "(c) **fanlic `verify`, armored Container.lic**"),
        ("d_fanlic_raw", "(d) fanlic `verify`, raw binary file"),
        ("d2_fanlic_decode_only", "(d2) fanlic decode only: armor + envelope + cert + license, no signature"),
        #[cfg(feature = "compare")]
        ("e_jwt_single", "(e) JWT EdDSA, license token only (1 sig)"),
        #[cfg(feature = "compare")]
        ("f_paseto_single", "(f) PASETO v4.public, license token only (1 sig)"),
        #[cfg(feature = "compare")]
        ("g_jwt_chain", "(g) JWT EdDSA chain: cert token, then license token (2 sigs)"),
        #[cfg(feature = "compare")]
        ("h_paseto_chain", "(h) PASETO v4.public chain: cert token, then license token (2 sigs)"),
        #[cfg(feature = "compare")]
        ("x_bare_dalek_verify_license", "(x) bare ed25519-dalek `verify` (non-strict: what jsonwebtoken calls)"),
        #[cfg(feature = "compare")]
        ("y_bare_compact_verify_license", "(y) bare ed25519-compact `verify` (what pasetors calls)"),
    ];

    /// Everything the cases need, made once.
    #[derive(Debug)]
    pub struct Cases {
        /// The data.
        pub f: Fixture,
        /// The product's environment.
        pub env: Environment<'static>,
        cert_sig: Signature,
        lic_sig: Signature,
        #[cfg(feature = "compare")]
        jwt: crate::jwt::Verifier,
        #[cfg(feature = "compare")]
        paseto: crate::paseto::Verifier,
        #[cfg(feature = "compare")]
        compact: (ed25519_compact::PublicKey, ed25519_compact::Signature),
    }

    impl Cases {
        /// Builds the fixture and checks that every case succeeds.
        pub fn new() -> Self {
            #[cfg(feature = "compare")]
            if std::env::var_os("FANLIC_BENCH_JWT_STRICT").is_some_and(|v| v == "1") {
                assert!(crate::jwt::install_strict_provider(), "the strict provider is installed first");
                eprintln!("jsonwebtoken: EdDSA verified with ed25519-dalek verify_strict (FANLIC_BENCH_JWT_STRICT=1)");
            }
            let f = Fixture::new();
            let c = Self {
                env: environment(),
                cert_sig: Signature::from_bytes(&f.cert_signature),
                lic_sig: Signature::from_bytes(&f.license_signature),
                #[cfg(feature = "compare")]
                jwt: crate::jwt::Verifier::new(&f),
                #[cfg(feature = "compare")]
                paseto: crate::paseto::Verifier::new(&f),
                #[cfg(feature = "compare")]
                compact: (
                    ed25519_compact::PublicKey::from_slice(&f.issuing_public).expect("key"),
                    ed25519_compact::Signature::from_slice(&f.license_signature).expect("signature"),
                ),
                f,
            };
            for (id, _) in ALL {
                assert!(c.case(id)(), "case {id} does not succeed");
            }
            c
        }

        /// The closure for case `id`; it returns whether verification passed.
        pub fn case(&self, id: &str) -> Box<dyn Fn() -> bool + '_> {
            let f = &self.f;
            let env = &self.env;
            match id {
                "a_bare_strict_license" => Box::new(move || {
                    black_box(&f.issuing_vk).verify_strict(black_box(&f.license_message), &self.lic_sig).is_ok()
                }),
                "b_bare_strict_chain" => Box::new(move || {
                    black_box(&f.root_vk).verify_strict(black_box(&f.cert_message), &self.cert_sig).is_ok()
                        && black_box(&f.issuing_vk).verify_strict(black_box(&f.license_message), &self.lic_sig).is_ok()
                }),
                "b2_bare_strict_chain_keyparse" => Box::new(move || {
                    black_box(&f.root_vk).verify_strict(black_box(&f.cert_message), &self.cert_sig).is_ok()
                        && VerifyingKey::from_bytes(black_box(&f.issuing_public))
                            .is_ok_and(|k| k.verify_strict(black_box(&f.license_message), &self.lic_sig).is_ok())
                }),
                "c_fanlic_armored" => Box::new(move || fanlic_verify(f, black_box(f.armored.as_bytes()), env)),
                "d_fanlic_raw" => Box::new(move || fanlic_verify(f, black_box(&f.raw), env)),
                "d2_fanlic_decode_only" => Box::new(move || {
                    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
                    let Ok(raw) = armor::unarmor(black_box(f.armored.as_bytes()), &mut buf) else { return false };
                    let Ok(e) = Envelope::decode(raw) else { return false };
                    IssuingKeyCertificate::decode(e.certificate.message).is_ok()
                        && License::decode(e.license.message).is_ok()
                }),
                #[cfg(feature = "compare")]
                "e_jwt_single" => Box::new(move || self.jwt.verify_single(black_box(&f.jwt_license), env).is_some()),
                #[cfg(feature = "compare")]
                "f_paseto_single" => {
                    Box::new(move || self.paseto.verify_single(black_box(&f.paseto_license), env).is_some())
                }
                #[cfg(feature = "compare")]
                "g_jwt_chain" => Box::new(move || {
                    self.jwt.verify_chain(black_box(&f.jwt_cert), black_box(&f.jwt_license), env).is_some()
                }),
                #[cfg(feature = "compare")]
                "h_paseto_chain" => Box::new(move || {
                    self.paseto.verify_chain(black_box(&f.paseto_cert), black_box(&f.paseto_license), env).is_some()
                }),
                #[cfg(feature = "compare")]
                "x_bare_dalek_verify_license" => Box::new(move || {
                    use ed25519_dalek::Verifier as _;
                    black_box(&f.issuing_vk).verify(black_box(&f.license_message), &self.lic_sig).is_ok()
                }),
                #[cfg(feature = "compare")]
                "y_bare_compact_verify_license" => Box::new(move || {
                    let (pk, sig) = &self.compact;
                    black_box(pk).verify(black_box(&f.license_message), sig).is_ok()
                }),
                other => panic!("unknown case {other}"),
            }
        }
    }

    impl Default for Cases {
        fn default() -> Self {
            Self::new()
        }
    }
}

/// What the load generators (`activation_load`, `heartbeat_load`) print the
/// same way.
pub mod load {
    /// `latency ms  p50 …  max …` of per-request latencies in microseconds
    /// (sorted here), with `decimals` digits.
    pub fn latency_line(lat: &mut [u32], decimals: usize) -> String {
        lat.sort_unstable();
        let p = |q: f64| {
            let i = ((lat.len().saturating_sub(1)) as f64 * q) as usize;
            f64::from(lat.get(i).copied().unwrap_or(0)) / 1000.0
        };
        format!(
            "latency ms          p50 {:.d$}  p90 {:.d$}  p99 {:.d$}  p99.9 {:.d$}  max {:.d$}",
            p(0.5),
            p(0.9),
            p(0.99),
            p(0.999),
            p(1.0),
            d = decimals
        )
    }

    /// The `q` quantile (0.0 to 1.0) of `sorted` latencies in microseconds,
    /// in milliseconds (nearest rank below).
    pub fn percentile_ms(sorted: &[u32], q: f64) -> f64 {
        let i = ((sorted.len().saturating_sub(1)) as f64 * q) as usize;
        f64::from(sorted.get(i).copied().unwrap_or(0)) / 1000.0
    }

    /// CPU time (user + system) of a process, or of a process and its
    /// children, at one moment: from `/proc/PID/stat`, in clock ticks of
    /// 10 ms (`CLK_TCK` = 100 on Linux).
    #[derive(Clone, Copy, Debug, Default)]
    pub struct ProcessCpu {
        ticks: u64,
    }

    impl ProcessCpu {
        /// Every thread of process `pid` (0 if it is gone).
        pub fn of(pid: u32) -> Self {
            Self { ticks: stat(pid).map_or(0, |f| f.own) }
        }

        /// Process `pid`, its live children, and the children it has
        /// reaped (`cutime` + `cstime`): a PostgreSQL postmaster and its
        /// backends, including those that ended.
        pub fn tree(pid: u32) -> Self {
            let mut ticks = stat(pid).map_or(0, |f| f.own + f.reaped);
            for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                let Some(child) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
                if let Some(f) = stat(child)
                    && f.ppid == pid
                {
                    ticks += f.own + f.reaped;
                }
            }
            Self { ticks }
        }

        /// Seconds of CPU from `before` to this one.
        pub fn since(&self, before: &Self) -> f64 {
            self.ticks.saturating_sub(before.ticks) as f64 / 100.0
        }
    }

    struct Stat {
        ppid: u32,
        own: u64,
        reaped: u64,
    }

    fn stat(pid: u32) -> Option<Stat> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after `(comm)`, which may hold spaces: state is field 3, ppid
        // 4, utime 14, stime 15, cutime 16, cstime 17.
        let rest = text.rsplit_once(')')?.1;
        let f: Vec<u64> = rest.split_whitespace().map(|v| v.parse().unwrap_or(0)).collect();
        let at = |i: usize| f.get(i).copied().unwrap_or(0);
        Some(Stat { ppid: at(1) as u32, own: at(11) + at(12), reaped: at(13) + at(14) })
    }

    /// The statements PostgreSQL logged with their durations
    /// (`log_min_duration_statement`; lines `… LOG:  duration: 0.052 ms
    /// execute s3: SELECT …`), summed by statement: the `top` ones by total
    /// time, one line each (total ms, count, mean ms, the statement's start).
    pub fn statement_times(log: &str, top: usize) -> Vec<String> {
        let mut by: std::collections::HashMap<String, (f64, u64)> = std::collections::HashMap::new();
        for line in log.lines() {
            let Some(rest) = line.split_once("duration: ").map(|(_, r)| r) else { continue };
            let Some((ms, what)) = rest.split_once(" ms") else { continue };
            let Ok(ms) = ms.trim().parse::<f64>() else { continue };
            // `execute s3: SQL` / `statement: SQL` / `parse s3: SQL` / `bind s3: SQL`:
            // the kind, then the SQL without the statement's name.
            let what = what.trim();
            let (kind, sql) = what.split_once(": ").unwrap_or((what, ""));
            let kind = kind.split_whitespace().next().unwrap_or(kind);
            let sql: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
            let key = format!("{kind}: {}", sql.chars().take(150).collect::<String>());
            let e = by.entry(key).or_insert((0.0, 0));
            e.0 += ms;
            e.1 += 1;
        }
        let mut v: Vec<(String, (f64, u64))> = by.into_iter().collect();
        v.sort_by(|a, b| b.1.0.total_cmp(&a.1.0));
        let (all_ms, all_n) = v.iter().fold((0.0, 0), |(t, c), (_, (ms, n))| (t + ms, c + n));
        let mut out = vec![format!("{all_ms:>9.1} ms {all_n:>7} x           all statements")];
        out.extend(
            v.into_iter().take(top).map(|(k, (ms, n))| format!("{ms:>9.1} ms {n:>7} x {:>7.3} ms  {k}", ms / n as f64)),
        );
        out
    }

    /// The peak resident set size of process `pid` (`VmHWM` in
    /// `/proc/PID/status`, e.g. `11164 kB`); empty if unreadable.
    pub fn peak_rss(pid: u32) -> String {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:").map(|v| v.trim().to_owned()))
            .unwrap_or_default()
    }
}

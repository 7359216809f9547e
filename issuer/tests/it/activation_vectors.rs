//! The activation vectors of SPEC.md §6.1 (`fixtures/activation/vectors.json`):
//! master secret → activation key (HKDF, the issuer's code), challenge →
//! body, tag, token, URL and code (the verifier's code). The file is
//! checked, not trusted: `FANLIC_WRITE_VECTORS=1` rewrites it, and
//! `scripts/openssl-activation-vectors.sh` recomputes the HKDF and both
//! HMACs with OpenSSL in CI.

use std::path::PathBuf;

use fanlic_formats::{
    LicenseId, Timestamp,
    activation::{ActivationChallenge, ChallengeBodyWire, MAX_CHALLENGE_BODY_LEN, ServerInstance},
};
use fanlic_issuer::home::activation::MasterSecret;
use fanlic_issuer::util::hex;
use fanlic_verifier::activation::{
    ActivationKey, ChallengeInput, activation_code, challenge_tag, make_challenge, open_challenge, project_fingerprint,
};
use serde_json::{Value, json};

fn file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/activation/vectors.json")
}

struct Case {
    name: &'static str,
    master: [u8; 32],
    version: u32,
    license_id: [u8; 16],
    nodes: u32,
    app_version: &'static str,
    issued_at: u64,
    server: Option<ServerInstance>,
    deployment_id: &'static [u8],
}

fn cases() -> Vec<Case> {
    let mut seq = [0u8; 32];
    for (i, b) in seq.iter_mut().enumerate() {
        *b = i as u8;
    }
    vec![
        Case {
            name: "local-container",
            master: seq,
            version: 1,
            license_id: *b"\x87\x6f\x38\xc5\x73\x06\x16\x1b\x53\xf5\x2a\x20\x44\x10\x62\xcc",
            nodes: 1,
            app_version: "11.0.20",
            issued_at: 1_790_000_000,
            server: None,
            deployment_id: b"",
        },
        Case {
            name: "cluster-of-three-master-v2",
            master: [0xa5; 32],
            version: 2,
            license_id: [0x11; 16],
            nodes: 3,
            app_version: "6.1.5",
            issued_at: 1_800_000_123,
            server: None,
            deployment_id: b"deployment-7",
        },
        Case {
            name: "authorization-server",
            master: [0x5a; 32],
            version: 1,
            license_id: [0xfe; 16],
            nodes: 2,
            app_version: "11.0.3",
            issued_at: 1_790_000_999,
            server: Some(ServerInstance { instance_fingerprint: [0x33; 32], generation: 7 }),
            deployment_id: b"\x00\x01\x02",
        },
    ]
}

fn compute(c: &Case) -> Value {
    let key = MasterSecret::from_bytes(c.version, c.master).derive(&LicenseId(c.license_id));
    let fingerprint = project_fingerprint("FineReport", "webroot", c.deployment_id).unwrap();
    let input = ChallengeInput {
        nonce: [0x0b; 16],
        node_id: [0x0c; 16],
        project_fingerprint: fingerprint,
        nodes: c.nodes,
        app_version: c.app_version,
        now: Timestamp(c.issued_at),
        server: c.server,
    };
    let prepared = make_challenge(LicenseId(c.license_id), &key, &input).unwrap();
    // The body again, through the formats crate's encoder on its own.
    let wire = ChallengeBodyWire {
        license_id: c.license_id,
        nonce: input.nonce,
        node_id: input.node_id,
        project_fingerprint: fingerprint,
        nodes: c.nodes,
        app_version: c.app_version,
        issued_at: c.issued_at,
        server: c.server,
    };
    let mut buf = [0u8; MAX_CHALLENGE_BODY_LEN];
    let body = ActivationChallenge::new(&wire).unwrap().encode(&mut buf).unwrap().to_vec();
    assert_eq!(&prepared.token()[1..1 + body.len()], &body[..], "{}", c.name);
    let tag = challenge_tag(&key, &body);
    assert_eq!(&prepared.token()[1 + body.len()..], &tag[..]);
    let code = activation_code(&key, &body);
    assert_eq!(code, prepared.code());
    // The service side opens it to the same code.
    let (opened, service_code) = open_challenge(prepared.token(), &key, Timestamp(c.issued_at + 1)).unwrap();
    assert_eq!(service_code, code);
    assert_eq!(opened.license_id, LicenseId(c.license_id));
    let mut url = String::new();
    prepared.write_url("https://activate.vendor.example/a", &mut url).unwrap();
    json!({
        "name": c.name,
        "master_secret": hex::encode(&c.master),
        "master_version": c.version,
        "license_id": hex::encode(&c.license_id),
        "activation_key": hex::encode(&key.to_bytes()),
        "project_fingerprint_input": {"app_name": "FineReport", "project": "webroot", "deployment_id": hex::encode(c.deployment_id)},
        "project_fingerprint": hex::encode(&fingerprint),
        "body": hex::encode(&body),
        "tag": hex::encode(&tag),
        "token": hex::encode(prepared.token()),
        "url": url,
        "code": code.to_string(),
    })
}

#[test]
fn activation_vectors_match_the_file() {
    let computed = json!({
        "spec": "formats/SPEC.md §6.1",
        "hkdf_salt": "fanlic/1/activation-key\n",
        "tag_label": "fanlic/1/activation-challenge\n",
        "code_label": "fanlic/1/activation-code\n",
        "fingerprint_label": "fanlic/1/project-fingerprint\n",
        "cases": cases().iter().map(compute).collect::<Vec<_>>(),
    });
    let text = serde_json::to_string_pretty(&computed).unwrap() + "\n";
    if std::env::var_os("FANLIC_WRITE_VECTORS").is_some() {
        std::fs::write(file(), &text).unwrap();
    }
    let on_disk =
        std::fs::read_to_string(file()).expect("fixtures/activation/vectors.json (FANLIC_WRITE_VECTORS=1 writes it)");
    assert_eq!(on_disk, text, "the activation vectors changed: a format change needs a new version");
}

#[test]
fn a_different_key_gives_a_different_code_for_every_vector() {
    for c in cases() {
        let v = compute(&c);
        let text = v["body"].as_str().unwrap();
        let body: Vec<u8> =
            (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect();
        let other = ActivationKey::from_bytes([0; 32]);
        assert_ne!(activation_code(&other, &body).to_string(), v["code"].as_str().unwrap(), "{}", c.name);
    }
}

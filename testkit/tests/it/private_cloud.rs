//! Every vector of `fixtures/vectors/private-cloud/` through every entry
//! point: server answers through `verify_server_answer` and
//! `Client::on_answer`, `privateConfig` files through `verify_private_config`,
//! TLS bindings through `verify_tls_binding` and `Client::on_tls_binding`
//! (SPEC.md §7.2, §7.4, §7.5, §7.7).

use std::collections::BTreeSet;

use fanlic_formats::{
    LicenseId, MAX_LICENSE_FILE_LEN, Timestamp,
    private_cloud::{InstanceCertificate, ServerAnswerEnvelope},
};
use fanlic_testkit::{
    PrivateCloudVector, hex, parse_rfc3339,
    private_cloud::{
        AnswerInput, BindingInput, ConfigInput, PrivateCloudExpected, image_seed, kind_name, master_secret, parse_kind,
        private_cloud_dir, server_license_id, unhex,
    },
    read_public_key,
};
use fanlic_verifier::{
    RootKey, authenticate,
    private_cloud::{Client, Request, Status, verify_private_config, verify_server_answer, verify_tls_binding},
};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};

fn roots(names: &[String]) -> Vec<RootKey> {
    names.iter().map(|n| RootKey::from_bytes(&read_public_key(n).unwrap()).unwrap()).collect()
}

fn check_answer(name: &str, file: &[u8], input: &AnswerInput, e: &PrivateCloudExpected) {
    let roots = roots(&input.roots);
    let env = input.env.to_environment().unwrap();
    let kind = parse_kind(&input.kind).unwrap();
    let request = Request { kind, node_id: unhex(&input.node_id).unwrap(), nonce: unhex(&input.nonce).unwrap() };
    let pinned: Option<[u8; 32]> = input.pinned_instance_key.as_deref().map(|p| unhex(p).unwrap());

    // Entry point 1: the function.
    let direct = verify_server_answer(file, &roots, &env, &request, pinned.as_ref());
    // Entry point 2: the client, with the request outstanding and the pin set.
    let mut client = match pinned {
        Some(p) => Client::with_pinned_instance_key(request.node_id, p),
        None => Client::new(request.node_id),
    };
    assert_eq!(client.request(kind, request.nonce, env.now), request, "{name}");
    let via_client = client.on_answer(file, &roots, &env);

    match (&direct, &via_client) {
        (Ok(a), Ok(status)) => {
            assert!(e.valid, "{name}: accepted, expected {:?}", e.causes);
            let j = e.accepted.as_ref().unwrap();
            assert_eq!(hex(&a.license_id.0), j.license_id, "{name}");
            assert_eq!(hex(&a.instance_public_key), j.instance_public_key, "{name}");
            assert_eq!(kind_name(a.kind), j.kind, "{name}");
            assert_eq!(a.at, parse_rfc3339(&j.at).unwrap(), "{name}");
            assert_eq!(a.valid_until, parse_rfc3339(&j.valid_until).unwrap(), "{name}");
            assert_eq!(a.nodes, j.nodes, "{name}");
            assert_eq!(a.lease_until.map(|t| t.to_string()), j.lease_until, "{name}: the receipt's lease");
            assert_eq!(a.node_id, request.node_id, "{name}");
            let expected_status = match kind {
                fanlic_formats::private_cloud::AnswerKind::Deregistered => Status::Deregistered,
                _ => Status::Registered { valid_until: a.valid_until, nodes: a.nodes },
            };
            assert_eq!(*status, expected_status, "{name}");
            assert_eq!(client.pinned_instance_key(), Some(&a.instance_public_key), "{name}");
            assert!(client.outstanding().is_none(), "{name}");
            // The answer is consumed: given again, it is refused.
            let again = client.on_answer(file, &roots, &env).unwrap_err();
            assert_eq!(again.causes().map(|c| c.code()).collect::<Vec<_>>(), ["unrequested"], "{name}");
        }
        (Err(direct), Err(via_client)) => {
            assert!(!e.valid, "{name}: refused with {direct}");
            let codes: Vec<&str> = direct.causes().map(|c| c.code()).collect();
            assert_eq!(codes, e.causes, "{name}: {direct:?}");
            assert_eq!(direct, via_client, "{name}: the client reports what the function does");
            if let Some(d) = &e.detail {
                assert!(format!("{direct:?}").contains(d.as_str()), "{name}: {direct:?} does not contain {d}");
            }
            assert!(!direct.to_string().is_empty());
            direct.causes().for_each(|c| assert!(!c.to_string().is_empty()));
            assert_eq!(client.status(env.now), Status::NotRegistered, "{name}");
            assert!(client.outstanding().is_some(), "{name}: a refused answer does not consume the request");
            assert_eq!(client.pinned_instance_key(), pinned.as_ref(), "{name}: a refused answer pins nothing");
        }
        (d, c) => panic!("{name}: the entry points disagree: {d:?} / {c:?}"),
    }
}

fn check_config(name: &str, file: &[u8], input: &ConfigInput, e: &PrivateCloudExpected) {
    let image: [u8; 32] = unhex(&input.image_public_key).unwrap();
    let license_id = LicenseId(unhex(&input.license_id).unwrap());
    match verify_private_config(file, &image, &license_id) {
        Ok(c) => {
            assert!(e.valid, "{name}: accepted, expected {:?}", e.causes);
            let j = e.config.as_ref().unwrap();
            assert_eq!(c.generation(), j.generation, "{name}");
            assert_eq!(c.nodes().iter().map(|n| hex(&n.node_id)).collect::<Vec<_>>(), j.nodes, "{name}");
            assert_eq!(hex(&c.log_head()), j.log_head, "{name}");
            assert_eq!(c.license_id(), license_id, "{name}");
        }
        Err(err) => {
            assert!(!e.valid, "{name}: refused with {err}");
            assert_eq!(vec![err.reason()], e.causes, "{name}: {err:?}");
            if let Some(d) = &e.detail {
                assert!(format!("{err:?}").contains(d.as_str()), "{name}: {err:?} does not contain {d}");
            }
            assert!(!err.to_string().is_empty());
        }
    }
}

fn check_binding(name: &str, file: &[u8], input: &BindingInput, e: &PrivateCloudExpected) {
    let roots = roots(&input.roots);
    let spki: [u8; 32] = unhex(&input.connection_spki_sha256).unwrap();
    let pinned: Option<[u8; 32]> = input.pinned_instance_key.as_deref().map(|p| unhex(p).unwrap());
    // Entry point 1: the function.
    let direct = verify_tls_binding(file, &roots, pinned.as_ref(), &spki);
    // Entry point 2: the client, with the pin set.
    let mut client = match pinned {
        Some(p) => Client::with_pinned_instance_key([0x11; 16], p),
        None => Client::new([0x11; 16]),
    };
    let via_client = client.on_tls_binding(file, &roots, &spki);
    assert_eq!(direct, via_client, "{name}: the client reports what the function does");
    match direct {
        Ok(bound) => {
            assert!(e.valid, "{name}: accepted, expected {:?}", e.causes);
            assert_eq!(Some(hex(&bound.instance_public_key)), e.bound_instance_key, "{name}");
            assert_eq!(bound.spki_sha256, spki, "{name}");
            assert_eq!(client.pinned_instance_key(), Some(&bound.instance_public_key), "{name}: pinned");
        }
        Err(err) => {
            assert!(!e.valid, "{name}: refused with {err}");
            assert_eq!(vec![err.code()], e.causes, "{name}: {err:?}");
            if let Some(d) = &e.detail {
                assert!(format!("{err:?}").contains(d.as_str()), "{name}: {err:?} does not contain {d}");
            }
            assert!(!err.to_string().is_empty());
            assert_eq!(client.pinned_instance_key(), pinned.as_ref(), "{name}: a refused binding pins nothing");
        }
    }
}

/// The good TLS binding names the SHA-256 of `tls-binding-spki.der`, a P-256
/// SubjectPublicKeyInfo, and its parts for OpenSSL are the bytes the decoder
/// extracts as signed.
#[test]
fn the_good_binding_names_the_p256_key_and_its_openssl_parts_are_the_signed_bytes() {
    let spki = std::fs::read(private_cloud_dir().join("tls-binding-spki.der")).unwrap();
    assert!(spki.starts_with(&[0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]));
    let file = std::fs::read(private_cloud_dir().join("tls-binding-valid.bin")).unwrap();
    let env = fanlic_formats::private_cloud::TlsBindingEnvelope::decode(&file).unwrap();
    let binding = fanlic_formats::private_cloud::TlsBinding::decode(env.binding.message).unwrap();
    let digest = ring::digest::digest(&ring::digest::SHA256, &spki);
    assert_eq!(binding.spki_sha256.as_slice(), digest.as_ref());
    assert_eq!(env.binding.message.len(), 21 + 16 + 32, "SPEC.md §7.7: the message is 69 bytes");
    assert_eq!(&env.binding.message[21 + 16..], digest.as_ref(), "the hash is the message's last 32 bytes");
    let openssl = private_cloud_dir().parent().unwrap().join("openssl-private-cloud");
    let read = |f: &str| std::fs::read(openssl.join(f)).unwrap();
    assert_eq!(read("tls-binding-valid.binding.msg"), env.binding.message);
    assert_eq!(read("tls-binding-valid.binding.sig"), env.binding.signature);
    assert_eq!(read("tls-binding-valid.instance-certificate.msg"), env.instance_certificate.message);
    assert_eq!(read("tls-binding-valid.instance-certificate.sig"), env.instance_certificate.signature);
}

#[test]
fn every_private_cloud_vector_gives_its_outcome() {
    let vectors = PrivateCloudVector::load_all().unwrap();
    assert!(vectors.len() >= 30, "only {} vectors", vectors.len());
    let mut codes = BTreeSet::new();
    let mut valid = BTreeSet::new();
    for (name, v) in &vectors {
        let file = v.read_file().unwrap();
        let e = &v.expected;
        assert_eq!(e.valid, e.causes.is_empty(), "{name}");
        match v.check.as_str() {
            "server-answer" => check_answer(name, &file, v.answer.as_ref().unwrap(), e),
            "private-config" => check_config(name, &file, v.config.as_ref().unwrap(), e),
            "tls-binding" => check_binding(name, &file, v.binding.as_ref().unwrap(), e),
            other => panic!("{name}: unknown check {other}"),
        }
        codes.extend(e.causes.iter().cloned());
        if e.valid {
            valid.insert(name.clone());
        }
    }
    for code in [
        "malformed_answer",
        "content_incorrect",
        "license_type_mismatch",
        "no_image_key",
        "bad_signature",
        "certificate_license_mismatch",
        "image_key_id_mismatch",
        "instance_key_changed",
        "answer_license_mismatch",
        "kind_mismatch",
        "node_mismatch",
        "nonce_mismatch",
        "answer_expired",
        "answer_from_future",
        "foreign_license",
        "state_license_mismatch",
        "instance_key_mismatch",
        "unknown_format",
        "bad_encoding",
        "malformed_binding",
        "binding_license_mismatch",
        "tls_key_not_bound",
        "receipt_missing",
        "receipt_instance_mismatch",
        "lease_expired",
    ] {
        assert!(codes.contains(code), "no vector has cause {code}");
    }
    for good in [
        "answer-registered",
        "answer-heartbeat",
        "answer-deregistered",
        "answer-receipt-accepted",
        "config-valid",
        "tls-binding-valid",
    ] {
        assert!(valid.contains(good), "{good} is not a valid vector");
    }
    // Every file in the directory is a vector's JSON or the file a vector
    // checks (the request MACs have their own folder, `node-auth/`).
    let used: BTreeSet<&str> = vectors.iter().map(|(_, v)| v.file.as_str()).collect();
    for entry in std::fs::read_dir(private_cloud_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        // The TLS key the good binding names (checked above), and the folder
        // of the node-auth vectors.
        if !name.ends_with(".json") && name != "tls-binding-spki.der" && name != "node-auth" {
            assert!(used.contains(name.as_str()), "{name} is in no vector");
        }
    }
}

/// The good answers are what they claim, checked with ring rather than the
/// verifier: the license carries the image key derived as SPEC.md §7.1 says
/// from the test master secret, which signs the instance certificate, whose
/// key signs the answer.
#[test]
fn good_answers_hold_with_ring_and_the_derived_image_key() {
    let license_id = server_license_id();
    let seed = image_seed(&master_secret(), 1, &license_id).unwrap();
    let image = Ed25519KeyPair::from_seed_unchecked(&seed).unwrap();
    let image_public: [u8; 32] = image.public_key().as_ref().try_into().unwrap();
    for name in ["answer-registered", "answer-heartbeat", "answer-deregistered"] {
        let file = std::fs::read(private_cloud_dir().join(format!("{name}.bin"))).unwrap();
        let env = ServerAnswerEnvelope::decode(&file).unwrap();
        let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
        let signed = authenticate(env.license, &mut buf, &roots(&["root-a".to_owned()])).unwrap();
        assert_eq!(signed.license.id, license_id);
        assert_eq!(signed.license.image_public_key, Some(image_public), "{name}");
        let ok = |key: &[u8], msg: &[u8], sig: &[u8]| UnparsedPublicKey::new(&ED25519, key).verify(msg, sig).is_ok();
        let c = &env.instance_certificate;
        assert!(ok(&image_public, c.message, &c.signature), "{name}");
        let cert = InstanceCertificate::decode(c.message).unwrap();
        assert!(ok(&cert.instance_public_key, env.answer.message, &env.answer.signature), "{name}");
    }
}

/// A product whose clock is behind accepts an answer `at` up to 300 seconds
/// ahead, and refuses it from the first instant `now >= valid_until`.
#[test]
fn the_good_answer_holds_until_valid_until() {
    let (_, v) = PrivateCloudVector::load_all().unwrap().into_iter().find(|(n, _)| n == "answer-heartbeat").unwrap();
    let file = v.read_file().unwrap();
    let input = v.answer.unwrap();
    let roots = roots(&input.roots);
    let request = Request {
        kind: parse_kind(&input.kind).unwrap(),
        node_id: unhex(&input.node_id).unwrap(),
        nonce: unhex(&input.nonce).unwrap(),
    };
    let accepted = v.expected.accepted.unwrap();
    let at = parse_rfc3339(&accepted.at).unwrap();
    let until = parse_rfc3339(&accepted.valid_until).unwrap();
    let mut env = input.env.to_environment().unwrap();
    for (now, ok) in [(at.0 - 300, true), (at.0 - 301, false), (until.0 - 1, true), (until.0, false)] {
        env.now = Timestamp(now);
        assert_eq!(verify_server_answer(&file, &roots, &env, &request, None).is_ok(), ok, "at {now}");
    }
}

/// SPEC.md §7.3 "Authentication": the verifier's request MAC and
/// `Authorization` header are those of the vectors (which the generator
/// recomputed with ring and `scripts/openssl-activation-vectors.sh`
/// recomputes with OpenSSL), the server's check accepts each within the
/// time window and refuses it under another path, time or join secret.
#[test]
fn every_node_auth_vector_gives_its_mac() {
    use fanlic_verifier::node_auth::{AuthError, JoinSecret};
    let vectors = fanlic_testkit::private_cloud::load_node_auth().unwrap();
    assert!(vectors.len() >= 4);
    for v in &vectors {
        let key = JoinSecret::parse(&v.join_secret).unwrap().request_key();
        let mac: String =
            key.request_mac(&v.path, v.at, v.body.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(mac, v.mac, "{}", v.name);
        assert_eq!(key.authorization(&v.path, v.at, v.body.as_bytes()).as_str(), v.authorization, "{}", v.name);
        let h = Some(v.authorization.as_str());
        assert_eq!(key.check(h, &v.path, v.body.as_bytes(), v.at + 300), Ok(v.at), "{}", v.name);
        assert_eq!(key.check(h, "/api/v1/other", v.body.as_bytes(), v.at), Err(AuthError::BadMac), "{}", v.name);
        assert!(matches!(key.check(h, &v.path, v.body.as_bytes(), v.at + 301), Err(AuthError::OutOfWindow { .. })));
    }
    assert_ne!(vectors[0].mac, vectors[3].mac, "another join secret, another MAC");
}

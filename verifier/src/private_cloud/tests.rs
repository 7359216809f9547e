#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code
use std::{string::ToString as _, vec, vec::Vec};

use ed25519_dalek::{Signer as _, SigningKey};
use fanlic_formats::{
    encode_certificate_body, encode_instance_certificate, encode_license_file, encode_license_payload,
    encode_private_config_body, encode_private_config_file, encode_server_answer, encode_server_answer_file,
    private_cloud::{Event, EventKind, NodeRecord, wire::PrivateConfigBody},
    wire,
};
use proptest::prelude::*;

use super::*;
use crate::{Environment, RootKey};
use fanlic_formats::{
    KeyId, LicenseId, LicenseKind, Timestamp,
    private_cloud::{AnswerKind, InstanceCertificate, ServerAnswer},
};

const T0: u64 = 1_790_000_000;
const LICENSE: LicenseId = LicenseId([7; 16]);
const NODE: [u8; 16] = [9; 16];

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn public(k: &SigningKey) -> [u8; 32] {
    k.verifying_key().to_bytes()
}

fn sign(k: &SigningKey, m: &[u8]) -> [u8; 64] {
    k.sign(m).to_bytes()
}

/// A vendor and one authorization server (image key 3, instance key 4).
struct World {
    root: SigningKey,
    license: Vec<u8>,
    image: SigningKey,
    instance: SigningKey,
    cert_msg: Vec<u8>,
    cert_sig: [u8; 64],
}

fn license_file(kind: wire::Kind, image_public_key: Option<[u8; 32]>) -> Vec<u8> {
    let (root, issuing) = (key(1), key(2));
    let cert = encode_certificate_body(&wire::CertificateBody {
        root_key_id: KeyId::of(&public(&root)).0,
        key_id: KeyId::of(&public(&issuing)).0,
        public_key: public(&issuing),
        not_before: T0 - 86_400 * 365,
        not_after: T0 + 86_400 * 365,
        purposes: 0x3,
    })
    .unwrap();
    let payload = encode_license_payload(&wire::LicensePayload {
        license_id: LICENSE.0,
        kind,
        app_name: "FineBI",
        company: "Example Co.",
        project: "webroot",
        contract_signed: wire::Date { year: 2026, month: 1, day: 1 },
        issued_at: T0 - 86_400,
        not_before: T0 - 86_400,
        expiry: wire::Expiry::Never,
        version: wire::Version { major: 6, minor: 1 },
        max_nodes: 3,
        activation_key: None,
        activation_base_url: None,
        image_public_key,
        supersedes: None,
        request_email_sha256: None,
    })
    .unwrap();
    encode_license_file(&cert, &sign(&root, &cert), &payload, &sign(&issuing, &payload)).unwrap()
}

fn certificate(image: &SigningKey, instance: &[u8; 32]) -> (Vec<u8>, [u8; 64]) {
    let cert = InstanceCertificate::from_wire(&fanlic_formats::private_cloud::wire::InstanceCertificateBody {
        license_id: LICENSE.0,
        image_key_id: KeyId::of(&public(image)).0,
        instance_public_key: *instance,
        created_at: T0 - 3600,
    })
    .unwrap();
    let msg = encode_instance_certificate(&cert).unwrap();
    let sig = sign(image, &msg);
    (msg, sig)
}

impl World {
    fn new() -> Self {
        let image = key(3);
        let instance = key(4);
        let license = license_file(wire::Kind::PrivateCloud, Some(public(&image)));
        let (cert_msg, cert_sig) = certificate(&image, &public(&instance));
        Self { root: key(1), license, image, instance, cert_msg, cert_sig }
    }

    fn roots(&self) -> [RootKey; 1] {
        [RootKey::from_bytes(&public(&self.root)).unwrap()]
    }

    fn answer_with(&self, signer: &SigningKey, a: ServerAnswer) -> Vec<u8> {
        let msg = encode_server_answer(&a).unwrap();
        encode_server_answer_file(&self.license, &self.cert_msg, &self.cert_sig, &msg, &sign(signer, &msg)).unwrap()
    }

    /// The server's answer to `r` at server time `at`.
    fn answer(&self, r: &Request, at: u64) -> Vec<u8> {
        self.answer_with(&self.instance, body(r, at))
    }

    /// A copy of the server: the same image, another instance key.
    fn clone_server(&self) -> Self {
        let instance = key(5);
        let (cert_msg, cert_sig) = certificate(&self.image, &public(&instance));
        Self { root: key(1), license: self.license.clone(), image: key(3), instance, cert_msg, cert_sig }
    }
}

fn body(r: &Request, at: u64) -> ServerAnswer {
    ServerAnswer::from_wire(&fanlic_formats::private_cloud::wire::ServerAnswerBody {
        license_id: LICENSE.0,
        kind: r.kind,
        node_id: r.node_id,
        nonce: r.nonce,
        at,
        valid_until: at + fanlic_formats::private_cloud::SILENCE_LIMIT_SECS,
        nodes: 1,
    })
    .unwrap()
}

fn env(now: u64) -> Environment<'static> {
    Environment {
        app_name: "FineBI",
        version: "6.1.3",
        project: "webroot",
        nodes: 1,
        method: LicenseKind::PrivateCloud,
        now: Timestamp(now),
        last_seen: None,
    }
}

fn nonce(i: u64) -> [u8; 16] {
    let mut n = [0xa5; 16];
    n[..8].copy_from_slice(&i.to_le_bytes());
    n
}

fn codes(r: &AnswerRejection<'_>) -> Vec<&'static str> {
    r.causes().map(|c| c.code()).collect()
}

fn heartbeat(n: u64) -> Request {
    Request { kind: AnswerKind::Heartbeat, node_id: NODE, nonce: nonce(n) }
}

#[test]
fn a_good_answer_is_accepted() {
    let w = World::new();
    for kind in [AnswerKind::Registered, AnswerKind::Heartbeat, AnswerKind::Deregistered] {
        let r = Request { kind, node_id: NODE, nonce: nonce(1) };
        let file = w.answer(&r, T0);
        let a = verify_server_answer(&file, &w.roots(), &env(T0 + 1), &r, None).unwrap();
        assert_eq!(a.license_id, LICENSE);
        assert_eq!(a.instance_public_key, public(&w.instance));
        assert_eq!((a.kind, a.node_id, a.nodes), (kind, NODE, 1));
        assert_eq!((a.at, a.valid_until), (Timestamp(T0), Timestamp(T0 + 86_400)));
        let pinned = public(&w.instance);
        assert!(verify_server_answer(&file, &w.roots(), &env(T0 + 1), &r, Some(&pinned)).is_ok());
    }
    // The method the product selected does not matter: the answer's license is checked as private-cloud.
    let r = heartbeat(1);
    let local = Environment { method: LicenseKind::LocalContainer, ..env(T0) };
    assert!(verify_server_answer(&w.answer(&r, T0), &w.roots(), &local, &r, None).is_ok());
}

#[test]
fn every_cause_that_can_be_known_is_reported() {
    let w = World::new();
    let r = heartbeat(1);
    let asked = Request { kind: AnswerKind::Registered, node_id: [1; 16], nonce: nonce(2) };
    let now = T0 + 86_400;
    let e = Environment { app_name: "FineReport", ..env(now) };
    let file = w.answer(&r, T0);
    let err = verify_server_answer(&file, &w.roots(), &e, &asked, Some(&[8; 32])).unwrap_err();
    assert_eq!(
        codes(&err),
        [
            "app_name_mismatch",
            "instance_key_changed",
            "kind_mismatch",
            "node_mismatch",
            "nonce_mismatch",
            "answer_expired"
        ]
    );
    assert!(err.license().is_some());
    assert!(err.to_string().contains("App Name Mismatch"));
    // From the future: more than 300 s ahead.
    let ahead = w.answer(&r, T0 + 301);
    let err = verify_server_answer(&ahead, &w.roots(), &env(T0), &r, None).unwrap_err();
    assert_eq!(codes(&err), ["answer_from_future"]);
    assert!(verify_server_answer(&w.answer(&r, T0 + 300), &w.roots(), &env(T0), &r, None).is_ok());
}

#[test]
fn a_bad_signature_hides_what_that_key_signed() {
    let w = World::new();
    let r = heartbeat(1);
    // The answer signed by another key, for another node: only bad_signature.
    let forged = w.answer_with(&key(6), body(&Request { node_id: [1; 16], ..r }, T0));
    let err = verify_server_answer(&forged, &w.roots(), &env(T0), &r, None).unwrap_err();
    assert_eq!(codes(&err), ["bad_signature"]);
    // A certificate signed by another image key: the answer is not looked at.
    let other = World { cert_msg: certificate(&key(6), &public(&key(4))).0, ..World::new() };
    let mut other = other;
    other.cert_sig = sign(&key(6), &other.cert_msg);
    let file = other.answer(&Request { nonce: nonce(9), ..r }, T0);
    let err = verify_server_answer(&file, &w.roots(), &env(T0), &r, None).unwrap_err();
    assert_eq!(codes(&err), ["bad_signature"]);
    // A license under an unknown root: content_incorrect alone.
    let file = w.answer(&r, T0);
    let err =
        verify_server_answer(&file, &[RootKey::from_bytes(&public(&key(6))).unwrap()], &env(T0), &r, None).unwrap_err();
    assert_eq!(codes(&err), ["content_incorrect"]);
    assert!(err.license().is_none());
}

#[test]
fn a_license_without_an_image_key_or_of_the_wrong_kind_is_refused() {
    let r = heartbeat(1);
    let mut w = World::new();
    w.license = license_file(wire::Kind::PrivateCloud, None);
    let file = w.answer(&r, T0);
    let err = verify_server_answer(&file, &w.roots(), &env(T0), &r, None).unwrap_err();
    assert_eq!(codes(&err), ["no_image_key"]);
    w.license = license_file(wire::Kind::LocalContainer, Some(public(&w.image)));
    let file = w.answer(&r, T0);
    let err = verify_server_answer(&file, &w.roots(), &env(T0), &r, None).unwrap_err();
    assert_eq!(codes(&err), ["license_type_mismatch"]);
}

#[test]
fn two_hour_heartbeats_keep_the_registration() {
    let w = World::new();
    let mut c = Client::new(NODE);
    assert_eq!(c.status(Timestamp(T0)), Status::NotRegistered);
    assert_eq!(c.next(Timestamp(T0)), Next::Register);
    let r = c.request(AnswerKind::Registered, nonce(0), Timestamp(T0));
    assert_eq!(r.path(), "/api/v1/register");
    assert_eq!(c.next(Timestamp(T0 + 1)), Next::Wait { until: Timestamp(T0 + RETRY_SECS) });
    let s = c.on_answer(&w.answer(&r, T0 + 1), &w.roots(), &env(T0 + 2)).unwrap();
    assert_eq!(s, Status::Registered { valid_until: Timestamp(T0 + 1 + 86_400), nodes: 1 });
    assert_eq!(c.pinned_instance_key(), Some(&public(&w.instance)));
    let mut t = T0 + 2;
    for i in 1..=36 {
        assert_eq!(c.next(Timestamp(t + 7199)), Next::Wait { until: Timestamp(t + 7200) }, "step {i}");
        t += 7200;
        assert_eq!(c.next(Timestamp(t)), Next::Heartbeat, "step {i}");
        let r = c.request(AnswerKind::Heartbeat, nonce(i), Timestamp(t));
        let s = c.on_answer(&w.answer(&r, t), &w.roots(), &env(t)).unwrap();
        assert_eq!(s, Status::Registered { valid_until: Timestamp(t + 86_400), nodes: 1 }, "step {i}");
    }
}

#[test]
fn a_24_hour_outage_fails_exactly_at_valid_until() {
    let w = World::new();
    let mut c = Client::new(NODE);
    let r = c.request(AnswerKind::Registered, nonce(0), Timestamp(T0));
    c.on_answer(&w.answer(&r, T0), &w.roots(), &env(T0)).unwrap();
    let valid_until = Timestamp(T0 + 86_400);
    // The server goes away: every attempt fails, and is retried every 300 s.
    let mut t = T0 + 7200;
    let mut attempts = 0;
    while t < valid_until.0 {
        match c.next(Timestamp(t)) {
            Next::Heartbeat => {
                c.request(AnswerKind::Heartbeat, nonce(t), Timestamp(t));
                c.on_failure(Timestamp(t));
                attempts += 1;
                assert_eq!(c.next(Timestamp(t)), Next::Wait { until: Timestamp(t + RETRY_SECS) });
                assert_eq!(c.status(Timestamp(t)), Status::Registered { valid_until, nodes: 1 });
            }
            Next::Wait { until } => t = until.0,
            other => panic!("at {t}: {other:?}"),
        }
    }
    assert_eq!(attempts, (86_400 - 7200) / 300);
    assert_eq!(c.status(Timestamp(valid_until.0 - 1)), Status::Registered { valid_until, nodes: 1 });
    assert_eq!(c.status(valid_until), Status::Failed { since: valid_until });
    assert_eq!(c.next(valid_until), Next::RegistrationFailed { since: valid_until });
    // Reported once; then it registers again, every 300 s while the server is away.
    assert_eq!(c.next(valid_until), Next::Register);
    c.request(AnswerKind::Registered, nonce(1), valid_until);
    c.on_failure(valid_until);
    assert_eq!(c.next(Timestamp(valid_until.0 + 1)), Next::Wait { until: Timestamp(valid_until.0 + 300) });
    // The server is back: registered again, with the same instance.
    let back = Timestamp(valid_until.0 + 300);
    assert_eq!(c.next(back), Next::Register);
    let r = c.request(AnswerKind::Registered, nonce(2), back);
    let s = c.on_answer(&w.answer(&r, back.0), &w.roots(), &env(back.0)).unwrap();
    assert_eq!(s, Status::Registered { valid_until: Timestamp(back.0 + 86_400), nodes: 1 });
}

#[test]
fn a_replayed_answer_is_refused() {
    let w = World::new();
    let mut c = Client::new(NODE);
    let r = c.request(AnswerKind::Registered, nonce(0), Timestamp(T0));
    let first = w.answer(&r, T0);
    c.on_answer(&first, &w.roots(), &env(T0)).unwrap();
    // The same answer again: nothing is outstanding.
    let err = c.on_answer(&first, &w.roots(), &env(T0 + 1)).unwrap_err();
    assert_eq!(codes(&err), ["unrequested"]);
    // An old heartbeat answer, replayed to a new request.
    let r1 = c.request(AnswerKind::Heartbeat, nonce(1), Timestamp(T0 + 7200));
    let old = w.answer(&r1, T0 + 7200);
    c.on_answer(&old, &w.roots(), &env(T0 + 7200)).unwrap();
    let r2 = c.request(AnswerKind::Heartbeat, nonce(2), Timestamp(T0 + 14_400));
    let err = c.on_answer(&old, &w.roots(), &env(T0 + 14_400)).unwrap_err();
    assert_eq!(codes(&err), ["nonce_mismatch"]);
    // The genuine answer still counts.
    assert!(c.on_answer(&w.answer(&r2, T0 + 14_400), &w.roots(), &env(T0 + 14_401)).is_ok());
}

#[test]
fn a_cloned_server_is_refused() {
    let w = World::new();
    let clone = w.clone_server();
    let mut c = Client::new(NODE);
    let r = c.request(AnswerKind::Registered, nonce(0), Timestamp(T0));
    c.on_answer(&w.answer(&r, T0), &w.roots(), &env(T0)).unwrap();
    let r = c.request(AnswerKind::Heartbeat, nonce(1), Timestamp(T0 + 7200));
    // The copy's answer is valid on its own, but not for this product.
    assert!(verify_server_answer(&clone.answer(&r, T0 + 7200), &w.roots(), &env(T0 + 7200), &r, None).is_ok());
    let copy = clone.answer(&r, T0 + 7200);
    let err = c.on_answer(&copy, &w.roots(), &env(T0 + 7200)).unwrap_err();
    assert_eq!(codes(&err), ["instance_key_changed"]);
    assert!(matches!(
        err.causes().next(),
        Some(AnswerCause::InstanceKeyChanged { pinned, presented })
            if pinned == KeyId::of(&public(&w.instance)) && presented == KeyId::of(&public(&clone.instance))
    ));
    assert_eq!(c.pinned_instance_key(), Some(&public(&w.instance)));
    // A client pinned in advance refuses the copy's first answer too.
    let mut d = Client::with_pinned_instance_key(NODE, public(&w.instance));
    let r = d.request(AnswerKind::Registered, nonce(3), Timestamp(T0));
    assert!(d.on_answer(&clone.answer(&r, T0), &w.roots(), &env(T0)).is_err());
    assert!(d.on_answer(&w.answer(&r, T0), &w.roots(), &env(T0)).is_ok());
}

#[test]
fn deregistration_ends_the_heartbeats() {
    let w = World::new();
    let mut c = Client::new(NODE);
    let r = c.request(AnswerKind::Registered, nonce(0), Timestamp(T0));
    c.on_answer(&w.answer(&r, T0), &w.roots(), &env(T0)).unwrap();
    let r = c.request(AnswerKind::Deregistered, nonce(1), Timestamp(T0 + 5));
    assert_eq!(r.path(), "/api/v1/deregister");
    assert_eq!(c.on_answer(&w.answer(&r, T0 + 5), &w.roots(), &env(T0 + 5)), Ok(Status::Deregistered));
    assert_eq!(c.next(Timestamp(T0 + 200_000)), Next::Wait { until: Timestamp(u64::MAX) });
    c.request(AnswerKind::Registered, nonce(2), Timestamp(T0 + 200_000));
    assert_eq!(c.status(Timestamp(T0 + 200_000)), Status::NotRegistered);
}

fn config(w: &World, body: &PrivateConfigBody, signer: &SigningKey) -> Vec<u8> {
    let msg = encode_private_config_body(body).unwrap();
    encode_private_config_file(&w.cert_msg, &w.cert_sig, &msg, &sign(signer, &msg)).unwrap()
}

fn state(w: &World) -> PrivateConfigBody {
    PrivateConfigBody {
        license_id: LICENSE.0,
        instance_public_key: public(&w.instance),
        generation: 4,
        time_high_water: T0,
        activated_at: Some(T0 - 60),
        nodes: vec![NodeRecord { node_id: NODE, registered_at: T0 - 30, last_seen: T0 }],
        log_base: [0; 32],
        events: vec![Event { at: T0 - 3600, kind: EventKind::Created, node_id: [0; 16] }],
    }
}

#[test]
fn private_config_chain() {
    let w = World::new();
    let image = public(&w.image);
    let good = config(&w, &state(&w), &w.instance);
    let c = verify_private_config(&good, &image, &LICENSE).unwrap();
    assert_eq!((c.generation(), c.nodes().len()), (4, 1));
    let err = |f: &[u8], image: &[u8; 32], l: &LicenseId| verify_private_config(f, image, l).unwrap_err();
    assert_eq!(err(&good, &public(&key(6)), &LICENSE), PrivateConfigError::BadSignature);
    assert!(matches!(err(&good, &image, &LicenseId([8; 16])), PrivateConfigError::ForeignLicense { .. }));
    assert_eq!(err(&config(&w, &state(&w), &key(6)), &image, &LICENSE), PrivateConfigError::BadSignature);
    let s = PrivateConfigBody { license_id: [8; 16], ..state(&w) };
    assert_eq!(err(&config(&w, &s, &w.instance), &image, &LICENSE).reason(), "state_license_mismatch");
    let s = PrivateConfigBody { instance_public_key: public(&key(6)), ..state(&w) };
    assert_eq!(err(&config(&w, &s, &w.instance), &image, &LICENSE).reason(), "instance_key_mismatch");
    let mut tampered = good.clone();
    let last = tampered.len() - 70;
    tampered[last] ^= 1;
    assert!(verify_private_config(&tampered, &image, &LICENSE).is_err());
    assert_eq!(err(b"FANLIC-PRIVATECONFIG/2\n", &image, &LICENSE).reason(), "unknown_format");
}

struct Fixture {
    world: World,
    answer: Vec<u8>,
    config: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        let world = World::new();
        let answer = world.answer(&heartbeat(1), T0);
        let config = config(&world, &state(&world), &world.instance);
        Fixture { world, answer, config }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..700), flip in any::<usize>(), bit in 0u8..8) {
        let f = fixture();
        let w = &f.world;
        let roots = w.roots();
        let r = heartbeat(1);
        let _ = verify_server_answer(&bytes, &roots, &env(T0), &r, None);
        let _ = verify_private_config(&bytes, &public(&w.image), &LICENSE);
        let mut c = Client::new(NODE);
        c.request(AnswerKind::Heartbeat, nonce(1), Timestamp(T0));
        let _ = c.on_answer(&bytes, &roots, &env(T0));
        // One bit flipped anywhere in a good answer: refused, never accepted.
        let mut file = f.answer.clone();
        let i = flip % file.len();
        file[i] ^= 1 << bit;
        prop_assert!(verify_server_answer(&file, &roots, &env(T0), &r, None).is_err());
        let mut cfg = f.config.clone();
        let i = flip % cfg.len();
        cfg[i] ^= 1 << bit;
        prop_assert!(verify_private_config(&cfg, &public(&w.image), &LICENSE).is_err());
    }
}

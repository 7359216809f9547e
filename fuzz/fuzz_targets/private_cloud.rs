//! The private cloud's files on arbitrary bytes (SPEC.md §7.2, §7.4, §7.5):
//! `ServerAnswerEnvelope::decode` and the instance certificate and answer
//! decoders, `verify_server_answer` and `Client::on_answer` under the TEST-ONLY
//! root `root-a` with the environment of the private-cloud vectors, and
//! `PrivateConfigEnvelope::decode`, `PrivateConfig::decode` and
//! `verify_private_config` with the vectors' image key and license id.
//!
//! Besides "never panics": an accepted answer is exactly what its body says
//! and what the request asked; the function and the client agree; a rejection
//! has at least one cause, and `content_incorrect` is always alone; whatever
//! decodes re-encodes to the same bytes (SPEC.md §2). Seeds: the files of
//! `fixtures/vectors/private-cloud/` (`cp ../fixtures/vectors/private-cloud/*.bin corpus/private_cloud/`).
#![no_main]

use fanlic_formats::{
    LicenseId, LicenseKind, Timestamp, encode_instance_certificate, encode_private_config_body, encode_server_answer,
    private_cloud::{
        AnswerKind, InstanceCertificate, PrivateConfig, PrivateConfigEnvelope, ServerAnswer, ServerAnswerEnvelope,
    },
};
use fanlic_verifier::{
    Environment, RootKey,
    private_cloud::{Client, Request, verify_private_config, verify_server_answer},
};
use libfuzzer_sys::fuzz_target;

/// `fixtures/vectors/private-cloud/config-valid.json`: the image key and the
/// server license id of the vectors.
const IMAGE_KEY: &str = "30697a3b1c5fc042574ce1e7932fe08b78c3dfbda95e16f92bb2167eee58ff30";
const LICENSE_ID: &str = "d2eed49a8a32dd08448f2fb5333e2e4e";
/// 2026-06-01T00:00:00Z, the vectors' "now".
const NOW: u64 = 1_780_272_000;

fn unhex<const N: usize>(s: &str) -> [u8; N] {
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex constant");
    }
    out
}

fn answers(data: &[u8], roots: &[RootKey]) {
    let env = Environment {
        app_name: "FineBI",
        version: "6.1.3",
        project: "bi-cluster",
        nodes: 1,
        method: LicenseKind::PrivateCloud,
        now: Timestamp(NOW),
        last_seen: None,
    };
    // The request: the one the answer itself names when it decodes (so that
    // inputs reach acceptance), a fixed one otherwise.
    let mut request = Request { kind: AnswerKind::Heartbeat, node_id: [0x11; 16], nonce: [0; 16] };
    if let Ok(envelope) = ServerAnswerEnvelope::decode(data) {
        if let Ok(c) = InstanceCertificate::decode(envelope.instance_certificate.message) {
            let again = encode_instance_certificate(&c).expect("a decoded certificate re-encodes");
            assert_eq!(again, envelope.instance_certificate.message, "certificate is not canonical");
        }
        if let Ok(a) = ServerAnswer::decode(envelope.answer.message) {
            let again = encode_server_answer(&a).expect("a decoded answer re-encodes");
            assert_eq!(again, envelope.answer.message, "answer is not canonical");
            request = Request { kind: a.kind, node_id: a.node_id, nonce: a.nonce };
        }
    }
    let direct = verify_server_answer(data, roots, &env, &request, None);
    let mut client = Client::new(request.node_id);
    client.request(request.kind, request.nonce, env.now);
    let via_client = client.on_answer(data, roots, &env);
    match (&direct, &via_client) {
        (Ok(a), Ok(_)) => {
            let envelope = ServerAnswerEnvelope::decode(data).expect("accepted, so it decodes");
            let body = ServerAnswer::decode(envelope.answer.message).expect("accepted, so it decodes");
            assert_eq!(
                (a.kind, a.node_id, a.license_id, a.at, a.valid_until),
                (body.kind, body.node_id, body.license_id, body.at, body.valid_until)
            );
            assert_eq!(body.nonce, request.nonce);
            assert!(env.now < a.valid_until && a.at.0 <= NOW + 300);
            assert_eq!(client.pinned_instance_key(), Some(&a.instance_public_key));
        }
        (Err(d), Err(c)) => {
            assert_eq!(d, c, "the client reports what the function does");
            let codes: Vec<&str> = d.causes().map(|c| c.code()).collect();
            assert!(!codes.is_empty(), "a rejection without a cause");
            if codes.contains(&"content_incorrect") {
                assert_eq!(codes, ["content_incorrect"], "content_incorrect is alone");
            }
            let _ = d.to_string();
            assert!(client.pinned_instance_key().is_none());
        }
        (d, c) => panic!("the entry points disagree: {d:?} / {c:?}"),
    }
    // Nothing outstanding: refused without being looked at.
    assert!(Client::new([0; 16]).on_answer(data, roots, &env).is_err());
}

fn configs(data: &[u8]) {
    if let Ok(envelope) = PrivateConfigEnvelope::decode(data)
        && let Ok(c) = PrivateConfig::decode(envelope.state.message)
    {
        let again = encode_private_config_body(c.to_wire()).expect("a decoded state re-encodes");
        assert_eq!(again, envelope.state.message, "state is not canonical");
        let _ = c.log_head();
    }
    let _ = PrivateConfig::decode(data);
    let license_id = LicenseId(unhex(LICENSE_ID));
    match verify_private_config(data, &unhex(IMAGE_KEY), &license_id) {
        Ok(c) => assert_eq!(c.license_id(), license_id),
        Err(e) => {
            let _ = (e.reason(), e.to_string());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(root) = RootKey::from_bytes(include_bytes!("../../fixtures/keys/root-a.pub.raw")) {
        answers(data, &[root]);
    }
    configs(data);
});

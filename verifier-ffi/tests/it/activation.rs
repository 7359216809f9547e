//! Activation through the C ABI (SPEC.md §6.1, §6.2): every case of
//! `fixtures/activation/vectors.json` made into a challenge from a license
//! that verifies (same token, URL and code), the code-entry state machine
//! (lock, refresh, save and restore, receipt policy), its messages, and
//! bad input. The helpers here are shared with `receipts.rs`.
#![allow(
    clippy::multiple_unsafe_ops_per_block,
    reason = "test code: the calls of one bad-input block share one safety argument"
)]

use core::ptr;

use ed25519_dalek::{Signer as _, SigningKey};
use fanlic_formats::{
    KeyId, Timestamp, activation::ActivationChallenge, encode_certificate_body, encode_license_file,
    encode_license_payload, wire,
};
use fanlic_testkit::{read_public_key, vectors_dir};
use fanlic_verifier::receipt::sha256;
use fanlic_verifier_ffi::{
    FANLIC_LANG_EN, FANLIC_LANG_ZH_CN, FANLIC_METHOD_LOCAL_CONTAINER, FANLIC_METHOD_PRIVATE_CLOUD, FanlicEnvironment,
    FanlicStatus, activation::*,
};
use serde_json::Value;

pub(crate) fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex {s}");
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

pub(crate) fn unhex_n<const N: usize>(s: &str) -> [u8; N] {
    unhex(s).try_into().unwrap()
}

/// The product's environment, owning its text.
#[derive(Clone, Debug)]
pub(crate) struct Env {
    pub(crate) app: String,
    pub(crate) version: String,
    pub(crate) project: String,
    pub(crate) nodes: u32,
    pub(crate) method: u32,
    pub(crate) now: u64,
}

impl Env {
    pub(crate) fn c(&self) -> FanlicEnvironment {
        FanlicEnvironment {
            app_name: self.app.as_ptr(),
            app_name_len: self.app.len(),
            version: self.version.as_ptr(),
            version_len: self.version.len(),
            project: self.project.as_ptr(),
            project_len: self.project.len(),
            nodes: self.nodes,
            method: self.method,
            now: self.now,
            last_seen: 0,
            has_last_seen: 0,
        }
    }
}

pub(crate) fn input(nonce: [u8; 16], node_id: [u8; 16], deployment_id: &[u8]) -> FanlicChallengeInput {
    FanlicChallengeInput {
        nonce,
        node_id,
        deployment_id: deployment_id.as_ptr(),
        deployment_id_len: deployment_id.len(),
        has_server: 0,
        instance_fingerprint: [0; 32],
        generation: 0,
        has_previous_receipt: 0,
        previous_receipt: [0; 32],
    }
}

/// A challenge made through the C ABI; freed on drop.
pub(crate) struct Challenge(pub(crate) *mut FanlicChallenge);

impl Drop for Challenge {
    fn drop(&mut self) {
        // SAFETY: made by fanlic_challenge_make, freed once.
        unsafe { fanlic_challenge_free(self.0) };
    }
}

impl Challenge {
    pub(crate) fn make(
        license: &[u8],
        roots: &[[u8; 32]],
        env: &Env,
        input: &FanlicChallengeInput,
    ) -> Result<Self, FanlicStatus> {
        let env = env.c();
        let mut out = ptr::dangling_mut();
        // SAFETY: every pointer is to live data of the length given.
        let s = unsafe {
            fanlic_challenge_make(license.as_ptr(), license.len(), roots.as_ptr(), roots.len(), &env, input, &mut out)
        };
        if s == FanlicStatus::Ok {
            assert!(!out.is_null());
            Ok(Self(out))
        } else {
            assert!(out.is_null(), "a refused challenge leaves *out null");
            Err(s)
        }
    }

    pub(crate) fn info(&self) -> FanlicChallengeInfo {
        let mut info = core::mem::MaybeUninit::<FanlicChallengeInfo>::zeroed();
        // SAFETY: a live handle and a writable struct.
        assert_eq!(unsafe { fanlic_challenge_get_info(self.0, info.as_mut_ptr()) }, FanlicStatus::Ok);
        // SAFETY: written by the call (and zeroed before).
        unsafe { info.assume_init() }
    }

    pub(crate) fn token(&self) -> Vec<u8> {
        let i = self.info();
        i.token[..i.token_len].to_vec()
    }

    pub(crate) fn url(&self, base: &str) -> Result<String, (FanlicStatus, usize)> {
        let mut buf = vec![0u8; FANLIC_MAX_ACTIVATION_URL_LEN + 1];
        let mut len = 0;
        // SAFETY: live handle, buffers of the lengths given.
        let s = unsafe {
            fanlic_challenge_write_url(self.0, base.as_ptr(), base.len(), buf.as_mut_ptr(), buf.len(), &mut len)
        };
        if s != FanlicStatus::Ok {
            return Err((s, len));
        }
        assert_eq!(buf[len], 0, "a NUL follows");
        Ok(String::from_utf8(buf[..len].to_vec()).unwrap())
    }
}

/// A code-entry state machine; freed on drop.
pub(crate) struct Machine(pub(crate) *mut FanlicActivation);

impl Drop for Machine {
    fn drop(&mut self) {
        // SAFETY: made by fanlic_activation_new, freed once.
        unsafe { fanlic_activation_free(self.0) };
    }
}

impl Machine {
    pub(crate) fn new() -> Self {
        let p = fanlic_activation_new();
        assert!(!p.is_null());
        Self(p)
    }

    pub(crate) fn set(&mut self, c: &Challenge) {
        // SAFETY: two live handles.
        assert_eq!(unsafe { fanlic_activation_set_challenge(self.0, c.0) }, FanlicStatus::Ok);
    }

    pub(crate) fn enter(&mut self, typed: &str, now: u64) -> (FanlicStatus, FanlicEnterResult) {
        let mut r = FanlicEnterResult::default();
        // SAFETY: live handle, typed's bytes, a writable struct.
        let s = unsafe { fanlic_activation_enter(self.0, typed.as_ptr(), typed.len(), now, &mut r) };
        assert_eq!(r.now, now);
        (s, r)
    }

    pub(crate) fn status(&self, now: u64) -> FanlicActivationStatus {
        let mut s = FanlicActivationStatus::default();
        // SAFETY: live handle, writable struct.
        assert_eq!(unsafe { fanlic_activation_get_status(self.0, now, &mut s) }, FanlicStatus::Ok);
        s
    }

    pub(crate) fn save(&self) -> [u8; FANLIC_ACTIVATION_STATE_LEN] {
        let mut out = [0u8; FANLIC_ACTIVATION_STATE_LEN];
        // SAFETY: live handle, 64 writable bytes.
        assert_eq!(unsafe { fanlic_activation_save(self.0, out.as_mut_ptr(), out.len()) }, FanlicStatus::Ok);
        out
    }

    pub(crate) fn restore(&mut self, state: &[u8]) -> FanlicStatus {
        // SAFETY: live handle, state's bytes.
        unsafe { fanlic_activation_restore(self.0, state.as_ptr(), state.len()) }
    }
}

pub(crate) fn message(r: &FanlicEnterResult, lang: u32) -> Result<String, FanlicStatus> {
    let mut buf = [0u8; 512];
    let mut len = 0;
    // SAFETY: a valid struct, a buffer of its length, a writable size_t.
    let s = unsafe { fanlic_activation_message(r, lang, buf.as_mut_ptr(), buf.len(), &mut len) };
    if s != FanlicStatus::Ok {
        return Err(s);
    }
    Ok(String::from_utf8(buf[..len].to_vec()).unwrap())
}

pub(crate) fn root(name: &str) -> [u8; 32] {
    read_public_key(name).unwrap()
}

const BASE_URL: &str = "https://activate.vendor.example/a";

/// A TEST-ONLY key of `fixtures/keys/` (seed `SHA-256("fanlic/TEST-ONLY/seed/" || name)`),
/// in pure Rust so that the tests run under Miri too.
struct TestKey(SigningKey);

impl TestKey {
    fn new(name: &str) -> Self {
        let key = Self(SigningKey::from_bytes(&sha256(format!("fanlic/TEST-ONLY/seed/{name}").as_bytes())));
        assert_eq!(key.public(), root(name), "the seed of {name}");
        key
    }

    fn public(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }

    fn key_id(&self) -> KeyId {
        KeyId::of(&self.public())
    }

    fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }
}

/// A code-policy license, signed by root-a → issuing-a, that carries the
/// given id and activation key.
fn code_license(
    license_id: [u8; 16],
    key: [u8; 32],
    kind: wire::Kind,
    version: (u16, u16),
    nodes: u32,
    t: u64,
) -> Vec<u8> {
    let (root, issuing) = (TestKey::new("root-a"), TestKey::new("issuing-a"));
    let cert = encode_certificate_body(&wire::CertificateBody {
        root_key_id: root.key_id().0,
        key_id: issuing.key_id().0,
        public_key: issuing.public(),
        not_before: t - 86_400 * 30,
        not_after: t + 86_400 * 30,
        purposes: 0x3,
    })
    .unwrap();
    let payload = encode_license_payload(&wire::LicensePayload {
        license_id,
        kind,
        app_name: "FineReport",
        company: "Example Test Co.",
        project: "webroot",
        contract_signed: wire::Date { year: 2026, month: 1, day: 1 },
        issued_at: t - 86_400,
        not_before: t - 86_400,
        expiry: wire::Expiry::Never,
        version: wire::Version { major: version.0, minor: version.1 },
        max_nodes: nodes,
        activation_key: Some(key),
        activation_base_url: Some(BASE_URL),
        image_public_key: None,
        supersedes: None,
        request_email_sha256: None,
    })
    .unwrap();
    encode_license_file(&cert, &root.sign(&cert), &payload, &issuing.sign(&payload)).unwrap()
}

/// One case of `fixtures/activation/vectors.json`, with a license that
/// carries its id and key, and the environment the challenge was made in.
struct Case {
    name: String,
    license: Vec<u8>,
    env: Env,
    input_deployment: Vec<u8>,
    server: Option<([u8; 32], u64)>,
    token: Vec<u8>,
    url: String,
    code: String,
}

fn cases() -> Vec<Case> {
    let path = fanlic_testkit::fixtures_dir().join("activation").join("vectors.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    cases
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap().to_owned();
            let body = unhex(&s("body"));
            let challenge = ActivationChallenge::decode(&body).unwrap();
            let fp = &c["project_fingerprint_input"];
            assert_eq!((fp["app_name"].as_str(), fp["project"].as_str()), (Some("FineReport"), Some("webroot")));
            let (major, minor) = {
                let mut p = challenge.app_version.split('.').map(|n| n.parse::<u16>().unwrap());
                (p.next().unwrap(), p.next().unwrap())
            };
            let kind = if challenge.server.is_some() { wire::Kind::PrivateCloud } else { wire::Kind::LocalContainer };
            let license = code_license(
                unhex_n(&s("license_id")),
                unhex_n(&s("activation_key")),
                kind,
                (major, minor),
                challenge.nodes,
                challenge.issued_at.0,
            );
            Case {
                name: s("name"),
                license,
                env: Env {
                    app: "FineReport".into(),
                    version: challenge.app_version.into(),
                    project: "webroot".into(),
                    nodes: challenge.nodes,
                    method: if challenge.server.is_some() {
                        FANLIC_METHOD_PRIVATE_CLOUD
                    } else {
                        FANLIC_METHOD_LOCAL_CONTAINER
                    },
                    now: challenge.issued_at.0,
                },
                input_deployment: unhex(fp["deployment_id"].as_str().unwrap()),
                server: challenge.server.map(|s| (s.instance_fingerprint, s.generation)),
                token: unhex(&s("token")),
                url: s("url"),
                code: s("code"),
            }
        })
        .collect()
}

fn challenge_of(c: &Case, now: u64) -> Challenge {
    let mut i = input([0x0b; 16], [0x0c; 16], &c.input_deployment);
    if let Some((fingerprint, generation)) = c.server {
        i.has_server = 1;
        i.instance_fingerprint = fingerprint;
        i.generation = generation;
    }
    Challenge::make(&c.license, &[root("root-a")], &Env { now, ..c.env.clone() }, &i).unwrap()
}

fn wrong(code: &str) -> String {
    format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000)
}

#[test]
#[cfg_attr(
    miri,
    ignore = "minutes of signature checks under Miri: the Miri pass runs one_pass_through_every_entry_point"
)]
fn every_activation_vector_through_the_c_abi() {
    for c in cases() {
        let name = &c.name;
        let ch = challenge_of(&c, c.env.now);
        let info = ch.info();
        assert_eq!(ch.token(), c.token, "{name}: token");
        assert_eq!(info.token_sha256, sha256(&c.token), "{name}");
        assert_eq!((info.issued_at, info.policy), (c.env.now, FANLIC_ACTIVATION_POLICY_CODE), "{name}");
        // The license's base URL, or one given (a trailing / not doubled).
        assert_eq!(ch.url("").unwrap(), c.url, "{name}: URL");
        assert_eq!(ch.url(&format!("{BASE_URL}/")).unwrap(), c.url, "{name}");
        let other = ch.url("https://other.example").unwrap();
        assert_eq!(other.rsplit('/').next(), c.url.rsplit('/').next(), "{name}");

        // The code, through the state machine only: a wrong one counts, the
        // vector's activates.
        let mut m = Machine::new();
        assert_eq!(m.status(c.env.now).kind, FANLIC_ACTIVATION_NOT_ACTIVATED);
        m.set(&ch);
        let s = m.status(c.env.now + 1);
        assert_eq!((s.kind, s.expires_at), (FANLIC_ACTIVATION_AWAITING_CODE, c.env.now + 300), "{name}");
        let (st, r) = m.enter(&wrong(&c.code), c.env.now + 1);
        assert_eq!((st, r.kind, r.remaining), (FanlicStatus::Invalid, FANLIC_ENTER_WRONG_CODE, 5), "{name}");
        let (st, r) = m.enter(&format!(" {} ", c.code), c.env.now + 2);
        assert_eq!((st, r.kind, r.at), (FanlicStatus::Ok, FANLIC_ENTER_ACCEPTED, c.env.now + 2), "{name}: code");
        let s = m.status(c.env.now + 3);
        assert_eq!((s.kind, s.at), (FANLIC_ACTIVATION_ACTIVATED, c.env.now + 2), "{name}");
        // Restart forgets the activation.
        // SAFETY: a live handle.
        assert_eq!(unsafe { fanlic_activation_restart(m.0) }, FanlicStatus::Ok);
        assert_eq!(m.status(c.env.now + 4).kind, FANLIC_ACTIVATION_NOT_ACTIVATED, "{name}");
    }
}

fn first() -> Case {
    cases().into_iter().next().unwrap()
}

#[test]
#[cfg_attr(
    miri,
    ignore = "minutes of signature checks under Miri: the Miri pass runs one_pass_through_every_entry_point"
)]
fn the_sixth_wrong_code_locks_for_900_seconds_and_a_refresh_does_not_reset_the_count() {
    let c = first();
    let t = c.env.now;
    let mut m = Machine::new();
    m.set(&challenge_of(&c, t));
    let bad = wrong(&c.code);
    for (i, remaining) in (1..=4).zip([5, 4, 3, 2]) {
        let (s, r) = m.enter(&bad, t + i);
        assert_eq!((s, r.kind, r.remaining), (FanlicStatus::Invalid, FANLIC_ENTER_WRONG_CODE, remaining));
    }
    // A refresh (a new challenge: a later time, another code) keeps the
    // count: the fifth wrong code leaves one, the sixth locks. (The inputs
    // are fixed, so "000000" is not the refreshed challenge's code.)
    m.set(&challenge_of(&c, t + 10));
    let (_, r) = m.enter("000000", t + 11);
    assert_eq!((r.kind, r.remaining), (FANLIC_ENTER_WRONG_CODE, 1));
    let (s, r) = m.enter("000000", t + 12);
    assert_eq!((s, r.kind, r.until), (FanlicStatus::Invalid, FANLIC_ENTER_LOCKED, t + 12 + 900));
    let st = m.status(t + 13);
    assert_eq!((st.kind, st.until), (FANLIC_ACTIVATION_LOCKED, t + 912));
    // While locked every code is refused and not counted, the right one too.
    let (s, r) = m.enter(&c.code, t + 14);
    assert_eq!((s, r.kind, r.until), (FanlicStatus::Invalid, FANLIC_ENTER_LOCKED, t + 912));
    assert!(message(&r, FANLIC_LANG_EN).unwrap().contains("898 more seconds"));
    assert_eq!(m.save()[2], 6);
    // When the lock ends the count starts again, on a fresh challenge.
    m.set(&challenge_of(&c, t + 912));
    let (_, r) = m.enter("000000", t + 912);
    assert_eq!((r.kind, r.remaining), (FANLIC_ENTER_WRONG_CODE, 5));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "minutes of signature checks under Miri: the Miri pass runs one_pass_through_every_entry_point"
)]
fn save_and_restore_mid_way_keeps_the_count_and_the_code() {
    let c = first();
    let t = c.env.now;
    let mut a = Machine::new();
    a.set(&challenge_of(&c, t));
    for i in 0..3 {
        assert_eq!(a.enter(&wrong(&c.code), t + i).1.kind, FANLIC_ENTER_WRONG_CODE);
    }
    let saved = a.save();
    assert_eq!(saved[0], 1, "version");
    assert_eq!(saved[2], 3, "three wrong codes");
    let mut b = Machine::new();
    assert_eq!(b.restore(&saved), FanlicStatus::Ok);
    assert_eq!(b.save(), saved);
    // The restored machine counts on: a restart of one node buys no guesses.
    let (_, r) = b.enter(&wrong(&c.code), t + 4);
    assert_eq!((r.kind, r.remaining), (FANLIC_ENTER_WRONG_CODE, 2));
    // And it holds the code: the vector's code activates it.
    let (s, r) = b.enter(&c.code, t + 5);
    assert_eq!((s, r.kind), (FanlicStatus::Ok, FANLIC_ENTER_ACCEPTED));
    let mut again = Machine::new();
    assert_eq!(again.restore(&b.save()), FanlicStatus::Ok);
    let s = again.status(t + 6);
    assert_eq!((s.kind, s.at), (FANLIC_ACTIVATION_ACTIVATED, t + 5));
    // A too-small save buffer is refused.
    let mut small = [0u8; 63];
    // SAFETY: live handle, 63 writable bytes.
    assert_eq!(unsafe { fanlic_activation_save(b.0, small.as_mut_ptr(), small.len()) }, FanlicStatus::BufferTooSmall);
}

#[test]
fn a_malformed_saved_state_is_refused_and_changes_nothing() {
    let c = first();
    let t = c.env.now;
    let mut m = Machine::new();
    m.set(&challenge_of(&c, t));
    let _ = m.enter(&wrong(&c.code), t + 1);
    let before = m.save();
    let mut bad_states = Vec::new();
    for (at, byte) in [(0, 2), (1, 0x10), (2, 7), (3, 1), (48, 1), (56, 1)] {
        let mut s = before;
        s[at] = byte;
        bad_states.push(s);
    }
    let mut big_code = before;
    big_code[4..8].copy_from_slice(&1_000_000u32.to_le_bytes());
    bad_states.push(big_code);
    for s in &bad_states {
        assert_eq!(m.restore(s), FanlicStatus::BadState, "{s:?}");
        assert_eq!(m.save(), before, "nothing changed");
    }
    assert_eq!(m.restore(&before[..63]), FanlicStatus::BadLength);
    assert_eq!(m.restore(&[]), FanlicStatus::BadLength);
    assert_eq!(m.save(), before);
    // SAFETY: null with a length is refused before any read.
    assert_eq!(unsafe { fanlic_activation_restore(m.0, ptr::null(), 64) }, FanlicStatus::NullPointer);
}

/// The receipt-policy local-container license of the main manifest and
/// its environment at the receipt vectors' challenge time.
pub(crate) fn receipt_policy_license() -> (Vec<u8>, Env) {
    let license = std::fs::read(vectors_dir().join("valid-receipt-policy-local-container.lic")).unwrap();
    let env = Env {
        app: "FineReport".into(),
        version: "11.0.20".into(),
        project: "webroot".into(),
        nodes: 1,
        method: FANLIC_METHOD_LOCAL_CONTAINER,
        now: fanlic_testkit::parse_rfc3339("2026-05-31T23:57:00Z").unwrap().0,
    };
    (license, env)
}

#[test]
#[cfg_attr(
    miri,
    ignore = "minutes of signature checks under Miri: the Miri pass runs one_pass_through_every_entry_point"
)]
fn receipt_policy_refuses_every_code_and_does_not_count_it() {
    let (license, env) = receipt_policy_license();
    let ch = Challenge::make(&license, &[root("root-a")], &env, &input([1; 16], [0x0c; 16], b"")).unwrap();
    assert_eq!(ch.info().policy, FANLIC_ACTIVATION_POLICY_RECEIPT);
    let mut m = Machine::new();
    m.set(&ch);
    // Whatever code is typed (the holder could compute the MAC's "code"),
    // none is accepted, and none counts towards the lock.
    for i in 0..20u64 {
        let (s, r) = m.enter(&format!("{:06}", i * 49_999), env.now + 1);
        assert_eq!((s, r.kind), (FanlicStatus::Invalid, FANLIC_ENTER_RECEIPT_REQUIRED));
    }
    assert_eq!(m.status(env.now + 2).kind, FANLIC_ACTIVATION_AWAITING_CODE);
    assert_eq!(m.save()[2], 0, "not counted");
    let (_, r) = m.enter("123456", env.now + 3);
    assert!(message(&r, FANLIC_LANG_EN).unwrap().contains("receipt"));
}

#[test]
fn every_refusal_has_the_verifiers_message() {
    let now = 1_790_000_100;
    let cases = [
        (FanlicEnterResult { kind: FANLIC_ENTER_NO_CHALLENGE, now, ..Default::default() }, "no QR code"),
        (FanlicEnterResult { kind: FANLIC_ENTER_NOT_SIX_DIGITS, now, ..Default::default() }, "six digits"),
        (FanlicEnterResult { kind: FANLIC_ENTER_EXPIRED, issued_at: now - 400, now, ..Default::default() }, "expired"),
        (
            FanlicEnterResult { kind: FANLIC_ENTER_LOCKED, until: now + 60, now, ..Default::default() },
            "60 more seconds",
        ),
        (FanlicEnterResult { kind: FANLIC_ENTER_WRONG_CODE, remaining: 2, now, ..Default::default() }, "2 more wrong"),
        (FanlicEnterResult { kind: FANLIC_ENTER_RECEIPT_REQUIRED, now, ..Default::default() }, "receipt"),
    ];
    for (r, text) in cases {
        let en = message(&r, FANLIC_LANG_EN).unwrap();
        assert!(en.contains(text), "{en}");
        // The verifier has English texts only for code entry: Chinese
        // writes the same until it has its own.
        assert_eq!(message(&r, FANLIC_LANG_ZH_CN).unwrap(), en);
    }
    let accepted = FanlicEnterResult { kind: FANLIC_ENTER_ACCEPTED, ..Default::default() };
    assert_eq!(message(&accepted, FANLIC_LANG_EN), Err(FanlicStatus::BadArgument));
    let unknown = FanlicEnterResult { kind: 99, ..Default::default() };
    assert_eq!(message(&unknown, FANLIC_LANG_EN), Err(FanlicStatus::BadArgument));
    let wrong = FanlicEnterResult { kind: FANLIC_ENTER_WRONG_CODE, remaining: 300, ..Default::default() };
    assert_eq!(message(&wrong, FANLIC_LANG_EN), Err(FanlicStatus::BadArgument));
    assert_eq!(message(&cases[0].0, 2), Err(FanlicStatus::BadArgument), "unknown language");
    // Too small: the length needed is told.
    let mut small = [0u8; 4];
    let mut len = 0;
    // SAFETY: a valid struct, 4 writable bytes, a writable size_t.
    let s = unsafe { fanlic_activation_message(&cases[1].0, FANLIC_LANG_EN, small.as_mut_ptr(), 4, &mut len) };
    assert_eq!((s, len), (FanlicStatus::BufferTooSmall, message(&cases[1].0, FANLIC_LANG_EN).unwrap().len()));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "minutes of signature checks under Miri: the Miri pass runs one_pass_through_every_entry_point"
)]
fn bad_input_is_refused_never_read() {
    let c = first();
    let roots = [root("root-a")];
    let env = c.env.c();
    let i = input([0x0b; 16], [0x0c; 16], b"");
    let mut out = ptr::null_mut();
    // SAFETY: in every call below the pointers are null, live, or with
    // lengths the functions refuse before reading.
    unsafe {
        let make = |lic: *const u8, len: usize, env: *const FanlicEnvironment, i: *const FanlicChallengeInput, out| {
            fanlic_challenge_make(lic, len, roots.as_ptr(), 1, env, i, out)
        };
        let l = c.license.as_ptr();
        let n = c.license.len();
        assert_eq!(make(ptr::null(), n, &env, &i, &mut out), FanlicStatus::NullPointer);
        assert_eq!(make(l, usize::MAX, &env, &i, &mut out), FanlicStatus::BadLength);
        assert_eq!(make(l, n, ptr::null(), &i, &mut out), FanlicStatus::NullPointer);
        assert_eq!(make(l, n, &env, ptr::null(), &mut out), FanlicStatus::NullPointer);
        assert_eq!(make(l, n, &env, &i, ptr::null_mut()), FanlicStatus::NullPointer);
        assert_eq!(fanlic_challenge_make(l, n, ptr::null(), 1, &env, &i, &mut out), FanlicStatus::NullPointer);
        assert_eq!(fanlic_challenge_make(l, n, roots.as_ptr(), 0, &env, &i, &mut out), FanlicStatus::BadArgument);
        assert_eq!(fanlic_challenge_make(l, n, roots.as_ptr(), 9, &env, &i, &mut out), FanlicStatus::BadArgument);
        let bad_method = FanlicEnvironment { method: 9, ..env };
        assert_eq!(make(l, n, &bad_method, &i, &mut out), FanlicStatus::BadArgument);
        let not_utf8 = FanlicEnvironment { project: b"\xff".as_ptr(), project_len: 1, ..env };
        assert_eq!(make(l, n, &not_utf8, &i, &mut out), FanlicStatus::NotUtf8);
        let long = vec![7u8; FANLIC_MAX_DEPLOYMENT_ID_LEN + 1];
        let long_id = FanlicChallengeInput { deployment_id: long.as_ptr(), deployment_id_len: long.len(), ..i };
        assert_eq!(make(l, n, &env, &long_id, &mut out), FanlicStatus::BadLength);
        let null_id = FanlicChallengeInput { deployment_id: ptr::null(), deployment_id_len: 3, ..i };
        assert_eq!(make(l, n, &env, &null_id, &mut out), FanlicStatus::NullPointer);
        // A server instance for a local-container license; a previous
        // receipt without one.
        let server = FanlicChallengeInput { has_server: 1, ..i };
        assert_eq!(make(l, n, &env, &server, &mut out), FanlicStatus::BadArgument);
        let previous = FanlicChallengeInput { has_previous_receipt: 1, ..i };
        assert_eq!(make(l, n, &env, &previous, &mut out), FanlicStatus::BadArgument);
        // 0 nodes passes the license check but no challenge carries it.
        let zero = FanlicEnvironment { nodes: 0, ..env };
        assert_eq!(make(l, n, &zero, &i, &mut out), FanlicStatus::BadArgument);
        // A license that does not verify here (another project; a byte
        // flipped; another root): no challenge, *out stays null.
        let other = Env { project: "other".into(), ..c.env.clone() };
        assert_eq!(Challenge::make(&c.license, &roots, &other, &i).err(), Some(FanlicStatus::Invalid));
        let mut flipped = c.license.clone();
        let at = flipped.len() - 70;
        flipped[at] ^= 1;
        assert_eq!(Challenge::make(&flipped, &roots, &c.env, &i).err(), Some(FanlicStatus::Invalid));
        assert_eq!(Challenge::make(&c.license, &[root("root-b")], &c.env, &i).err(), Some(FanlicStatus::Invalid));
        assert_eq!(make(l, 0, &env, &i, &mut out), FanlicStatus::Invalid, "empty license");

        // Null handles everywhere.
        let mut r = FanlicEnterResult::default();
        let mut st = FanlicActivationStatus::default();
        let mut info = core::mem::zeroed::<FanlicChallengeInfo>();
        let mut len = 0usize;
        let mut buf = [0u8; 1024];
        let h: *mut FanlicActivation = ptr::null_mut();
        assert_eq!(fanlic_activation_enter(h, b"123456".as_ptr(), 6, 0, &mut r), FanlicStatus::NullPointer);
        assert_eq!(fanlic_activation_get_status(h, 0, &mut st), FanlicStatus::NullPointer);
        assert_eq!(fanlic_activation_restart(h), FanlicStatus::NullPointer);
        assert_eq!(fanlic_activation_save(h, buf.as_mut_ptr(), 64), FanlicStatus::NullPointer);
        assert_eq!(fanlic_activation_restore(h, buf.as_ptr(), 64), FanlicStatus::NullPointer);
        assert_eq!(fanlic_activation_set_challenge(h, ptr::null()), FanlicStatus::NullPointer);
        assert_eq!(fanlic_challenge_get_info(ptr::null(), &mut info), FanlicStatus::NullPointer);
        assert_eq!(
            fanlic_challenge_write_url(ptr::null(), ptr::null(), 0, buf.as_mut_ptr(), buf.len(), &mut len),
            FanlicStatus::NullPointer
        );
        fanlic_activation_free(ptr::null_mut());
        fanlic_challenge_free(ptr::null_mut());

        // A live handle with bad arguments.
        let mut m = Machine::new();
        let ch = challenge_of(&c, c.env.now);
        assert_eq!(fanlic_activation_set_challenge(m.0, ptr::null()), FanlicStatus::NullPointer);
        m.set(&ch);
        assert_eq!(fanlic_activation_enter(m.0, b"\xff\xfe".as_ptr(), 2, c.env.now, &mut r), FanlicStatus::NotUtf8);
        assert_eq!(fanlic_activation_enter(m.0, ptr::null(), 6, c.env.now, &mut r), FanlicStatus::NullPointer);
        assert_eq!(fanlic_activation_enter(m.0, b"1".as_ptr(), usize::MAX, c.env.now, &mut r), FanlicStatus::BadLength);
        assert_eq!(
            fanlic_activation_enter(m.0, b"123456".as_ptr(), 6, c.env.now, ptr::null_mut()),
            FanlicStatus::NullPointer
        );
        assert_eq!(fanlic_activation_get_status(m.0, 0, ptr::null_mut()), FanlicStatus::NullPointer);
        // None of that counted: the code still has its five wrong guesses.
        assert_eq!(m.save()[2], 0);
        // Empty input is input: not six digits, not counted.
        let (s, r) = m.enter("", c.env.now);
        assert_eq!((s, r.kind), (FanlicStatus::Invalid, FANLIC_ENTER_NOT_SIX_DIGITS));
        assert_eq!(fanlic_challenge_get_info(ch.0, ptr::null_mut()), FanlicStatus::NullPointer);
        // URL: too small a buffer tells the length; null len_out; bad UTF-8.
        assert_eq!(
            fanlic_challenge_write_url(ch.0, ptr::null(), 0, buf.as_mut_ptr(), 10, &mut len),
            FanlicStatus::BufferTooSmall
        );
        assert_eq!(len, c.url.len());
        assert_eq!(
            fanlic_challenge_write_url(ch.0, ptr::null(), 0, buf.as_mut_ptr(), buf.len(), ptr::null_mut()),
            FanlicStatus::NullPointer
        );
        assert_eq!(
            fanlic_challenge_write_url(ch.0, b"\xff".as_ptr(), 1, buf.as_mut_ptr(), buf.len(), &mut len),
            FanlicStatus::NotUtf8
        );
        assert_eq!(
            fanlic_challenge_write_url(ch.0, ptr::null(), 0, ptr::null_mut(), 10, &mut len),
            FanlicStatus::NullPointer
        );
        // Null buffer of capacity 0: asks the length.
        assert_eq!(
            fanlic_challenge_write_url(ch.0, ptr::null(), 0, ptr::null_mut(), 0, &mut len),
            FanlicStatus::BufferTooSmall
        );
        assert_eq!(len, c.url.len());
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "minutes of signature checks under Miri: the Miri pass runs one_pass_through_every_entry_point"
)]
fn a_license_without_a_base_url_needs_one_given() {
    let c = first();
    // The same license, without activation_base_url: re-sign it.
    let (root_k, issuing) = (TestKey::new("root-a"), TestKey::new("issuing-a"));
    let t = c.env.now;
    let cert = encode_certificate_body(&wire::CertificateBody {
        root_key_id: root_k.key_id().0,
        key_id: issuing.key_id().0,
        public_key: issuing.public(),
        not_before: t - 86_400,
        not_after: t + 86_400,
        purposes: 0x1,
    })
    .unwrap();
    let payload = encode_license_payload(&wire::LicensePayload {
        license_id: [9; 16],
        kind: wire::Kind::LocalContainer,
        app_name: "FineReport",
        company: "Example Test Co.",
        project: "webroot",
        contract_signed: wire::Date { year: 2026, month: 1, day: 1 },
        issued_at: t - 3600,
        not_before: t - 3600,
        expiry: wire::Expiry::Never,
        version: wire::Version { major: 11, minor: 0 },
        max_nodes: 1,
        activation_key: Some([0x42; 32]),
        activation_base_url: None,
        image_public_key: None,
        supersedes: None,
        request_email_sha256: None,
    })
    .unwrap();
    let license = encode_license_file(&cert, &root_k.sign(&cert), &payload, &issuing.sign(&payload)).unwrap();
    let ch = Challenge::make(&license, &[root("root-a")], &c.env, &input([1; 16], [2; 16], b"")).unwrap();
    assert_eq!(ch.url(""), Err((FanlicStatus::BadArgument, 0)));
    let url = ch.url("https://configured.example/activate").unwrap();
    assert!(url.starts_with("https://configured.example/activate/A"), "{url}");
    // Its time is the environment's.
    assert_eq!(ch.info().issued_at, Timestamp(t).0);
}

/// A product in C: the activation vector `local-container` made, shown and
/// entered through the header cbindgen writes for this crate, compiled with
/// `cc -Wall -Wextra -Werror -pedantic` against the static library and run
/// under Valgrind memcheck (zero errors, no leak): the layouts C sees are
/// the ones Rust reads.
const PRODUCT_C: &str = r#"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "activation_test.h"

static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    uint8_t *buf = malloc(4096);
    if (!f || !buf) { exit(2); }
    *len = fread(buf, 1, 4096, f);
    fclose(f);
    return buf;
}

static void show(const char *what, FanlicStatus s, const FanlicEnterResult *r) {
    char text[256];
    size_t len = 0;
    printf("%s: status %d kind %u remaining %u", what, (int)s, r->kind, r->remaining);
    if (r->kind != FANLIC_ENTER_ACCEPTED &&
        fanlic_activation_message(r, FANLIC_LANG_EN, (uint8_t *)text, sizeof text, &len) == FANLIC_STATUS_OK) {
        printf(" (%s)", text);
    }
    printf("\n");
}

int main(int argc, char **argv) {
    size_t license_len = 0, root_len = 0, url_len = 0;
    uint8_t *license, *root;
    uint64_t now;
    FanlicEnvironment env;
    FanlicChallengeInput in;
    FanlicChallenge *challenge = NULL;
    FanlicChallengeInfo info;
    FanlicActivation *a, *b;
    FanlicEnterResult r;
    FanlicActivationStatus st;
    uint8_t saved[FANLIC_ACTIVATION_STATE_LEN];
    char url[FANLIC_MAX_ACTIVATION_URL_LEN + 1];
    if (argc != 5) { return 2; }
    license = slurp(argv[1], &license_len);
    root = slurp(argv[2], &root_len);
    now = strtoull(argv[4], NULL, 10);
    memset(&env, 0, sizeof env);
    env.app_name = (const uint8_t *)"FineReport"; env.app_name_len = 10;
    env.version = (const uint8_t *)"11.0.20"; env.version_len = 7;
    env.project = (const uint8_t *)"webroot"; env.project_len = 7;
    env.nodes = 1;
    env.method = FANLIC_METHOD_LOCAL_CONTAINER;
    env.now = now;
    memset(&in, 0, sizeof in);
    memset(in.nonce, 0x0b, sizeof in.nonce);
    memset(in.node_id, 0x0c, sizeof in.node_id);
    if (root_len != 32 ||
        fanlic_challenge_make(license, license_len, (const uint8_t (*)[32])root, 1, &env, &in, &challenge)
            != FANLIC_STATUS_OK) {
        return 3;
    }
    fanlic_challenge_get_info(challenge, &info);
    printf("token %u bytes, policy %u, issued at %llu\n", (unsigned)info.token_len, info.policy,
           (unsigned long long)info.issued_at);
    fanlic_challenge_write_url(challenge, NULL, 0, (uint8_t *)url, sizeof url, &url_len);
    printf("url %s\n", url);
    a = fanlic_activation_new();
    fanlic_activation_set_challenge(a, challenge);
    fanlic_challenge_free(challenge);
    show("wrong", fanlic_activation_enter(a, (const uint8_t *)"000000", 6, now + 1, &r), &r);
    fanlic_activation_save(a, saved, sizeof saved);
    b = fanlic_activation_new();
    printf("restore: %d\n", (int)fanlic_activation_restore(b, saved, sizeof saved));
    show("right", fanlic_activation_enter(b, (const uint8_t *)argv[3], strlen(argv[3]), now + 2, &r), &r);
    fanlic_activation_get_status(b, now + 3, &st);
    printf("status %u at %llu\n", st.kind, (unsigned long long)st.at);
    fanlic_activation_free(a);
    fanlic_activation_free(b);
    free(license);
    free(root);
    return 0;
}
"#;

#[test]
#[cfg_attr(miri, ignore = "cc and Valgrind are processes: nothing for Miri to check")]
fn a_product_in_c_activates_with_the_vectors_code() {
    use std::process::Command;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("activation-c");
    std::fs::create_dir_all(&dir).unwrap();
    let mut config = cbindgen::Config { language: cbindgen::Language::C, usize_is_size_t: true, ..Default::default() };
    config.enumeration.rename_variants = cbindgen::RenameRule::QualifiedScreamingSnakeCase;
    cbindgen::Builder::new()
        .with_config(config)
        // The source itself, not `cargo metadata`: a test never runs cargo.
        .with_src(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join("lib.rs"))
        .generate()
        .unwrap()
        .write_to_file(dir.join("activation_test.h"));
    std::fs::write(dir.join("product.c"), PRODUCT_C).unwrap();
    let c = first();
    std::fs::write(dir.join("license.bin"), &c.license).unwrap();
    std::fs::write(dir.join("root.raw"), root("root-a")).unwrap();
    let lib = std::env::current_exe().unwrap().parent().unwrap().join("libfanlic_verifier_ffi.a");
    let exe = dir.join("product");
    let out = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-g", "-I"])
        .arg(&dir)
        .arg(dir.join("product.c"))
        .arg(&lib)
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&exe)
        .output()
        .expect("cc (Debian: gcc)");
    assert!(out.status.success(), "cc:\n{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new("valgrind")
        .args(["-q", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite"])
        .arg(&exe)
        .args([dir.join("license.bin"), dir.join("root.raw")])
        .args([&c.code, &c.env.now.to_string()])
        .output()
        .expect("valgrind (Debian: valgrind)");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let t = c.env.now;
    assert_eq!(
        stdout,
        format!(
            "token {} bytes, policy 1, issued at {t}\nurl {}\n\
             wrong: status 1 kind 5 remaining 5 (wrong code; 5 more wrong codes lock input for 15 minutes)\n\
             restore: 0\nright: status 0 kind 0 remaining 0\nstatus 3 at {}\n",
            c.token.len(),
            c.url,
            t + 2
        )
    );
}

//! Activation receipts through the C ABI (SPEC.md §6.4): every vector of
//! `fixtures/vectors/receipts/` through `fanlic_receipt_verify` (raw and
//! armored) and, for the acceptors that made the challenge (a product, a
//! server), through a challenge made by `fanlic_challenge_make` from the
//! vector's inputs and `fanlic_activation_accept_receipt`: the same causes
//! in the same order, the same accepted fields. Then bad input, mutated
//! receipts and saved states, and the no-allocation assertions.
#![allow(
    clippy::multiple_unsafe_ops_per_block,
    reason = "test code: the calls of one bad-input block share one safety argument"
)]

use core::ptr;

use fanlic_testkit::{ReceiptVector, hex, parse_rfc3339};
use fanlic_verifier::receipt::sha256;
use fanlic_verifier_ffi::{
    FANLIC_METHOD_LOCAL_CONTAINER, FANLIC_METHOD_PRIVATE_CLOUD, FanlicStatus, activation::*, receipt::*,
};
use proptest::prelude::*;

use crate::activation::{Challenge, Env, Machine, input, receipt_policy_license, root, unhex_n};

fn expect_of(v: &ReceiptVector) -> FanlicReceiptExpect {
    let mut e = FanlicReceiptExpect {
        has_challenge_sha256: 0,
        challenge_sha256: [0; 32],
        has_instance_public_key: 0,
        instance_public_key: [0; 32],
        previous: FANLIC_RECEIPT_PREVIOUS_UNCHECKED,
        previous_receipt: [0; 32],
        now: parse_rfc3339(&v.now).unwrap().0,
    };
    if let Some(sha) = &v.challenge_sha256 {
        e.has_challenge_sha256 = 1;
        e.challenge_sha256 = unhex_n(sha);
    }
    if let Some(k) = &v.instance_public_key {
        e.has_instance_public_key = 1;
        e.instance_public_key = unhex_n(k);
    }
    if v.previous_receipt_checked {
        match &v.previous_receipt {
            Some(p) => {
                e.previous = FANLIC_RECEIPT_PREVIOUS_HELD;
                e.previous_receipt = unhex_n(p);
            }
            None => e.previous = FANLIC_RECEIPT_PREVIOUS_NONE_HELD,
        }
    }
    e
}

pub(crate) fn verify(
    receipt: &[u8],
    license: &[u8],
    roots: &[[u8; 32]],
    expect: &FanlicReceiptExpect,
) -> (FanlicStatus, FanlicReceiptResult) {
    let mut r = FanlicReceiptResult::default();
    // SAFETY: every pointer is to live data of the length given.
    let s = unsafe {
        fanlic_receipt_verify(
            receipt.as_ptr(),
            receipt.len(),
            license.as_ptr(),
            license.len(),
            roots.as_ptr(),
            roots.len(),
            expect,
            &mut r,
        )
    };
    (s, r)
}

pub(crate) fn accept(
    m: &mut Machine,
    receipt: &[u8],
    license: &[u8],
    roots: &[[u8; 32]],
    expect: &FanlicReceiptExpect,
) -> (FanlicStatus, FanlicReceiptResult) {
    let mut r = FanlicReceiptResult::default();
    // SAFETY: a live handle; every pointer is to live data of the length given.
    let s = unsafe {
        fanlic_activation_accept_receipt(
            m.0,
            receipt.as_ptr(),
            receipt.len(),
            license.as_ptr(),
            license.len(),
            roots.as_ptr(),
            roots.len(),
            expect,
            &mut r,
        )
    };
    (s, r)
}

fn names(r: &FanlicReceiptResult) -> Vec<String> {
    r.causes[..r.cause_count as usize]
        .iter()
        .map(|&c| cause_name(c).unwrap_or_else(|s| panic!("cause {c} has no name: {s:?}")))
        .collect()
}

fn cause_name(cause: u32) -> Result<String, FanlicStatus> {
    let mut buf = [0xAAu8; 64];
    let mut len = 0;
    // SAFETY: 64 writable bytes, a writable size_t.
    let s = unsafe { fanlic_receipt_cause_name(cause, buf.as_mut_ptr(), buf.len(), &mut len) };
    if s != FanlicStatus::Ok {
        return Err(s);
    }
    assert_eq!(buf[len], 0, "a NUL follows");
    Ok(String::from_utf8(buf[..len].to_vec()).unwrap())
}

/// Compares a C result with what the vector expects.
fn assert_outcome(name: &str, how: &str, v: &ReceiptVector, s: FanlicStatus, r: &FanlicReceiptResult) {
    let e = &v.expected;
    assert_eq!(names(r), e.causes, "{name} ({how}): causes");
    assert_eq!(s, if e.accepted { FanlicStatus::Ok } else { FanlicStatus::Invalid }, "{name} ({how})");
    assert_eq!(r.accepted, u8::from(e.accepted), "{name} ({how})");
    if e.accepted {
        assert_eq!(Some(hex(&r.receipt_id)), e.receipt_id, "{name} ({how}): receipt id");
        assert_eq!(Some(r.vendor_time), e.vendor_time.as_deref().map(|t| parse_rfc3339(t).unwrap().0), "{name}");
        let lease = (r.has_lease_until != 0).then_some(r.lease_until);
        assert_eq!(lease, e.lease_until.as_deref().map(|t| parse_rfc3339(t).unwrap().0), "{name} ({how}): lease");
        let list = (r.has_delivered_list != 0).then_some(r.delivered_list_sequence);
        assert_eq!(list, e.delivered_list_sequence, "{name} ({how}): delivered list");
    } else {
        assert_eq!((r.receipt_id, r.vendor_time), ([0; 32], 0), "{name} ({how}): no accepted fields");
    }
    // The lease a refusal for lease_expired names.
    if e.causes.iter().any(|c| c == "lease_expired") {
        assert_eq!(r.has_lease_until, 1, "{name}");
        assert!(r.lease_until <= parse_rfc3339(&v.now).unwrap().0, "{name}: the lease ended");
    }
}

/// The environment the vector's challenge was made in: the license's
/// names, the challenge's version, nodes and time.
fn env_of(v: &ReceiptVector) -> Env {
    let c = v.challenge.as_ref().unwrap();
    let (app, project, method) = match v.license.as_str() {
        "valid-receipt-policy-local-container.lic" => ("FineReport", "webroot", FANLIC_METHOD_LOCAL_CONTAINER),
        "valid-receipt-policy-private-cloud.lic" => ("FineBI", "bi-cluster", FANLIC_METHOD_PRIVATE_CLOUD),
        other => panic!("unknown license {other}"),
    };
    let fingerprint = fanlic_verifier::activation::project_fingerprint(app, project, b"").unwrap();
    assert_eq!(hex(&fingerprint), c.project_fingerprint, "the fingerprint of an empty deployment id");
    Env {
        app: app.into(),
        version: c.app_version.clone(),
        project: project.into(),
        nodes: c.nodes,
        method,
        now: parse_rfc3339(&c.issued_at).unwrap().0,
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "minutes of signature checks under Miri: the Miri pass runs one_pass_through_every_entry_point"
)]
fn every_receipt_vector_through_the_c_abi() {
    let vectors = ReceiptVector::load_all().unwrap();
    assert!(vectors.len() >= 30, "only {} vectors", vectors.len());
    let (mut accepted_into_a_handle, mut refused_by_a_handle) = (0, 0);
    for (name, v) in &vectors {
        let roots: Vec<[u8; 32]> = v.roots.iter().map(|n| root(n)).collect();
        let license = v.read_license().unwrap();
        let file = v.read_file().unwrap();
        let expect = expect_of(v);
        let (s, r) = verify(&file, &license, &roots, &expect);
        assert_outcome(name, "raw", v, s, &r);
        if let Some(armored) = v.read_armored().unwrap() {
            let (s2, r2) = verify(&armored, &license, &roots, &expect);
            assert_eq!((s2, r2), (s, r), "{name}: armored and raw agree");
        }
        let Some(c) = &v.challenge else {
            assert_eq!(v.acceptor, "application", "{name}");
            continue;
        };
        // The acceptor's challenge, made through the C ABI from the same
        // inputs: the same token.
        let env = env_of(v);
        let mut i = input(unhex_n(&c.nonce), unhex_n(&c.node_id), b"");
        if let (Some(f), Some(g)) = (&c.instance_fingerprint, c.generation) {
            i.has_server = 1;
            i.instance_fingerprint = unhex_n(f);
            i.generation = g;
        }
        if let Some(p) = &c.previous_receipt {
            i.has_previous_receipt = 1;
            i.previous_receipt = unhex_n(p);
        }
        let ch = Challenge::make(&license, &roots, &env, &i).unwrap();
        assert_eq!(Some(hex(&ch.token())), v.challenge_token, "{name}: token");
        let info = ch.info();
        assert_eq!(Some(hex(&info.token_sha256)), v.challenge_sha256, "{name}");
        assert_eq!(info.policy, FANLIC_ACTIVATION_POLICY_RECEIPT, "{name}");
        assert_eq!(hex(&sha256(&ch.token())), hex(&info.token_sha256));

        // Into a state machine: a code is refused, the receipt decides.
        let mut m = Machine::new();
        m.set(&ch);
        assert_eq!(m.enter("123456", expect.now).1.kind, FANLIC_ENTER_RECEIPT_REQUIRED, "{name}");
        let from_handle = FanlicReceiptExpect { has_challenge_sha256: 0, challenge_sha256: [0; 32], ..expect };
        let (s, r) = accept(&mut m, &file, &license, &roots, &from_handle);
        assert_outcome(name, "accept_receipt", v, s, &r);
        let status = m.status(expect.now);
        if v.expected.accepted {
            assert_eq!((status.kind, status.at), (FANLIC_ACTIVATION_ACTIVATED, expect.now), "{name}");
            // Once: the challenge is used up, also across a save and a restore.
            let (s, _) = accept(&mut m, &file, &license, &roots, &from_handle);
            assert_eq!(s, FanlicStatus::BadState, "{name}: a second time");
            let mut restored = Machine::new();
            assert_eq!(restored.restore(&m.save()), FanlicStatus::Ok);
            let (s, _) = accept(&mut restored, &file, &license, &roots, &from_handle);
            assert_eq!(s, FanlicStatus::BadState, "{name}: a second time, restored");
            assert_eq!(restored.status(expect.now).kind, FANLIC_ACTIVATION_ACTIVATED);
            accepted_into_a_handle += 1;
        } else {
            assert_eq!(status.kind, FANLIC_ACTIVATION_AWAITING_CODE, "{name}: still waiting");
            refused_by_a_handle += 1;
        }
    }
    assert!(accepted_into_a_handle >= 8 && refused_by_a_handle >= 20, "{accepted_into_a_handle} {refused_by_a_handle}");
}

fn local_vector() -> ReceiptVector {
    ReceiptVector::load_all().unwrap().into_iter().find(|(n, _)| n == "valid-local-container").unwrap().1
}

/// A handle showing the challenge of `valid-local-container`.
fn showing(v: &ReceiptVector) -> (Machine, Challenge) {
    let (license, env) = receipt_policy_license();
    let c = v.challenge.as_ref().unwrap();
    let ch = Challenge::make(&license, &[root("root-a")], &env, &input(unhex_n(&c.nonce), unhex_n(&c.node_id), b""))
        .unwrap();
    let mut m = Machine::new();
    m.set(&ch);
    (m, ch)
}

fn product_expect(now: u64) -> FanlicReceiptExpect {
    FanlicReceiptExpect {
        has_challenge_sha256: 0,
        challenge_sha256: [0; 32],
        has_instance_public_key: 0,
        instance_public_key: [0; 32],
        previous: FANLIC_RECEIPT_PREVIOUS_UNCHECKED,
        previous_receipt: [0; 32],
        now,
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "minutes of signature checks under Miri: the Miri pass runs one_pass_through_every_entry_point"
)]
fn a_restored_state_never_accepts_a_receipt_a_second_time() {
    let v = local_vector();
    let (license, _) = receipt_policy_license();
    let file = v.read_file().unwrap();
    let roots = [root("root-a")];
    let now = parse_rfc3339(&v.now).unwrap().0;
    let (mut m, _ch) = showing(&v);
    let (s, r) = accept(&mut m, &file, &license, &roots, &product_expect(now));
    assert_eq!((s, r.accepted), (FanlicStatus::Ok, 1));
    let saved = m.save();
    // Restored into a fresh handle, and into the same one: refused both
    // times, nothing checked, the activation kept.
    let mut fresh = Machine::new();
    assert_eq!(fresh.restore(&saved), FanlicStatus::Ok);
    assert_eq!(m.restore(&saved), FanlicStatus::Ok);
    for h in [&mut fresh, &mut m] {
        let mut r = FanlicReceiptResult { cause_count: 99, ..FanlicReceiptResult::default() };
        // SAFETY: a live handle, live data.
        let s = unsafe {
            fanlic_activation_accept_receipt(
                h.0,
                file.as_ptr(),
                file.len(),
                license.as_ptr(),
                license.len(),
                roots.as_ptr(),
                1,
                &product_expect(now + 1),
                &mut r,
            )
        };
        assert_eq!((s, r.cause_count), (FanlicStatus::BadState, 99), "refused before anything is checked");
        assert_eq!(h.status(now + 1).kind, FANLIC_ACTIVATION_ACTIVATED);
        assert_eq!(h.save(), saved, "unchanged");
    }
    // The receipt itself still verifies: it is the handle that refuses it.
    let e = FanlicReceiptExpect {
        has_challenge_sha256: 1,
        challenge_sha256: unhex_n(v.challenge_sha256.as_ref().unwrap()),
        ..product_expect(now)
    };
    assert_eq!(verify(&file, &license, &roots, &e).0, FanlicStatus::Ok);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "minutes of signature checks under Miri: the Miri pass runs one_pass_through_every_entry_point"
)]
fn a_handle_accepts_only_its_challenge_while_it_is_valid() {
    let v = local_vector();
    let (license, _) = receipt_policy_license();
    let file = v.read_file().unwrap();
    let roots = [root("root-a")];
    let issued = parse_rfc3339(&v.challenge.as_ref().unwrap().issued_at).unwrap().0;
    // No challenge shown: refused, nothing checked.
    let mut empty = Machine::new();
    assert_eq!(accept(&mut empty, &file, &license, &roots, &product_expect(issued)).0, FanlicStatus::BadState);
    // Its 5 minutes are over: refused.
    let (mut m, _ch) = showing(&v);
    assert_eq!(accept(&mut m, &file, &license, &roots, &product_expect(issued + 300)).0, FanlicStatus::BadState);
    // Another challenge shown (another nonce): the receipt answers the
    // other one.
    let (lic, env) = receipt_policy_license();
    let other = Challenge::make(&lic, &roots, &env, &input([9; 16], [0x0c; 16], b"")).unwrap();
    m.set(&other);
    let (s, r) = accept(&mut m, &file, &license, &roots, &product_expect(issued + 10));
    assert_eq!((s, names(&r)), (FanlicStatus::Invalid, vec!["receipt_challenge_mismatch".to_owned()]));
    assert_eq!(m.status(issued + 10).kind, FANLIC_ACTIVATION_AWAITING_CODE);
    // The caller may not name the challenge: the handle's is used.
    let named = FanlicReceiptExpect { has_challenge_sha256: 1, ..product_expect(issued + 10) };
    assert_eq!(accept(&mut m, &file, &license, &roots, &named).0, FanlicStatus::BadArgument);
}

#[test]
fn every_cause_has_its_spec_code() {
    let codes = [
        (FANLIC_RECEIPT_CAUSE_MALFORMED, "receipt_malformed"),
        (FANLIC_RECEIPT_CAUSE_UNKNOWN_ROOT_KEY, "receipt_unknown_root_key"),
        (FANLIC_RECEIPT_CAUSE_BAD_SIGNATURE, "receipt_bad_signature"),
        (FANLIC_RECEIPT_CAUSE_KEY_NOT_CERTIFIED, "receipt_key_not_certified"),
        (FANLIC_RECEIPT_CAUSE_KEY_OUTSIDE_WINDOW, "receipt_key_outside_window"),
        (FANLIC_RECEIPT_CAUSE_LICENSE_MISMATCH, "receipt_license_mismatch"),
        (FANLIC_RECEIPT_CAUSE_CHALLENGE_MISMATCH, "receipt_challenge_mismatch"),
        (FANLIC_RECEIPT_CAUSE_INSTANCE_MISMATCH, "receipt_instance_mismatch"),
        (FANLIC_RECEIPT_CAUSE_PREVIOUS_MISMATCH, "receipt_previous_mismatch"),
        (FANLIC_RECEIPT_CAUSE_LEASE_EXPIRED, "lease_expired"),
        (FANLIC_RECEIPT_CAUSE_REVOKED, "revoked"),
    ];
    assert_eq!(codes.len(), FANLIC_MAX_RECEIPT_CAUSES);
    for (i, (n, code)) in codes.iter().enumerate() {
        assert_eq!(*n as usize, i + 1, "numbered in the spec's order");
        assert_eq!(cause_name(*n).unwrap(), *code);
    }
    for unknown in [0, 12, u32::MAX] {
        assert_eq!(cause_name(unknown), Err(FanlicStatus::BadArgument));
    }
    // Too small a buffer: the length needed; a null length pointer.
    let mut small = [0u8; 4];
    let mut len = 0;
    // SAFETY: 4 writable bytes, a writable size_t; then a null one, refused.
    unsafe {
        let s = fanlic_receipt_cause_name(FANLIC_RECEIPT_CAUSE_REVOKED, small.as_mut_ptr(), 4, &mut len);
        assert_eq!((s, len), (FanlicStatus::BufferTooSmall, "revoked".len()));
        let s = fanlic_receipt_cause_name(FANLIC_RECEIPT_CAUSE_REVOKED, small.as_mut_ptr(), 4, ptr::null_mut());
        assert_eq!(s, FanlicStatus::NullPointer);
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "minutes of signature checks under Miri: the Miri pass runs one_pass_through_every_entry_point"
)]
fn bad_input_to_the_receipt_check_is_refused() {
    let v = local_vector();
    let (license, _) = receipt_policy_license();
    let file = v.read_file().unwrap();
    let roots = [root("root-a")];
    let e = expect_of(&v);
    let mut r = FanlicReceiptResult::default();
    // SAFETY: in every call below the pointers are null, live, or with
    // lengths refused before any read.
    unsafe {
        let call = |rc: *const u8, rl: usize, lc: *const u8, ll: usize, k: *const [u8; 32], kn: usize, e, out| {
            fanlic_receipt_verify(rc, rl, lc, ll, k, kn, e, out)
        };
        let (f, fl, l, ll, k) = (file.as_ptr(), file.len(), license.as_ptr(), license.len(), roots.as_ptr());
        assert_eq!(call(f, fl, l, ll, k, 1, &e, &mut r), FanlicStatus::Ok);
        assert_eq!(call(ptr::null(), fl, l, ll, k, 1, &e, &mut r), FanlicStatus::NullPointer);
        assert_eq!(call(f, usize::MAX, l, ll, k, 1, &e, &mut r), FanlicStatus::BadLength);
        assert_eq!(call(f, fl, ptr::null(), ll, k, 1, &e, &mut r), FanlicStatus::NullPointer);
        assert_eq!(call(f, fl, l, isize::MAX as usize + 1, k, 1, &e, &mut r), FanlicStatus::BadLength);
        assert_eq!(call(f, fl, l, ll, ptr::null(), 1, &e, &mut r), FanlicStatus::NullPointer);
        assert_eq!(call(f, fl, l, ll, k, 0, &e, &mut r), FanlicStatus::BadArgument);
        assert_eq!(call(f, fl, l, ll, k, 1, ptr::null(), &mut r), FanlicStatus::NullPointer);
        assert_eq!(call(f, fl, l, ll, k, 1, &e, ptr::null_mut()), FanlicStatus::NullPointer);
        let bad_previous = FanlicReceiptExpect { previous: 3, ..e };
        assert_eq!(call(f, fl, l, ll, k, 1, &bad_previous, &mut r), FanlicStatus::BadArgument);
        // A license whose signatures do not hold under the roots.
        let root_b = [root("root-b")];
        assert_eq!(call(f, fl, l, ll, root_b.as_ptr(), 1, &e, &mut r), FanlicStatus::BadArgument);
        assert_eq!(call(f, fl, l, 10, k, 1, &e, &mut r), FanlicStatus::BadArgument);
        // An empty receipt is a malformed one.
        assert_eq!(call(ptr::null(), 0, l, ll, k, 1, &e, &mut r), FanlicStatus::Invalid);
        assert_eq!(names(&r), ["receipt_malformed"]);
        // A receipt larger than any: malformed, and nothing overflows.
        let mut huge = file.clone();
        huge.resize(200_000, 0);
        assert_eq!(call(huge.as_ptr(), huge.len(), l, ll, k, 1, &e, &mut r), FanlicStatus::Invalid);
        assert_eq!(names(&r), ["receipt_malformed"]);
        // A null handle.
        let mut out = FanlicReceiptResult::default();
        let pe = product_expect(e.now);
        assert_eq!(
            fanlic_activation_accept_receipt(ptr::null_mut(), f, fl, l, ll, k, 1, &pe, &mut out),
            FanlicStatus::NullPointer
        );
    }
}

/// The checking paths of activation and receipts, for the counting
/// allocator of `no_alloc.rs`: `allocations(f)` runs `f` and returns how
/// many allocations it made. Every path is run once before counting (a
/// first call may initialise something lazily, outside the rule).
pub(crate) fn assert_checking_paths_allocate_nothing(allocations: impl Fn(&mut dyn FnMut()) -> usize) {
    let v = local_vector();
    let (license, env) = receipt_policy_license();
    let file = v.read_file().unwrap();
    let armored = v.read_armored().unwrap().unwrap();
    let roots = [root("root-a")];
    let e = expect_of(&v);
    let (mut m, ch) = showing(&v);
    let mut code_machine = Machine::new();
    code_machine.set(&ch);
    let mut run = || {
        assert_eq!(m.enter("123456", env.now + 1).1.kind, FANLIC_ENTER_RECEIPT_REQUIRED);
        assert_eq!(m.status(env.now + 1).kind, FANLIC_ACTIVATION_AWAITING_CODE);
        assert_eq!(verify(&file, &license, &roots, &e).0, FanlicStatus::Ok);
        assert_eq!(verify(&armored, &license, &roots, &e).0, FanlicStatus::Ok);
        assert_eq!(verify(b"junk", &license, &roots, &e).0, FanlicStatus::Invalid);
    };
    run();
    assert_eq!(allocations(&mut run), 0, "enter, status and receipt checks allocate nothing");
    let mut accept_once = || {
        let (s, _) = accept(&mut m, &file, &license, &roots, &product_expect(e.now));
        assert_eq!(s, FanlicStatus::Ok);
    };
    assert_eq!(allocations(&mut accept_once), 0, "accepting a receipt allocates nothing");
}

/// Code entry, status, receipt checks and acceptance, under the binary's
/// counting allocator (`no_alloc.rs`).
#[test]
#[cfg_attr(miri, ignore = "minutes of signature checks under Miri")]
fn checking_paths_allocate_nothing() {
    assert_checking_paths_allocate_nothing(|f| crate::no_alloc::allocations(f));
}

/// One pass through every entry point of activation and receipts, with
/// the fewest signature checks: the test Miri runs (`cargo +nightly miri
/// test -p fanlic-verifier-ffi --test it one_pass`, with
/// `MIRIFLAGS=-Zmiri-disable-isolation` to read the fixtures), so that each
/// `unsafe` block of these modules runs under it at least once.
#[test]
fn one_pass_through_every_entry_point() {
    let v = local_vector();
    let (license, env) = receipt_policy_license();
    let file = v.read_file().unwrap();
    let roots = [root("root-a")];
    let now = parse_rfc3339(&v.now).unwrap().0;
    let (mut m, ch) = showing(&v);
    assert_eq!(Some(hex(&ch.token())), v.challenge_token);
    assert!(ch.url("").unwrap().starts_with("https://"));
    let (s, r) = m.enter("123456", env.now + 1);
    assert_eq!((s, r.kind), (FanlicStatus::Invalid, FANLIC_ENTER_RECEIPT_REQUIRED));
    assert!(crate::activation::message(&r, fanlic_verifier_ffi::FANLIC_LANG_EN).unwrap().contains("receipt"));
    let saved = m.save();
    let mut copy = Machine::new();
    assert_eq!(copy.restore(&saved), FanlicStatus::Ok);
    assert_eq!(copy.restore(&saved[..10]), FanlicStatus::BadLength);
    let (s, r) = verify(&file, &license, &roots, &expect_of(&v));
    assert_eq!((s, r.accepted), (FanlicStatus::Ok, 1));
    let (s, r) = accept(&mut m, &file, &license, &roots, &product_expect(now));
    assert_eq!((s, hex(&r.receipt_id)), (FanlicStatus::Ok, v.expected.receipt_id.clone().unwrap()));
    assert_eq!(m.status(now).kind, FANLIC_ACTIVATION_ACTIVATED);
    // SAFETY: a live handle.
    assert_eq!(unsafe { fanlic_activation_restart(m.0) }, FanlicStatus::Ok);
    assert_eq!(cause_name(FANLIC_RECEIPT_CAUSE_REVOKED).unwrap(), "revoked");
    // Refused before any signature is checked: null pointers everywhere.
    let mut out = FanlicReceiptResult::default();
    // SAFETY: null pointers, refused before any read.
    unsafe {
        let s = fanlic_receipt_verify(ptr::null(), 1, ptr::null(), 0, roots.as_ptr(), 1, ptr::null(), &mut out);
        assert_eq!(s, FanlicStatus::NullPointer);
        let s = fanlic_activation_accept_receipt(
            ptr::null_mut(),
            ptr::null(),
            0,
            ptr::null(),
            0,
            ptr::null(),
            0,
            ptr::null(),
            &mut out,
        );
        assert_eq!(s, FanlicStatus::NullPointer);
        fanlic_challenge_free(ptr::null_mut());
        fanlic_activation_free(ptr::null_mut());
    }
}

fn mutate(base: &[u8], edits: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    let mut out = base.to_vec();
    for &(at, x) in edits {
        if !out.is_empty() {
            let i = at % out.len();
            out[i] ^= x;
        }
    }
    if let Some(c) = cut {
        out.truncate(c % (base.len() + 1));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Mutated receipts (raw and armored) through verify and accept: an
    /// answer, never a panic, and accepted only when the bytes are the
    /// vector's own (a flipped bit in a signed part is always caught).
    #[test]
    #[cfg_attr(miri, ignore = "hundreds of signature checks: too slow for Miri")]
    fn mutated_receipts_are_answered_never_panic(
        edits in proptest::collection::vec((any::<usize>(), 1u8..=255), 0..4),
        cut in proptest::option::of(any::<usize>()),
        armored in any::<bool>(),
    ) {
        let v = local_vector();
        let (license, _) = receipt_policy_license();
        let base = if armored { v.read_armored().unwrap().unwrap() } else { v.read_file().unwrap() };
        let receipt = mutate(&base, &edits, cut);
        let roots = [root("root-a")];
        let (s, r) = verify(&receipt, &license, &roots, &expect_of(&v));
        prop_assert!(s == FanlicStatus::Ok || s == FanlicStatus::Invalid, "{s:?}");
        prop_assert_eq!(r.accepted == 1, s == FanlicStatus::Ok);
        prop_assert!(r.cause_count as usize <= FANLIC_MAX_RECEIPT_CAUSES);
        if s == FanlicStatus::Ok && !armored {
            // Raw bytes: only the vector's own are accepted.
            prop_assert_eq!(&receipt, &base);
        }
        let (mut m, _ch) = showing(&v);
        let (s2, r2) = accept(&mut m, &receipt, &license, &roots, &product_expect(expect_of(&v).now));
        prop_assert_eq!((s2, r2), (s, r));
    }

    /// Mutated saved states: restored exactly (what is saved again is the
    /// same bytes) or refused with nothing changed.
    #[test]
    #[cfg_attr(miri, ignore = "hundreds of signature checks: too slow for Miri")]
    fn mutated_saved_states_restore_exactly_or_not_at_all(
        edits in proptest::collection::vec((0usize..64, 1u8..=255), 1..4),
        typed in proptest::collection::vec(any::<u8>(), 0..12),
    ) {
        let v = local_vector();
        let (_, env) = receipt_policy_license();
        let (m, _ch) = showing(&v);
        let saved = mutate(&m.save(), &edits, None);
        let mut target = Machine::new();
        let before = target.save();
        match target.restore(&saved) {
            FanlicStatus::Ok => prop_assert_eq!(target.save().to_vec(), saved),
            FanlicStatus::BadState => prop_assert_eq!(target.save(), before),
            other => prop_assert!(false, "{other:?}"),
        }
        // Whatever was restored, any typed bytes get an answer.
        let mut r = FanlicEnterResult::default();
        // SAFETY: a live handle, typed's bytes, a writable struct.
        let s = unsafe { fanlic_activation_enter(target.0, typed.as_ptr(), typed.len(), env.now, &mut r) };
        prop_assert!(matches!(s, FanlicStatus::Ok | FanlicStatus::Invalid | FanlicStatus::NotUtf8), "{s:?}");
        let mut st = FanlicActivationStatus::default();
        // SAFETY: a live handle, a writable struct.
        prop_assert_eq!(unsafe { fanlic_activation_get_status(target.0, env.now, &mut st) }, FanlicStatus::Ok);
    }

    /// Mutated licenses make a challenge only when they still verify, and
    /// never panic.
    #[test]
    #[cfg_attr(miri, ignore = "hundreds of signature checks: too slow for Miri")]
    fn mutated_licenses_make_no_challenge(
        edits in proptest::collection::vec((any::<usize>(), 1u8..=255), 1..3),
    ) {
        let (license, env) = receipt_policy_license();
        let bad = mutate(&license, &edits, None);
        let made = Challenge::make(&bad, &[root("root-a")], &env, &input([1; 16], [2; 16], b""));
        match made {
            Ok(ch) => {
                // An armor change that decodes to the same bytes (e.g. a
                // comment line): the same license, the same token.
                let good = Challenge::make(&license, &[root("root-a")], &env, &input([1; 16], [2; 16], b"")).unwrap();
                prop_assert_eq!(ch.token(), good.token());
            }
            Err(s) => prop_assert!(matches!(s, FanlicStatus::Invalid), "{s:?}"),
        }
    }
}

//! fanlic's verify path makes no heap allocation: a counting global allocator
//! wraps the system one, and the count must not move during `verify`.
//! `cargo test -- --nocapture` also prints what the JWT and PASETO paths
//! allocate for the same claims, for BENCHMARKS.md.
use std::{
    alloc::{GlobalAlloc, Layout, System},
    cell::Cell,
    hint::black_box,
};

use fanlic_benches::{Fixture, environment};
use fanlic_formats::MAX_LICENSE_FILE_LEN;

struct Counting;

thread_local! {
    // Per thread, so tests running in parallel do not count each other.
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
}

fn note(size: usize) {
    // `try_with`: the allocator may run while a thread's locals are torn down.
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
    let _ = BYTES.try_with(|c| c.set(c.get() + size as u64));
}

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A fixed buffer for text, on the stack.
struct Stack {
    buf: [u8; 4096],
    len: usize,
}

impl core::fmt::Write for Stack {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        self.buf.get_mut(self.len..end).ok_or(core::fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// (allocations, bytes requested) made by `f` on this thread.
fn count<R>(f: impl FnOnce() -> R) -> (u64, u64, R) {
    let (a0, b0) = (ALLOCS.with(Cell::get), BYTES.with(Cell::get));
    let r = f();
    (ALLOCS.with(Cell::get) - a0, BYTES.with(Cell::get) - b0, r)
}

#[test]
fn fanlic_verify_allocates_nothing() {
    let f = Fixture::new();
    let env = environment();
    for (name, input) in [("armored", f.armored.as_bytes()), ("raw", f.raw.as_slice())] {
        let (allocs, bytes, ok) = count(|| {
            let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
            fanlic_verifier::verify(black_box(input), &mut buf, &f.roots, &env).is_ok()
        });
        assert!(ok, "{name}: verifies");
        println!("fanlic verify ({name}): {allocs} allocations, {bytes} bytes");
        assert_eq!((allocs, bytes), (0, 0), "{name}: fanlic's verify allocated");
    }
    // A rejected license (every cause collected) allocates nothing either.
    let mut bad = environment();
    bad.app_name = "FineBI";
    bad.project = "other";
    bad.nodes = 9;
    bad.version = "10.0";
    let (allocs, _, ok) = count(|| {
        let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
        fanlic_verifier::verify(black_box(f.armored.as_bytes()), &mut buf, &f.roots, &bad).is_err()
    });
    assert!(ok, "rejected");
    assert_eq!(allocs, 0, "a rejection allocated");
    // Its causes' texts, in every language, written into a stack buffer (as
    // a product without an allocator shows them) allocate nothing either.
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let rejection = fanlic_verifier::verify(f.armored.as_bytes(), &mut buf, &f.roots, &bad).unwrap_err();
    let (allocs, bytes, written) = count(|| {
        use core::fmt::Write as _;
        let mut out = Stack { buf: [0; 4096], len: 0 };
        for lang in fanlic_verifier::Lang::ALL {
            for c in rejection.causes() {
                write!(out, "{}\n{}\n{}\n", c.title(lang), c.prompt(lang), c.advice(lang)).unwrap();
            }
        }
        out.len
    });
    assert!(written > 0 && rejection.causes().count() >= 4, "the texts were written");
    assert_eq!((allocs, bytes), (0, 0), "the causes' texts allocated");
    // And a tampered file neither.
    let mut tampered = f.raw.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let (allocs, _, ok) = count(|| {
        let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
        fanlic_verifier::verify(black_box(&tampered), &mut buf, &f.roots, &env).is_err()
    });
    assert!(ok, "tampered is rejected");
    println!("fanlic verify (bad signature): {allocs} allocations");
    // With ed25519-dalek's `std` feature on, its `SignatureError` boxes its
    // source: one allocation when a signature fails, in ed25519-dalek, not
    // fanlic. jsonwebtoken turns that feature on (feature `compare`); products
    // build the verifier without it, and then a failure allocates nothing.
    let expected = if cfg!(feature = "compare") { 1 } else { 0 };
    assert_eq!(allocs, expected, "a bad signature allocated");
}

#[cfg(feature = "compare")]
#[test]
fn jwt_and_paseto_allocations_for_reference() {
    use fanlic_benches::{jwt, paseto};
    let f = Fixture::new();
    let env = environment();
    let j = jwt::Verifier::new(&f);
    let p = paseto::Verifier::new(&f);
    // The first call of each may set up lazies (jsonwebtoken's provider): warm up.
    assert!(j.verify_chain(&f.jwt_cert, &f.jwt_license, &env).is_some());
    assert!(p.verify_chain(&f.paseto_cert, &f.paseto_license, &env).is_some());
    type Row<'a> = (&'static str, Box<dyn Fn() -> bool + 'a>);
    let rows: [Row<'_>; 4] = [
        ("jwt single", Box::new(|| j.verify_single(&f.jwt_license, &env).is_some())),
        ("jwt chain", Box::new(|| j.verify_chain(&f.jwt_cert, &f.jwt_license, &env).is_some())),
        ("paseto single", Box::new(|| p.verify_single(&f.paseto_license, &env).is_some())),
        ("paseto chain", Box::new(|| p.verify_chain(&f.paseto_cert, &f.paseto_license, &env).is_some())),
    ];
    for (name, run) in rows {
        let (allocs, bytes, ok) = count(&*run);
        assert!(ok, "{name} verifies");
        println!("{name}: {allocs} allocations, {bytes} bytes");
    }
}

/// The activation code check (SPEC.md §6.1, §6.2) allocates nothing either:
/// making a challenge and its URL token, the product's state machine, and
/// the service's opening of the token.
#[test]
fn activation_code_check_allocates_nothing() {
    use fanlic_formats::{LicenseId, Timestamp};
    use fanlic_verifier::activation::{
        Activation, ActivationKey, ChallengeInput, activation_code, make_challenge, open_challenge, project_fingerprint,
    };
    let key = ActivationKey::from_bytes([0x42; 32]);
    let now = Timestamp(1_790_000_000);
    let (allocs, bytes, ok) = count(|| {
        let input = ChallengeInput {
            nonce: [1; 16],
            node_id: [2; 16],
            project_fingerprint: project_fingerprint("FineReport", "webroot", b"dep").unwrap(),
            nodes: 1,
            app_version: "11.0.20",
            now,
            server: None,
        };
        let prepared = make_challenge(LicenseId([7; 16]), &key, black_box(&input)).unwrap();
        let mut a = Activation::new();
        a.set_challenge(&prepared);
        // A wrong code, then the right one, typed as digits on a stack buffer.
        let right = prepared.code().value();
        let mut typed = [0u8; 6];
        let mut v = (right + 1) % 1_000_000;
        for d in typed.iter_mut().rev() {
            *d = b'0' + (v % 10) as u8;
            v /= 10;
        }
        let wrong_ok = a.enter(std::str::from_utf8(&typed).unwrap(), now).is_err();
        let mut v = right;
        for d in typed.iter_mut().rev() {
            *d = b'0' + (v % 10) as u8;
            v /= 10;
        }
        let right_ok = a.enter(std::str::from_utf8(&typed).unwrap(), now).is_ok();
        let (_, code) = open_challenge(prepared.token(), &key, now).unwrap();
        let body = &prepared.token()[1..prepared.token().len() - 32];
        wrong_ok && right_ok && code == prepared.code() && activation_code(&key, body) == code
    });
    assert!(ok, "the code check itself works");
    assert_eq!((allocs, bytes), (0, 0), "the activation code check allocated");
}

/// Checking an authorization server's answer (SPEC.md §7.2) and the product's
/// client (§7.5) allocate nothing either: the test vector
/// `fixtures/vectors/private-cloud/answer-heartbeat.bin`, accepted, then
/// replayed (refused with every cause collected), and a forged one.
#[test]
fn private_cloud_answer_check_allocates_nothing() {
    use fanlic_formats::{LicenseKind, Timestamp, private_cloud::AnswerKind};
    use fanlic_verifier::{
        Environment, RootKey,
        private_cloud::{Client, Request, verify_server_answer},
    };
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures");
    let file = std::fs::read(format!("{dir}/vectors/private-cloud/answer-heartbeat.bin")).unwrap();
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{dir}/vectors/private-cloud/answer-heartbeat.json")).unwrap(),
    )
    .unwrap();
    let unhex16 = |s: &str| -> [u8; 16] {
        let v: Vec<u8> = (0..32).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect();
        v.try_into().unwrap()
    };
    let node_id = unhex16(json["answer"]["node_id"].as_str().unwrap());
    let nonce = unhex16(json["answer"]["nonce"].as_str().unwrap());
    let root: [u8; 32] = std::fs::read(format!("{dir}/keys/root-a.pub.raw")).unwrap().try_into().unwrap();
    let roots = [RootKey::from_bytes(&root).unwrap()];
    let env = Environment {
        app_name: "FineBI",
        version: "6.1.3",
        project: "bi-cluster",
        nodes: 1,
        method: LicenseKind::PrivateCloud,
        now: Timestamp(1_780_272_000), // 2026-06-01T00:00:00Z
        last_seen: None,
    };
    let mut forged = file.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let (allocs, bytes, ok) = count(|| {
        let request = Request { kind: AnswerKind::Heartbeat, node_id, nonce };
        let direct = verify_server_answer(black_box(&file), &roots, &env, &request, None).is_ok();
        let mut client = Client::new(node_id);
        client.request(AnswerKind::Heartbeat, nonce, env.now);
        let accepted = client.on_answer(black_box(&file), &roots, &env).is_ok();
        // Replayed to a new request: refused, every cause collected.
        client.request(AnswerKind::Registered, [0; 16], env.now);
        let replay = client.on_answer(black_box(&file), &roots, &env).is_err();
        let forged = verify_server_answer(black_box(&forged), &roots, &env, &request, None).is_err();
        let _ = client.next(env.now);
        direct && accepted && replay && forged
    });
    assert!(ok, "the answer check itself works");
    println!("fanlic private-cloud answer check: {allocs} allocations, {bytes} bytes");
    // See `fanlic_verify_allocates_nothing`: with the `compare` feature a failed
    // signature allocates once inside ed25519-dalek.
    let expected = if cfg!(feature = "compare") { 1 } else { 0 };
    assert_eq!(allocs, expected, "the private-cloud answer check allocated");
}

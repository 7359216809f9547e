//! The C ABI's checking paths allocate nothing (beyond what ed25519-dalek
//! does on a failed signature when a build turns its `std` feature on:
//! [`dalek_failure_allocations`]): a counting global allocator
//! wraps the system one for this whole test binary, counting per thread (so
//! tests running in parallel do not count each other), and
//! [`allocations`] tells how many allocations a closure made. Other modules of
//! this binary use it for their own entry points.

use core::{
    alloc::{GlobalAlloc, Layout},
    cell::Cell,
    hint::black_box,
    ptr,
};
use std::alloc::System;

use fanlic_verifier_ffi::license::{FanlicLicenseResult, fanlic_license_verify};
use fanlic_verifier_ffi::revocation::{FanlicRevocationsResult, fanlic_revocations_verify};
use fanlic_verifier_ffi::{FanlicEnvironment, FanlicStatus};

use crate::license::{Env, fixture, langs, root};

/// Both the probe for the length and the real call; the real one alone
/// under Miri, where each signature check takes seconds.
fn caps() -> &'static [usize] {
    if cfg!(miri) { &[8192] } else { &[0, 8192] }
}

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: the allocator may run while a thread's locals are torn down.
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every call is forwarded unchanged to the system allocator; counting
// touches only a thread-local counter.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// How many heap allocations (and reallocations) `f` made on this thread.
pub(crate) fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCS.with(Cell::get);
    f();
    ALLOCS.with(Cell::get) - before
}

#[test]
fn the_counter_counts() {
    assert_eq!(allocations(|| drop(black_box(vec![1u8; 10]))), 1);
    assert_eq!(allocations(|| _ = black_box([1u8; 10])), 0);
}

/// What ed25519-dalek itself allocates when a signature does not hold,
/// measured on the verifier's core (no C ABI): 0 as products build it; 1
/// when its `std` feature is on (its `SignatureError` then boxes a source),
/// which `cargo test --workspace` does because another workspace member
/// turns it on. The C ABI may allocate exactly that much on a failed
/// signature, and nothing else.
fn dalek_failure_allocations() -> usize {
    let roots = [fanlic_verifier::RootKey::from_bytes(&root("root-a")).unwrap()];
    let bad = fixture("vectors/revocations/bad-signature.bin");
    let n = allocations(|| assert!(fanlic_verifier::verify_revocations(black_box(&bad), &roots, None).is_err()));
    assert!(n <= 1, "the verifier's core allocated {n} times on a bad signature");
    n
}

#[test]
fn fanlic_license_verify_allocates_nothing() {
    let dalek = dalek_failure_allocations();
    let roots = [root("root-a")];
    let valid = fixture("vectors/valid-local-container.lic");
    let raw = fixture("vectors/valid-raw.bin");
    let all_causes = fixture("vectors/all-causes.lic");
    let bad_signature = fixture("vectors/bad-license-signature.lic");
    let list = fixture("vectors/revocations/valid.bin");
    let empty_list = fixture("vectors/revocations/valid-empty.bin");
    let bad_list = fixture("vectors/revocations/bad-signature.bin");
    let webroot = Env::webroot();
    let other = Env { app_name: "FineBI".into(), project: "other".into(), nodes: 9, ..Env::webroot() };
    let (webroot, other) = (webroot.c(), other.c());
    let seen = 1u64;
    // The last field: whether a signature fails on the way.
    type Case<'a> = (&'a str, &'a [u8], &'a FanlicEnvironment, Option<&'a [u8]>, FanlicStatus, bool);
    let cases: [Case<'_>; 8] = [
        ("valid", &valid, &webroot, None, FanlicStatus::Ok, false),
        ("valid raw", &raw, &webroot, None, FanlicStatus::Ok, false),
        ("every cause", &all_causes, &other, None, FanlicStatus::Invalid, false),
        ("bad signature", &bad_signature, &webroot, None, FanlicStatus::Invalid, true),
        ("revoked", &valid, &webroot, Some(&list), FanlicStatus::Invalid, false),
        ("revoked, every cause", &valid, &other, Some(&list), FanlicStatus::Invalid, false),
        ("an empty list", &valid, &webroot, Some(&empty_list), FanlicStatus::Ok, false),
        ("a refused list", &valid, &webroot, Some(&bad_list), FanlicStatus::BadArgument, true),
    ];
    for (name, license, env, list, expected, bad_signature) in cases {
        for &lang in langs() {
            for &cap in caps() {
                let mut result = FanlicLicenseResult::default();
                let mut text = [0u8; 8192];
                let mut status = FanlicStatus::Panic;
                let n = allocations(|| {
                    // SAFETY: every pointer is to live memory of the length given.
                    status = unsafe {
                        fanlic_license_verify(
                            black_box(license.as_ptr()),
                            license.len(),
                            roots.as_ptr(),
                            1,
                            env,
                            list.map_or(ptr::null(), <[u8]>::as_ptr),
                            list.map_or(0, <[u8]>::len),
                            &seen,
                            lang,
                            &mut result,
                            text.as_mut_ptr(),
                            cap,
                        )
                    };
                });
                let expected = if cap == 0 { FanlicStatus::BufferTooSmall } else { expected };
                assert_eq!(status, expected, "{name}, cap {cap}");
                let allowed = if bad_signature { dalek } else { 0 };
                assert_eq!(n, allowed, "{name} (lang {lang}, text cap {cap}) allocated");
            }
        }
    }
}

#[test]
fn fanlic_revocations_verify_allocates_nothing() {
    let dalek = dalek_failure_allocations();
    let roots = [root("root-a")];
    for (file, expected, allowed) in [
        ("vectors/revocations/valid.bin", FanlicStatus::Ok, 0),
        ("vectors/revocations/bad-signature.bin", FanlicStatus::Invalid, dalek),
        ("vectors/revocations/truncated.bin", FanlicStatus::Invalid, 0),
    ] {
        let list = fixture(file);
        let mut r = FanlicRevocationsResult::default();
        let mut status = FanlicStatus::Panic;
        let n = allocations(|| {
            // SAFETY: live memory of the lengths given.
            status = unsafe {
                fanlic_revocations_verify(black_box(list.as_ptr()), list.len(), roots.as_ptr(), 1, ptr::null(), &mut r)
            };
        });
        assert_eq!((status, n), (expected, allowed), "{file}");
    }
}

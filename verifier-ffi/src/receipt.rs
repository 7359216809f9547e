//! Activation receipts (SPEC.md §6.4) for C: check the vendor's signed
//! receipt against what the acceptor expects and report every cause, or
//! accept it into a [`FanlicActivation`] for the challenge it shows.
//!
//! The license is passed as its file and authenticated again here against
//! the roots: the receipt must name exactly these bytes (`license_sha256`),
//! and its issuing key is the one a delivered revocation list may revoke.
//! Nothing is allocated: the armor is decoded into a buffer on the stack
//! (72 KiB, the largest receipt file).

use fanlic_formats::{MAX_LICENSE_FILE_LEN, Timestamp, armor, receipt::MAX_RECEIPT_FILE_LEN};
use fanlic_verifier::{
    Verified, authenticate_raw,
    receipt::{AcceptedReceipt, Expect, ReceiptCause, sha256, verify_receipt},
};

use crate::{
    activation::FanlicActivation,
    ffi::{self, FanlicStatus, Roots},
};

/// The most causes one receipt can have: one of each kind.
pub const FANLIC_MAX_RECEIPT_CAUSES: usize = 11;

/// `receipt_malformed`: the file does not decode, or a signed part does not
/// after its signature held.
pub const FANLIC_RECEIPT_CAUSE_MALFORMED: u32 = 1;
/// `receipt_unknown_root_key`: certified by a root key the product does not
/// embed (`root_key_id` names it).
pub const FANLIC_RECEIPT_CAUSE_UNKNOWN_ROOT_KEY: u32 = 2;
/// `receipt_bad_signature`: the certificate's or the receipt's signature
/// does not hold.
pub const FANLIC_RECEIPT_CAUSE_BAD_SIGNATURE: u32 = 3;
/// `receipt_key_not_certified`: the signing key is not certified for
/// receipts alone, or for longer than 31 days.
pub const FANLIC_RECEIPT_CAUSE_KEY_NOT_CERTIFIED: u32 = 4;
/// `receipt_key_outside_window`: the receipt's vendor time is outside its
/// key's window.
pub const FANLIC_RECEIPT_CAUSE_KEY_OUTSIDE_WINDOW: u32 = 5;
/// `receipt_license_mismatch`: for another license, other bytes of it, or
/// other terms.
pub const FANLIC_RECEIPT_CAUSE_LICENSE_MISMATCH: u32 = 6;
/// `receipt_challenge_mismatch`: answers another challenge than the one held.
pub const FANLIC_RECEIPT_CAUSE_CHALLENGE_MISMATCH: u32 = 7;
/// `receipt_instance_mismatch`: binds another instance key, or one where
/// none may be.
pub const FANLIC_RECEIPT_CAUSE_INSTANCE_MISMATCH: u32 = 8;
/// `receipt_previous_mismatch`: follows another receipt than the one held.
pub const FANLIC_RECEIPT_CAUSE_PREVIOUS_MISMATCH: u32 = 9;
/// `lease_expired`: the acceptor's clock is at or past `lease_until`.
pub const FANLIC_RECEIPT_CAUSE_LEASE_EXPIRED: u32 = 10;
/// `revoked`: the revocation list the receipt delivers (sequence
/// `delivered_list_sequence`) revokes the license or its issuing key.
pub const FANLIC_RECEIPT_CAUSE_REVOKED: u32 = 11;

/// [`FanlicReceiptExpect::previous`]: not checked (a product, or an
/// application checking its server's receipt).
pub const FANLIC_RECEIPT_PREVIOUS_UNCHECKED: u32 = 0;
/// The acceptor (an authorization server) holds no receipt: the receipt
/// must name none.
pub const FANLIC_RECEIPT_PREVIOUS_NONE_HELD: u32 = 1;
/// The acceptor holds the receipt whose id is `previous_receipt`: the
/// receipt must name it.
pub const FANLIC_RECEIPT_PREVIOUS_HELD: u32 = 2;

/// What the acceptor expects of a receipt (SPEC.md §6.4 rules 4 to 6).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct FanlicReceiptExpect {
    /// Not 0: `challenge_sha256` is set. [`fanlic_receipt_verify`]: 0 only
    /// for an application checking its server's receipt, which made no
    /// challenge. [`fanlic_activation_accept_receipt`]: must be 0, the
    /// handle's pending challenge is used.
    pub has_challenge_sha256: u8,
    /// SHA-256 of the token of the challenge the acceptor holds
    /// (`FanlicChallengeInfo::token_sha256`).
    pub challenge_sha256: [u8; 32],
    /// Not 0: `instance_public_key` is set (an authorization server, or an
    /// application: the answer's instance key). 0 for a product, whose
    /// receipt must name no instance.
    pub has_instance_public_key: u8,
    /// The instance key, when `has_instance_public_key`.
    pub instance_public_key: [u8; 32],
    /// One of the `FANLIC_RECEIPT_PREVIOUS_*` values.
    pub previous: u32,
    /// The id of the receipt held, for `FANLIC_RECEIPT_PREVIOUS_HELD`.
    pub previous_receipt: [u8; 32],
    /// The acceptor's clock (Unix seconds), for `lease_until`.
    pub now: u64,
}

/// What a receipt check found. Fields that do not apply are 0.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FanlicReceiptResult {
    /// 1 when the receipt passed every rule, else 0.
    pub accepted: u8,
    /// How many entries of `causes` are set.
    pub cause_count: u32,
    /// Every cause, `FANLIC_RECEIPT_CAUSE_*`, in SPEC.md §6.4's order.
    pub causes: [u32; FANLIC_MAX_RECEIPT_CAUSES],
    /// An accepted receipt's id: what the next challenge of a server names.
    pub receipt_id: [u8; 32],
    /// An accepted receipt's vendor time (Unix seconds).
    pub vendor_time: u64,
    /// Not 0: `lease_until` is set (an accepted receipt with a lease, or the
    /// cause `lease_expired`).
    pub has_lease_until: u8,
    /// The end of the lease (Unix seconds).
    pub lease_until: u64,
    /// Not 0: `delivered_list_sequence` is set (an accepted receipt that
    /// delivers a revocation list that verifies and is the one it names, or
    /// the cause `revoked`).
    pub has_delivered_list: u8,
    /// That list's sequence.
    pub delivered_list_sequence: u64,
    /// `FANLIC_RECEIPT_CAUSE_UNKNOWN_ROOT_KEY`: the root key id the
    /// certificate names.
    pub root_key_id: [u8; 8],
}

fn cause_number(c: &ReceiptCause) -> Result<u32, FanlicStatus> {
    Ok(match c {
        ReceiptCause::Malformed(_) => FANLIC_RECEIPT_CAUSE_MALFORMED,
        ReceiptCause::UnknownRootKey { .. } => FANLIC_RECEIPT_CAUSE_UNKNOWN_ROOT_KEY,
        ReceiptCause::BadSignature => FANLIC_RECEIPT_CAUSE_BAD_SIGNATURE,
        ReceiptCause::NotReceiptKey { .. } => FANLIC_RECEIPT_CAUSE_KEY_NOT_CERTIFIED,
        ReceiptCause::KeyOutsideWindow { .. } => FANLIC_RECEIPT_CAUSE_KEY_OUTSIDE_WINDOW,
        ReceiptCause::LicenseMismatch { .. } => FANLIC_RECEIPT_CAUSE_LICENSE_MISMATCH,
        ReceiptCause::ChallengeMismatch => FANLIC_RECEIPT_CAUSE_CHALLENGE_MISMATCH,
        ReceiptCause::InstanceMismatch => FANLIC_RECEIPT_CAUSE_INSTANCE_MISMATCH,
        ReceiptCause::PreviousMismatch => FANLIC_RECEIPT_CAUSE_PREVIOUS_MISMATCH,
        ReceiptCause::LeaseExpired { .. } => FANLIC_RECEIPT_CAUSE_LEASE_EXPIRED,
        ReceiptCause::Revoked { .. } => FANLIC_RECEIPT_CAUSE_REVOKED,
        // A cause this library does not know yet: a bug here.
        _ => return Err(FanlicStatus::Panic),
    })
}

/// The spec's code of each `FANLIC_RECEIPT_CAUSE_*` value, in its order.
const CAUSE_CODES: [(u32, &str); FANLIC_MAX_RECEIPT_CAUSES] = [
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

/// The string code of a `FANLIC_RECEIPT_CAUSE_*` value, as SPEC.md §6.4
/// names it (e.g. `receipt_challenge_mismatch`), into `buf`: the length
/// goes to `*len` whether or not it fits, and a NUL follows when there is
/// room. `FANLIC_STATUS_BAD_ARGUMENT` for an unknown value.
///
/// # Safety
/// `buf`, when not null, points to `cap` writable bytes, and `len` to a
/// writable `size_t`; nothing else accesses them during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_receipt_cause_name(
    cause: u32,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> FanlicStatus {
    // SAFETY: the caller's contract, passed on.
    ffi::guard(|| unsafe { crate::text::write_name(&CAUSE_CODES, cause, buf, cap, len) })
}

/// The inputs of one check, read from C.
struct Inputs<'a> {
    receipt: &'a [u8],
    license: &'a [u8],
    roots: Roots,
    expect: FanlicReceiptExpect,
}

/// Reads the pointers every receipt entry point takes.
///
/// # Safety
/// As [`fanlic_receipt_verify`]'s contract for these arguments.
unsafe fn inputs<'a>(
    receipt: *const u8,
    receipt_len: usize,
    license: *const u8,
    license_len: usize,
    roots: *const [u8; 32],
    root_count: usize,
    expect: *const FanlicReceiptExpect,
) -> Result<Inputs<'a>, FanlicStatus> {
    Ok(Inputs {
        // SAFETY: the caller's contract for `receipt`.
        receipt: unsafe { ffi::bytes(receipt, receipt_len) }?,
        // SAFETY: the caller's contract for `license`.
        license: unsafe { ffi::bytes(license, license_len) }?,
        // SAFETY: the caller's contract for `roots`.
        roots: unsafe { ffi::roots(roots, root_count) }?,
        // SAFETY: the caller's contract for `expect`.
        expect: *unsafe { ffi::by_ref(expect) }?,
    })
}

/// Checks the receipt with `challenge` as the challenge held, fills `out`,
/// and hands an accepted receipt to `accept`.
fn check(
    i: &Inputs<'_>,
    challenge: Option<[u8; 32]>,
    out: &mut FanlicReceiptResult,
    accept: impl FnOnce(&Verified<AcceptedReceipt<'_>>) -> Result<(), FanlicStatus>,
) -> Result<FanlicStatus, FanlicStatus> {
    let e = &i.expect;
    let previous = match e.previous {
        FANLIC_RECEIPT_PREVIOUS_UNCHECKED => None,
        FANLIC_RECEIPT_PREVIOUS_NONE_HELD => Some(None),
        FANLIC_RECEIPT_PREVIOUS_HELD => Some(Some(e.previous_receipt)),
        _ => return Err(FanlicStatus::BadArgument),
    };
    let mut license_buf = [0u8; MAX_LICENSE_FILE_LEN];
    // The license is the caller's own, verified before: one whose signatures
    // do not hold is a wrong argument, not a cause of the receipt.
    let raw_license = armor::unarmor(i.license, &mut license_buf).map_err(|_| FanlicStatus::BadArgument)?;
    let signed = authenticate_raw(raw_license, i.roots.as_slice()).map_err(|_| FanlicStatus::BadArgument)?;
    let expect = Expect {
        license: &signed.license,
        license_sha256: sha256(raw_license),
        issuing_key_id: signed.certificate.key_id,
        challenge_sha256: challenge,
        instance_public_key: (e.has_instance_public_key != 0).then_some(e.instance_public_key),
        previous_receipt: previous,
        now: Timestamp(e.now),
    };
    let mut buf = [0u8; MAX_RECEIPT_FILE_LEN];
    let mut r = FanlicReceiptResult::default();
    let status = match verify_receipt(i.receipt, &mut buf, i.roots.as_slice(), &expect) {
        Ok(accepted) => {
            r.accepted = 1;
            r.receipt_id = accepted.id;
            r.vendor_time = accepted.receipt.vendor_time.0;
            if let Some(lease) = accepted.receipt.lease_until {
                r.has_lease_until = 1;
                r.lease_until = lease.0;
            }
            if let Some(list) = &accepted.revocations {
                r.has_delivered_list = 1;
                r.delivered_list_sequence = list.sequence();
            }
            accept(&accepted)?;
            FanlicStatus::Ok
        }
        Err(rejection) => {
            for (slot, cause) in r.causes.iter_mut().zip(rejection.causes()) {
                *slot = cause_number(&cause)?;
                r.cause_count += 1;
                match cause {
                    ReceiptCause::UnknownRootKey { root_key_id } => r.root_key_id = root_key_id.0,
                    ReceiptCause::LeaseExpired { lease_until, .. } => {
                        r.has_lease_until = 1;
                        r.lease_until = lease_until.0;
                    }
                    ReceiptCause::Revoked { sequence, .. } => {
                        r.has_delivered_list = 1;
                        r.delivered_list_sequence = sequence;
                    }
                    _ => {}
                }
            }
            FanlicStatus::Invalid
        }
    };
    *out = r;
    Ok(status)
}

/// Checks a receipt file (`receipt`: armored, or the raw file that starts
/// with `FANLIC-RECEIPT/`) against `roots`, the acceptor's license
/// (`license`, armored or raw, whose signatures are checked again here) and
/// `expect` (SPEC.md §6.4 "Accepting a receipt"). `FANLIC_STATUS_OK` with
/// the receipt's fields in `*out` when it is accepted;
/// `FANLIC_STATUS_INVALID` with every cause in `*out` otherwise.
/// `FANLIC_STATUS_BAD_ARGUMENT` when the license's signatures do not hold
/// under `roots` or `expect->previous` is unknown (nothing was checked).
/// Checks only: a product activates with
/// [`fanlic_activation_accept_receipt`]. Allocates nothing.
///
/// # Safety
/// `receipt` points to `receipt_len` readable bytes, `license` to
/// `license_len`, `roots` to `root_count` keys of 32 bytes; `expect` to a
/// valid struct; `out` to a writable struct; all for the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_receipt_verify(
    receipt: *const u8,
    receipt_len: usize,
    license: *const u8,
    license_len: usize,
    roots: *const [u8; 32],
    root_count: usize,
    expect: *const FanlicReceiptExpect,
    out: *mut FanlicReceiptResult,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the caller's contract for `out`.
        let out = unsafe { ffi::by_mut(out) }?;
        // SAFETY: the caller's contract for the rest.
        let i = unsafe { inputs(receipt, receipt_len, license, license_len, roots, root_count, expect) }?;
        let challenge = (i.expect.has_challenge_sha256 != 0).then_some(i.expect.challenge_sha256);
        check(&i, challenge, out, |_| Ok(()))
    })
}

/// Checks a receipt as [`fanlic_receipt_verify`] does, for the challenge
/// the handle shows (its token's SHA-256), and when it is accepted
/// activates the handle at `expect->now`: `FANLIC_STATUS_OK`. The
/// challenge is used up, so a receipt activates once, also across a save
/// and restore. `FANLIC_STATUS_BAD_STATE` when the handle shows no
/// challenge valid at `expect->now` (none, already answered, or over 5
/// minutes old: show a new QR code), with nothing checked;
/// `FANLIC_STATUS_BAD_ARGUMENT` when `expect->has_challenge_sha256` is not
/// 0. Allocates nothing.
///
/// # Safety
/// As [`fanlic_receipt_verify`]; `activation` is a live handle (or null)
/// no other thread uses.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_activation_accept_receipt(
    activation: *mut FanlicActivation,
    receipt: *const u8,
    receipt_len: usize,
    license: *const u8,
    license_len: usize,
    roots: *const [u8; 32],
    root_count: usize,
    expect: *const FanlicReceiptExpect,
    out: *mut FanlicReceiptResult,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the caller's contract for `activation`.
        let a = unsafe { crate::activation::activation(activation) }?;
        // SAFETY: the caller's contract for `out`.
        let out = unsafe { ffi::by_mut(out) }?;
        // SAFETY: the caller's contract for the rest.
        let i = unsafe { inputs(receipt, receipt_len, license, license_len, roots, root_count, expect) }?;
        if i.expect.has_challenge_sha256 != 0 {
            return Err(FanlicStatus::BadArgument);
        }
        let now = Timestamp(i.expect.now);
        let held = a.pending_challenge_sha256(now).ok_or(FanlicStatus::BadState)?;
        check(&i, Some(held), out, |accepted| {
            a.accept_receipt(accepted, now).map(|_| ()).map_err(|_| FanlicStatus::BadState)
        })
    })
}

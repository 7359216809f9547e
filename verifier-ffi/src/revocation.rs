//! Checking a signed revocation list (SPEC.md §5) from C, on its own:
//! [`fanlic_revocations_verify`] tells whether a list verifies against the
//! product's roots and the highest sequence it accepted before, and its
//! sequence (to persist) and counts. `fanlic_license_verify` takes the same
//! list and verifies it the same way.

use fanlic_verifier::{RevocationError, verify_revocations};

use crate::ffi::{self, FanlicStatus};
use crate::text::{FanlicText, TextOut};

/// No revocation list was given.
pub const FANLIC_REVOCATIONS_NONE: u32 = 0;
/// The revocation list verified and the license was checked against it.
pub const FANLIC_REVOCATIONS_ACCEPTED: u32 = 1;
/// The revocation list did not verify: nothing was checked, the call
/// returned `FANLIC_STATUS_BAD_ARGUMENT`, and `error` says why. Keep the
/// list you had before.
pub const FANLIC_REVOCATIONS_REFUSED: u32 = 2;

/// What became of the revocation list given to `fanlic_license_verify`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FanlicRevocationsUsed {
    /// `FANLIC_REVOCATIONS_NONE`, `_ACCEPTED` or `_REFUSED`.
    pub state: u32,
    /// When refused, `FANLIC_REVOCATION_ERROR_*`; else 0.
    pub error: u32,
    /// The list's sequence when accepted (persist it as the highest seen),
    /// or a refused list's when known (a rollback); else 0.
    pub sequence: u64,
    /// When refused, the reason code (`bad_signature`, `rollback`, ...);
    /// else empty.
    pub reason: FanlicText,
    /// When refused, the reason in English for logs; else empty.
    pub detail: FanlicText,
}

/// The list verified (no error).
pub const FANLIC_REVOCATION_ERROR_NONE: u32 = 0;
/// The file is not a revocation list (unknown magic).
pub const FANLIC_REVOCATION_ERROR_UNKNOWN_FORMAT: u32 = 1;
/// The file, its certificate or its list does not decode.
pub const FANLIC_REVOCATION_ERROR_BAD_ENCODING: u32 = 2;
/// Signed under a root key the product does not embed.
pub const FANLIC_REVOCATION_ERROR_UNKNOWN_ROOT_KEY: u32 = 3;
/// A signature does not hold.
pub const FANLIC_REVOCATION_ERROR_BAD_SIGNATURE: u32 = 4;
/// The issuing key is not certified to sign revocation lists.
pub const FANLIC_REVOCATION_ERROR_NOT_CERTIFIED: u32 = 5;
/// The issuing key signed the list outside its certified window.
pub const FANLIC_REVOCATION_ERROR_ISSUING_KEY_OUTSIDE_WINDOW: u32 = 6;
/// The list is older than one accepted before (anti-rollback).
pub const FANLIC_REVOCATION_ERROR_ROLLBACK: u32 = 7;
/// A reason this ABI version does not know (a newer verifier).
pub const FANLIC_REVOCATION_ERROR_OTHER: u32 = 255;

/// Every reason code with its name (`RevocationError::reason`).
const ERROR_CODES: [(u32, &str); 7] = [
    (FANLIC_REVOCATION_ERROR_UNKNOWN_FORMAT, "unknown_format"),
    (FANLIC_REVOCATION_ERROR_BAD_ENCODING, "bad_encoding"),
    (FANLIC_REVOCATION_ERROR_UNKNOWN_ROOT_KEY, "unknown_root_key"),
    (FANLIC_REVOCATION_ERROR_BAD_SIGNATURE, "bad_signature"),
    (FANLIC_REVOCATION_ERROR_NOT_CERTIFIED, "not_certified"),
    (FANLIC_REVOCATION_ERROR_ISSUING_KEY_OUTSIDE_WINDOW, "issuing_key_outside_window"),
    (FANLIC_REVOCATION_ERROR_ROLLBACK, "rollback"),
];

/// The `FANLIC_REVOCATION_ERROR_*` code of a refusal.
pub(crate) fn error_code(e: &RevocationError) -> u32 {
    ERROR_CODES.iter().find(|(_, name)| *name == e.reason()).map_or(FANLIC_REVOCATION_ERROR_OTHER, |(c, _)| *c)
}

/// The sequence a refusal names, if any.
fn refused_sequence(e: &RevocationError) -> u64 {
    match e {
        RevocationError::Rollback { sequence, .. } => *sequence,
        _ => 0,
    }
}

/// What `fanlic_license_verify` reports of a list that did not verify.
pub(crate) fn refused(e: &RevocationError, out: &mut TextOut<'_>) -> FanlicRevocationsUsed {
    FanlicRevocationsUsed {
        state: FANLIC_REVOCATIONS_REFUSED,
        error: error_code(e),
        sequence: refused_sequence(e),
        reason: out.put(e.reason()),
        detail: out.put(e),
    }
}

/// A list argument: none when `ptr` is null (then `len` must be 0); an empty
/// file when `len` is 0 and `ptr` is not null (it is refused as the file it
/// is, never taken for "no list").
///
/// # Safety
/// As [`ffi::bytes`].
pub(crate) unsafe fn optional_list<'a>(ptr: *const u8, len: usize) -> Result<Option<&'a [u8]>, FanlicStatus> {
    if ptr.is_null() {
        return if len == 0 { Ok(None) } else { Err(FanlicStatus::NullPointer) };
    }
    // SAFETY: the same contract, passed on.
    unsafe { ffi::bytes(ptr, len) }.map(Some)
}

/// An optional `uint64_t` argument: null for none.
///
/// # Safety
/// As [`ffi::by_ref`].
pub(crate) unsafe fn optional_u64(ptr: *const u64) -> Result<Option<u64>, FanlicStatus> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: the same contract, passed on.
    unsafe { ffi::by_ref(ptr) }.map(|v| Some(*v))
}

/// What `fanlic_revocations_verify` found.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FanlicRevocationsResult {
    /// 1 when the list verified.
    pub accepted: u8,
    /// `FANLIC_REVOCATION_ERROR_*`: why it was refused, 0 when accepted.
    pub error: u32,
    /// The list's sequence when accepted (persist it as the highest
    /// accepted), or a refused list's when known (a rollback); else 0.
    pub sequence: u64,
    /// When the list was signed (Unix seconds), when accepted.
    pub issued_at: u64,
    /// How many license ids it revokes, when accepted.
    pub license_count: usize,
    /// How many issuing keys it revokes, when accepted.
    pub issuing_key_count: usize,
}

/// Verifies a raw revocation list file against the product's root keys and
/// the highest sequence it accepted before (SPEC.md §5): `FANLIC_STATUS_OK`
/// and its sequence and counts when it verifies, `FANLIC_STATUS_INVALID` and
/// the reason (`result->error`) when it does not. `highest_seen` is null for
/// none. Allocates nothing.
///
/// # Safety
/// `list` must point to `list_len` readable bytes (or be null with 0),
/// `roots` to `root_count` arrays of 32 bytes, `highest_seen` (when not
/// null) to a `uint64_t`, and `result` to a writable result that nothing
/// else accesses during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_revocations_verify(
    list: *const u8,
    list_len: usize,
    roots: *const [u8; 32],
    root_count: usize,
    highest_seen: *const u64,
    result: *mut FanlicRevocationsResult,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: a valid, exclusive result when not null (the contract).
        let result = unsafe { ffi::by_mut(result) }?;
        *result = FanlicRevocationsResult::default();
        // SAFETY: `list_len` readable bytes at `list` (the contract).
        let list = unsafe { ffi::bytes(list, list_len) }?;
        // SAFETY: `root_count` arrays at `roots` (the contract).
        let roots = unsafe { ffi::roots(roots, root_count) }?;
        // SAFETY: one u64 when not null (the contract).
        let highest_seen = unsafe { optional_u64(highest_seen) }?;
        match verify_revocations(list, roots.as_slice(), highest_seen) {
            Ok(l) => {
                *result = FanlicRevocationsResult {
                    accepted: 1,
                    error: FANLIC_REVOCATION_ERROR_NONE,
                    sequence: l.sequence(),
                    issued_at: l.issued_at().0,
                    license_count: l.licenses().len(),
                    issuing_key_count: l.issuing_keys().len(),
                };
                Ok(FanlicStatus::Ok)
            }
            Err(e) => {
                result.error = error_code(&e);
                result.sequence = refused_sequence(&e);
                Ok(FanlicStatus::Invalid)
            }
        }
    })
}

/// The name of a `FANLIC_REVOCATION_ERROR_*` code (e.g. `rollback`), as
/// `fanlic_cause_name` writes a cause's. `FANLIC_STATUS_BAD_ARGUMENT`
/// for 0 and unknown codes.
///
/// # Safety
/// As `fanlic_cause_name`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_revocation_error_name(
    code: u32,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> FanlicStatus {
    // SAFETY: the caller's contract, passed on.
    ffi::guard(|| unsafe { crate::text::write_name(&ERROR_CODES, code, buf, cap, len) })
}

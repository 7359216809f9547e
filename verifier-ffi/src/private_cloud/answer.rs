//! Server answers from C (SPEC.md §7.2, §7.5): every cause numbered, named
//! and in English; the check itself, with or without a revocation list.

use fanlic_verifier::{
    Cause,
    private_cloud::{AcceptedAnswer, AnswerCause, AnswerRejection, verify_server_answer_with_revocations},
    receipt::ReceiptCause,
};

use super::{FanlicRequest, Texts, answer_kind_value, optional_key, revocations};
use crate::ffi::{self, FanlicEnvironment, FanlicStatus};
use crate::text::write_name;

// ------------------------------------------------------- answer causes --

/// A cause this version of the C ABI has no number for (a newer verifier
/// behind an older header); its text says what it is.
pub const FANLIC_ANSWER_CAUSE_OTHER: u32 = 255;
/// `malformed_answer`: the file, or a signed part once its signature held,
/// does not decode.
pub const FANLIC_ANSWER_CAUSE_MALFORMED_ANSWER: u32 = 1;
/// `license_expired`: the server license's expiry has passed (SPEC.md §4.2).
pub const FANLIC_ANSWER_CAUSE_LICENSE_EXPIRED: u32 = 2;
/// `version_mismatch`: the server license is for another version (§4.2).
pub const FANLIC_ANSWER_CAUSE_VERSION_MISMATCH: u32 = 3;
/// `app_name_mismatch`: the server license is for another application.
pub const FANLIC_ANSWER_CAUSE_APP_NAME_MISMATCH: u32 = 4;
/// `license_exhausted`: more nodes than the server license allows.
pub const FANLIC_ANSWER_CAUSE_LICENSE_EXHAUSTED: u32 = 5;
/// `project_content_mismatch`: the server license is for another project.
pub const FANLIC_ANSWER_CAUSE_PROJECT_CONTENT_MISMATCH: u32 = 6;
/// `license_type_mismatch`: the server license is not a private-cloud one.
pub const FANLIC_ANSWER_CAUSE_LICENSE_TYPE_MISMATCH: u32 = 7;
/// `not_yet_valid`: the server license is not valid yet.
pub const FANLIC_ANSWER_CAUSE_NOT_YET_VALID: u32 = 8;
/// `clock_rollback`: the product's clock is behind the last time it saw.
pub const FANLIC_ANSWER_CAUSE_CLOCK_ROLLBACK: u32 = 9;
/// `revoked`: the revocation list given revokes the server license or its
/// issuing key (SPEC.md §5).
pub const FANLIC_ANSWER_CAUSE_REVOKED: u32 = 10;
/// `content_incorrect`: the server license is not authentic under the
/// product's root keys; alone.
pub const FANLIC_ANSWER_CAUSE_CONTENT_INCORRECT: u32 = 11;
/// `no_image_key`: the server license has no image key.
pub const FANLIC_ANSWER_CAUSE_NO_IMAGE_KEY: u32 = 12;
/// `bad_signature`: the instance certificate's or the answer's signature
/// does not hold.
pub const FANLIC_ANSWER_CAUSE_BAD_SIGNATURE: u32 = 13;
/// `certificate_license_mismatch`: the instance certificate is for another
/// license.
pub const FANLIC_ANSWER_CAUSE_CERTIFICATE_LICENSE_MISMATCH: u32 = 14;
/// `image_key_id_mismatch`: the instance certificate names another image
/// key.
pub const FANLIC_ANSWER_CAUSE_IMAGE_KEY_ID_MISMATCH: u32 = 15;
/// `instance_key_changed`: another instance key than the pinned one (a copy
/// of the server).
pub const FANLIC_ANSWER_CAUSE_INSTANCE_KEY_CHANGED: u32 = 16;
/// `answer_license_mismatch`: the answer names another license.
pub const FANLIC_ANSWER_CAUSE_ANSWER_LICENSE_MISMATCH: u32 = 17;
/// `kind_mismatch`: the answer is not what was asked for.
pub const FANLIC_ANSWER_CAUSE_KIND_MISMATCH: u32 = 18;
/// `node_mismatch`: the answer is for another node.
pub const FANLIC_ANSWER_CAUSE_NODE_MISMATCH: u32 = 19;
/// `nonce_mismatch`: the answer is to another request (a replay?).
pub const FANLIC_ANSWER_CAUSE_NONCE_MISMATCH: u32 = 20;
/// `answer_expired`: `now >= valid_until`.
pub const FANLIC_ANSWER_CAUSE_ANSWER_EXPIRED: u32 = 21;
/// `answer_from_future`: `at > now + 300`.
pub const FANLIC_ANSWER_CAUSE_ANSWER_FROM_FUTURE: u32 = 22;
/// `receipt_missing`: the license is under receipt policy and the answer
/// carries no receipt.
pub const FANLIC_ANSWER_CAUSE_RECEIPT_MISSING: u32 = 23;
/// `receipt_malformed`: the answer's receipt does not decode (SPEC.md §6.4).
pub const FANLIC_ANSWER_CAUSE_RECEIPT_MALFORMED: u32 = 24;
/// `receipt_unknown_root_key`: the receipt is signed under a root key the
/// product does not embed.
pub const FANLIC_ANSWER_CAUSE_RECEIPT_UNKNOWN_ROOT_KEY: u32 = 25;
/// `receipt_bad_signature`: a signature of the receipt does not hold.
pub const FANLIC_ANSWER_CAUSE_RECEIPT_BAD_SIGNATURE: u32 = 26;
/// `receipt_key_not_certified`: the receipt's key is not certified for
/// receipts.
pub const FANLIC_ANSWER_CAUSE_RECEIPT_KEY_NOT_CERTIFIED: u32 = 27;
/// `receipt_key_outside_window`: the receipt's key signed outside its
/// window.
pub const FANLIC_ANSWER_CAUSE_RECEIPT_KEY_OUTSIDE_WINDOW: u32 = 28;
/// `receipt_license_mismatch`: the receipt is for another license.
pub const FANLIC_ANSWER_CAUSE_RECEIPT_LICENSE_MISMATCH: u32 = 29;
/// `receipt_challenge_mismatch`: the receipt answers another challenge.
pub const FANLIC_ANSWER_CAUSE_RECEIPT_CHALLENGE_MISMATCH: u32 = 30;
/// `receipt_instance_mismatch`: the receipt binds another instance key.
pub const FANLIC_ANSWER_CAUSE_RECEIPT_INSTANCE_MISMATCH: u32 = 31;
/// `receipt_previous_mismatch`: the receipt names another previous receipt.
pub const FANLIC_ANSWER_CAUSE_RECEIPT_PREVIOUS_MISMATCH: u32 = 32;
/// `revoked`, from the revocation list the receipt itself carries.
pub const FANLIC_ANSWER_CAUSE_RECEIPT_REVOKED: u32 = 33;
/// `lease_expired`: the receipt's lease has ended on the product's clock.
pub const FANLIC_ANSWER_CAUSE_LEASE_EXPIRED: u32 = 34;
/// `unrequested`: no request is outstanding; nothing was evaluated.
pub const FANLIC_ANSWER_CAUSE_UNREQUESTED: u32 = 35;

/// Each cause number and its spec code (SPEC.md §7.5's table, §4.2, §6.4).
pub(super) const ANSWER_CAUSE_NAMES: [(u32, &str); 36] = [
    (FANLIC_ANSWER_CAUSE_OTHER, "other"),
    (FANLIC_ANSWER_CAUSE_MALFORMED_ANSWER, "malformed_answer"),
    (FANLIC_ANSWER_CAUSE_LICENSE_EXPIRED, "license_expired"),
    (FANLIC_ANSWER_CAUSE_VERSION_MISMATCH, "version_mismatch"),
    (FANLIC_ANSWER_CAUSE_APP_NAME_MISMATCH, "app_name_mismatch"),
    (FANLIC_ANSWER_CAUSE_LICENSE_EXHAUSTED, "license_exhausted"),
    (FANLIC_ANSWER_CAUSE_PROJECT_CONTENT_MISMATCH, "project_content_mismatch"),
    (FANLIC_ANSWER_CAUSE_LICENSE_TYPE_MISMATCH, "license_type_mismatch"),
    (FANLIC_ANSWER_CAUSE_NOT_YET_VALID, "not_yet_valid"),
    (FANLIC_ANSWER_CAUSE_CLOCK_ROLLBACK, "clock_rollback"),
    (FANLIC_ANSWER_CAUSE_REVOKED, "revoked"),
    (FANLIC_ANSWER_CAUSE_CONTENT_INCORRECT, "content_incorrect"),
    (FANLIC_ANSWER_CAUSE_NO_IMAGE_KEY, "no_image_key"),
    (FANLIC_ANSWER_CAUSE_BAD_SIGNATURE, "bad_signature"),
    (FANLIC_ANSWER_CAUSE_CERTIFICATE_LICENSE_MISMATCH, "certificate_license_mismatch"),
    (FANLIC_ANSWER_CAUSE_IMAGE_KEY_ID_MISMATCH, "image_key_id_mismatch"),
    (FANLIC_ANSWER_CAUSE_INSTANCE_KEY_CHANGED, "instance_key_changed"),
    (FANLIC_ANSWER_CAUSE_ANSWER_LICENSE_MISMATCH, "answer_license_mismatch"),
    (FANLIC_ANSWER_CAUSE_KIND_MISMATCH, "kind_mismatch"),
    (FANLIC_ANSWER_CAUSE_NODE_MISMATCH, "node_mismatch"),
    (FANLIC_ANSWER_CAUSE_NONCE_MISMATCH, "nonce_mismatch"),
    (FANLIC_ANSWER_CAUSE_ANSWER_EXPIRED, "answer_expired"),
    (FANLIC_ANSWER_CAUSE_ANSWER_FROM_FUTURE, "answer_from_future"),
    (FANLIC_ANSWER_CAUSE_RECEIPT_MISSING, "receipt_missing"),
    (FANLIC_ANSWER_CAUSE_RECEIPT_MALFORMED, "receipt_malformed"),
    (FANLIC_ANSWER_CAUSE_RECEIPT_UNKNOWN_ROOT_KEY, "receipt_unknown_root_key"),
    (FANLIC_ANSWER_CAUSE_RECEIPT_BAD_SIGNATURE, "receipt_bad_signature"),
    (FANLIC_ANSWER_CAUSE_RECEIPT_KEY_NOT_CERTIFIED, "receipt_key_not_certified"),
    (FANLIC_ANSWER_CAUSE_RECEIPT_KEY_OUTSIDE_WINDOW, "receipt_key_outside_window"),
    (FANLIC_ANSWER_CAUSE_RECEIPT_LICENSE_MISMATCH, "receipt_license_mismatch"),
    (FANLIC_ANSWER_CAUSE_RECEIPT_CHALLENGE_MISMATCH, "receipt_challenge_mismatch"),
    (FANLIC_ANSWER_CAUSE_RECEIPT_INSTANCE_MISMATCH, "receipt_instance_mismatch"),
    (FANLIC_ANSWER_CAUSE_RECEIPT_PREVIOUS_MISMATCH, "receipt_previous_mismatch"),
    (FANLIC_ANSWER_CAUSE_RECEIPT_REVOKED, "revoked"),
    (FANLIC_ANSWER_CAUSE_LEASE_EXPIRED, "lease_expired"),
    (FANLIC_ANSWER_CAUSE_UNREQUESTED, "unrequested"),
];

const fn license_cause_value(c: &Cause<'_>) -> u32 {
    match c {
        Cause::LicenseExpired { .. } => FANLIC_ANSWER_CAUSE_LICENSE_EXPIRED,
        Cause::VersionMismatch { .. } => FANLIC_ANSWER_CAUSE_VERSION_MISMATCH,
        Cause::AppNameMismatch { .. } => FANLIC_ANSWER_CAUSE_APP_NAME_MISMATCH,
        Cause::LicenseExhausted { .. } => FANLIC_ANSWER_CAUSE_LICENSE_EXHAUSTED,
        Cause::ProjectContentMismatch { .. } => FANLIC_ANSWER_CAUSE_PROJECT_CONTENT_MISMATCH,
        Cause::LicenseTypeMismatch { .. } => FANLIC_ANSWER_CAUSE_LICENSE_TYPE_MISMATCH,
        Cause::NotYetValid { .. } => FANLIC_ANSWER_CAUSE_NOT_YET_VALID,
        Cause::ClockRollback { .. } => FANLIC_ANSWER_CAUSE_CLOCK_ROLLBACK,
        Cause::Revoked { .. } => FANLIC_ANSWER_CAUSE_REVOKED,
        Cause::ContentIncorrect(_) => FANLIC_ANSWER_CAUSE_CONTENT_INCORRECT,
        _ => FANLIC_ANSWER_CAUSE_OTHER,
    }
}

const fn receipt_cause_value(c: &ReceiptCause) -> u32 {
    match c {
        ReceiptCause::Malformed(_) => FANLIC_ANSWER_CAUSE_RECEIPT_MALFORMED,
        ReceiptCause::UnknownRootKey { .. } => FANLIC_ANSWER_CAUSE_RECEIPT_UNKNOWN_ROOT_KEY,
        ReceiptCause::BadSignature => FANLIC_ANSWER_CAUSE_RECEIPT_BAD_SIGNATURE,
        ReceiptCause::NotReceiptKey { .. } => FANLIC_ANSWER_CAUSE_RECEIPT_KEY_NOT_CERTIFIED,
        ReceiptCause::KeyOutsideWindow { .. } => FANLIC_ANSWER_CAUSE_RECEIPT_KEY_OUTSIDE_WINDOW,
        ReceiptCause::LicenseMismatch { .. } => FANLIC_ANSWER_CAUSE_RECEIPT_LICENSE_MISMATCH,
        ReceiptCause::ChallengeMismatch => FANLIC_ANSWER_CAUSE_RECEIPT_CHALLENGE_MISMATCH,
        ReceiptCause::InstanceMismatch => FANLIC_ANSWER_CAUSE_RECEIPT_INSTANCE_MISMATCH,
        ReceiptCause::PreviousMismatch => FANLIC_ANSWER_CAUSE_RECEIPT_PREVIOUS_MISMATCH,
        ReceiptCause::LeaseExpired { .. } => FANLIC_ANSWER_CAUSE_LEASE_EXPIRED,
        ReceiptCause::Revoked { .. } => FANLIC_ANSWER_CAUSE_RECEIPT_REVOKED,
        _ => FANLIC_ANSWER_CAUSE_OTHER,
    }
}

/// The `FANLIC_ANSWER_CAUSE_*` number of a cause.
pub(crate) const fn answer_cause_value(c: &AnswerCause<'_>) -> u32 {
    match c {
        AnswerCause::Malformed { .. } => FANLIC_ANSWER_CAUSE_MALFORMED_ANSWER,
        AnswerCause::License(l) => license_cause_value(l),
        AnswerCause::NoImageKey { .. } => FANLIC_ANSWER_CAUSE_NO_IMAGE_KEY,
        AnswerCause::BadSignature => FANLIC_ANSWER_CAUSE_BAD_SIGNATURE,
        AnswerCause::CertificateLicenseMismatch { .. } => FANLIC_ANSWER_CAUSE_CERTIFICATE_LICENSE_MISMATCH,
        AnswerCause::ImageKeyIdMismatch { .. } => FANLIC_ANSWER_CAUSE_IMAGE_KEY_ID_MISMATCH,
        AnswerCause::InstanceKeyChanged { .. } => FANLIC_ANSWER_CAUSE_INSTANCE_KEY_CHANGED,
        AnswerCause::AnswerLicenseMismatch { .. } => FANLIC_ANSWER_CAUSE_ANSWER_LICENSE_MISMATCH,
        AnswerCause::KindMismatch { .. } => FANLIC_ANSWER_CAUSE_KIND_MISMATCH,
        AnswerCause::NodeMismatch { .. } => FANLIC_ANSWER_CAUSE_NODE_MISMATCH,
        AnswerCause::NonceMismatch => FANLIC_ANSWER_CAUSE_NONCE_MISMATCH,
        AnswerCause::Expired { .. } => FANLIC_ANSWER_CAUSE_ANSWER_EXPIRED,
        AnswerCause::FromTheFuture { .. } => FANLIC_ANSWER_CAUSE_ANSWER_FROM_FUTURE,
        AnswerCause::ReceiptMissing => FANLIC_ANSWER_CAUSE_RECEIPT_MISSING,
        AnswerCause::Receipt(r) => receipt_cause_value(r),
        AnswerCause::LeaseExpired { .. } => FANLIC_ANSWER_CAUSE_LEASE_EXPIRED,
        AnswerCause::Unrequested => FANLIC_ANSWER_CAUSE_UNREQUESTED,
        _ => FANLIC_ANSWER_CAUSE_OTHER,
    }
}

/// Writes the spec's code of a `FANLIC_ANSWER_CAUSE_*` (e.g.
/// `nonce_mismatch`, SPEC.md §7.5) into `out`, and its length into
/// `*out_len`. Two numbers share the code `revoked`: the list the product
/// gave, and the list the server's receipt carries. An unknown number is
/// `FANLIC_STATUS_BAD_ARGUMENT`.
///
/// # Safety
/// `out` points to `out_cap` writable bytes (or is null with `out_cap` 0);
/// `out_len` to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_answer_cause_name(
    cause: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> FanlicStatus {
    // SAFETY: the caller's promise, passed on.
    ffi::guard(|| unsafe { write_name(&ANSWER_CAUSE_NAMES, cause, out, out_cap, out_len) })
}

// -------------------------------------------------------- answer result --

/// The most causes one refused answer reports.
pub const FANLIC_MAX_ANSWER_CAUSES: usize = 32;

/// One cause of a refused answer.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FanlicAnswerCause {
    /// A `FANLIC_ANSWER_CAUSE_*`; its spec code by
    /// [`fanlic_answer_cause_name`].
    pub cause: u32,
    /// Where its English text starts in the caller's text buffer (a
    /// NUL follows it).
    pub text_offset: usize,
    /// The text's length in bytes, NUL not counted (0 when no texts were
    /// asked for).
    pub text_len: usize,
}

/// The outcome of an answer check (SPEC.md §7.2): with
/// `FANLIC_STATUS_OK`, the accepted answer's fields; with
/// `FANLIC_STATUS_INVALID`, every cause in order.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FanlicAnswerResult {
    /// 1 when the answer was accepted.
    pub accepted: u8,
    /// 1 when `license_id` is set: accepted, or refused with a server
    /// license whose signatures held.
    pub has_license_id: u8,
    /// The server license's id.
    pub license_id: [u8; 16],
    /// Accepted: the instance key that signed it (the one to pin).
    pub instance_public_key: [u8; 32],
    /// Accepted: a `FANLIC_ANSWER_KIND_*`.
    pub kind: u32,
    /// Accepted: the node that asked.
    pub node_id: [u8; 16],
    /// Accepted: the server's time when it answered (Unix seconds).
    pub at: u64,
    /// Accepted: until when the registration holds without another answer.
    pub valid_until: u64,
    /// Accepted: nodes registered with the server now.
    pub nodes: u32,
    /// Accepted under receipt policy: 1 when `lease_until` is set.
    pub has_lease_until: u8,
    /// The end of the server's activation lease, by its receipt.
    pub lease_until: u64,
    /// Refused: how many causes `causes` holds.
    pub cause_count: u32,
    /// Refused: the causes, in SPEC.md §7.5's order.
    pub causes: [FanlicAnswerCause; FANLIC_MAX_ANSWER_CAUSES],
}

impl FanlicAnswerResult {
    const EMPTY: Self = Self {
        accepted: 0,
        has_license_id: 0,
        license_id: [0; 16],
        instance_public_key: [0; 32],
        kind: 0,
        node_id: [0; 16],
        at: 0,
        valid_until: 0,
        nodes: 0,
        has_lease_until: 0,
        lease_until: 0,
        cause_count: 0,
        causes: [FanlicAnswerCause { cause: 0, text_offset: 0, text_len: 0 }; FANLIC_MAX_ANSWER_CAUSES],
    };

    pub(crate) fn accepted(a: &AcceptedAnswer) -> Self {
        Self {
            accepted: 1,
            has_license_id: 1,
            license_id: a.license_id.0,
            instance_public_key: a.instance_public_key,
            kind: answer_kind_value(a.kind),
            node_id: a.node_id,
            at: a.at.0,
            valid_until: a.valid_until.0,
            nodes: a.nodes,
            has_lease_until: u8::from(a.lease_until.is_some()),
            lease_until: a.lease_until.map_or(0, |t| t.0),
            ..Self::EMPTY
        }
    }

    pub(crate) fn refused(r: &AnswerRejection<'_>, texts: &mut Texts<'_>) -> Self {
        let mut out = Self::EMPTY;
        if let Some(l) = r.license() {
            out.has_license_id = 1;
            out.license_id = l.id.0;
        }
        for (slot, cause) in out.causes.iter_mut().zip(r.causes()) {
            let (text_offset, text_len) = texts.push(cause);
            *slot = FanlicAnswerCause { cause: answer_cause_value(&cause), text_offset, text_len };
            out.cause_count += 1;
        }
        out
    }
}

/// The answer check behind [`fanlic_answer_verify`] and
/// [`fanlic_answer_verify_with_revocations`].
///
/// # Safety
/// As [`fanlic_answer_verify_with_revocations`].
#[allow(clippy::too_many_arguments, reason = "one per C argument")]
unsafe fn answer_verify(
    answer: *const u8,
    answer_len: usize,
    roots: *const [u8; 32],
    root_count: usize,
    env: *const FanlicEnvironment,
    request: *const FanlicRequest,
    pinned_instance_key: *const [u8; 32],
    revocation_list: *const u8,
    revocation_list_len: usize,
    result: *mut FanlicAnswerResult,
    text: *mut u8,
    text_cap: usize,
    text_len: *mut usize,
) -> Result<FanlicStatus, FanlicStatus> {
    // SAFETY: the caller promises `answer_len` readable bytes.
    let file = unsafe { ffi::bytes(answer, answer_len) }?;
    // SAFETY: the caller promises `root_count` keys.
    let roots = unsafe { ffi::roots(roots, root_count) }?;
    // SAFETY: the caller promises a valid environment or null.
    let env = unsafe { ffi::by_ref(env) }?;
    // SAFETY: its texts are the caller's promise too.
    let env = unsafe { ffi::environment(env) }?;
    // SAFETY: the caller promises a valid request or null.
    let request = unsafe { ffi::by_ref(request) }?.request()?;
    // SAFETY: the caller promises a key or null.
    let pinned = unsafe { optional_key(pinned_instance_key) };
    // SAFETY: the caller promises the list's bytes or null.
    let list = unsafe { revocations(revocation_list, revocation_list_len, &roots) }?;
    // SAFETY: the caller promises a writable result.
    let result = unsafe { ffi::by_mut(result) }?;
    // SAFETY: the caller promises the text buffer and its length, or nulls.
    let mut texts = unsafe { Texts::new(text, text_cap, text_len) }?;
    match verify_server_answer_with_revocations(file, roots.as_slice(), &env, &request, pinned, list.as_ref()) {
        Ok(accepted) => {
            *result = FanlicAnswerResult::accepted(&accepted);
            texts.finish()?;
            Ok(FanlicStatus::Ok)
        }
        Err(rejection) => {
            *result = FanlicAnswerResult::refused(&rejection, &mut texts);
            texts.finish()?;
            Ok(FanlicStatus::Invalid)
        }
    }
}

/// Checks a server answer file against the request it answers (SPEC.md
/// §7.2), with the product's root keys and environment: the server license
/// (with method private-cloud, whatever `env->method` says), the instance
/// certificate, the answer's signature, the request's kind, node and nonce,
/// and the time (`env->now`). With a pinned instance key (not null), an
/// answer from any other instance is refused (`instance_key_changed`).
/// `FANLIC_STATUS_OK`: `*result` holds the accepted answer.
/// `FANLIC_STATUS_INVALID`: `*result` holds every cause, in SPEC.md §7.5's
/// order, and their English texts are in `text` (each followed by a NUL, at
/// `causes[i].text_offset`); `*text_len` is the length the texts need, NULs
/// included, and `FANLIC_STATUS_BUFFER_TOO_SMALL` says to call again with a
/// bigger buffer (the result is filled all the same). `text` and `text_len`
/// may both be null: no texts. Allocates nothing.
///
/// # Safety
/// `answer` points to `answer_len` readable bytes; `roots` to `root_count`
/// keys; `env` to a valid `FanlicEnvironment` (its texts as it says);
/// `request` to a valid `FanlicRequest`; `pinned_instance_key` to 32 bytes
/// or is null; `result` to a writable `FanlicAnswerResult`; `text` to
/// `text_cap` writable bytes or null with `text_cap` 0; `text_len` to a
/// writable `size_t` or null when `text` is.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_answer_verify(
    answer: *const u8,
    answer_len: usize,
    roots: *const [u8; 32],
    root_count: usize,
    env: *const FanlicEnvironment,
    request: *const FanlicRequest,
    pinned_instance_key: *const [u8; 32],
    result: *mut FanlicAnswerResult,
    text: *mut u8,
    text_cap: usize,
    text_len: *mut usize,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the same contract, passed on; no revocation list.
        unsafe {
            answer_verify(
                answer,
                answer_len,
                roots,
                root_count,
                env,
                request,
                pinned_instance_key,
                core::ptr::null(),
                0,
                result,
                text,
                text_cap,
                text_len,
            )
        }
    })
}

/// [`fanlic_answer_verify`], with the server license also checked against a
/// revocation list (cause `revoked`, SPEC.md §5). `revocation_list` is the
/// raw list file; null means none. It must verify under the same root keys
/// (signatures and certificate), else the call is
/// `FANLIC_STATUS_BAD_ARGUMENT` and nothing is checked: keeping the highest
/// sequence accepted is the product's, when it accepts a list.
///
/// # Safety
/// As [`fanlic_answer_verify`]; `revocation_list` points to
/// `revocation_list_len` readable bytes or is null.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_answer_verify_with_revocations(
    answer: *const u8,
    answer_len: usize,
    roots: *const [u8; 32],
    root_count: usize,
    env: *const FanlicEnvironment,
    request: *const FanlicRequest,
    pinned_instance_key: *const [u8; 32],
    revocation_list: *const u8,
    revocation_list_len: usize,
    result: *mut FanlicAnswerResult,
    text: *mut u8,
    text_cap: usize,
    text_len: *mut usize,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the same contract, passed on.
        unsafe {
            answer_verify(
                answer,
                answer_len,
                roots,
                root_count,
                env,
                request,
                pinned_instance_key,
                revocation_list,
                revocation_list_len,
                result,
                text,
                text_cap,
                text_len,
            )
        }
    })
}

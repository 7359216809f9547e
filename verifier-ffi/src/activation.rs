//! Activation by QR code (SPEC.md §6.1, §6.2) for C: a challenge made from
//! a verified license, its QR URL, and the code-entry state machine, with
//! the caller's clock and a 64-byte saved state.
//!
//! The product:
//! 1. makes a challenge with [`fanlic_challenge_make`] from its license file
//!    (verified again inside, so the key that MACs the challenge comes only
//!    from a license whose signatures hold in this environment), shows
//!    [`fanlic_challenge_write_url`] as a QR code;
//! 2. hands it to its [`FanlicActivation`] with
//!    [`fanlic_activation_set_challenge`], which picks the license's policy:
//!    a code-policy challenge expects the 6-digit code, a receipt-policy one
//!    only a receipt (`receipt.rs`). The expected code never leaves the
//!    library;
//! 3. checks what the admin types with [`fanlic_activation_enter`] and shows
//!    [`fanlic_activation_message`]; keeps [`fanlic_activation_save`]'s bytes
//!    so that restarting one node buys no guesses.

use core::{fmt, ptr};

use fanlic_formats::{
    ActivationPolicy, LicenseKind, MAX_LICENSE_FILE_LEN, Timestamp,
    activation::{MAX_TOKEN_LEN, MAX_TOKEN_TEXT_LEN, ServerInstance},
};
use fanlic_verifier::activation::{
    Activation, ActivationKey, ChallengeInput, CodeError, PreparedChallenge, STATE_LEN, Status, make_challenge_after,
    project_fingerprint,
};

use crate::ffi::{self, FanlicEnvironment, FanlicStatus};

/// The longest raw challenge token, in bytes (SPEC.md §6.1).
pub const FANLIC_MAX_TOKEN_LEN: usize = 289;
const _: () = assert!(FANLIC_MAX_TOKEN_LEN == MAX_TOKEN_LEN);

/// The longest `activation_base_url` a license carries, in bytes (SPEC.md §3.3).
const MAX_BASE_URL_LEN: usize = 512;

/// The longest activation URL made with the license's own base URL, in
/// bytes: a buffer of this length plus one holds it and its NUL.
pub const FANLIC_MAX_ACTIVATION_URL_LEN: usize = 901;
const _: () = assert!(FANLIC_MAX_ACTIVATION_URL_LEN == MAX_BASE_URL_LEN + 1 + MAX_TOKEN_TEXT_LEN);

/// Length of a saved activation state (SPEC.md §6.2, "Saved state").
pub const FANLIC_ACTIVATION_STATE_LEN: usize = 64;
const _: () = assert!(FANLIC_ACTIVATION_STATE_LEN == STATE_LEN);

/// The longest deployment id a challenge takes, in bytes.
pub const FANLIC_MAX_DEPLOYMENT_ID_LEN: usize = 512;

pub use crate::license::{FANLIC_ACTIVATION_POLICY_CODE, FANLIC_ACTIVATION_POLICY_RECEIPT};

/// [`FanlicEnterResult::kind`]: the code was right; activated at `at`.
pub const FANLIC_ENTER_ACCEPTED: u32 = 0;
/// No QR code is shown: make a challenge first.
pub const FANLIC_ENTER_NO_CHALLENGE: u32 = 1;
/// Not six digits; not counted as a wrong code.
pub const FANLIC_ENTER_NOT_SIX_DIGITS: u32 = 2;
/// The QR code made at `issued_at` is over 5 minutes old at `now`: refresh it.
pub const FANLIC_ENTER_EXPIRED: u32 = 3;
/// Too many wrong codes: input is locked until `until`.
pub const FANLIC_ENTER_LOCKED: u32 = 4;
/// A wrong code; `remaining` more lock input for 15 minutes.
pub const FANLIC_ENTER_WRONG_CODE: u32 = 5;
/// The license is under receipt policy: no code is ever accepted.
pub const FANLIC_ENTER_RECEIPT_REQUIRED: u32 = 6;

/// [`FanlicActivationStatus::kind`]: not activated, no QR code shown.
pub const FANLIC_ACTIVATION_NOT_ACTIVATED: u32 = 0;
/// A QR code is shown, valid until `expires_at`.
pub const FANLIC_ACTIVATION_AWAITING_CODE: u32 = 1;
/// Input is locked until `until`.
pub const FANLIC_ACTIVATION_LOCKED: u32 = 2;
/// Activated at `at`, until all nodes restart.
pub const FANLIC_ACTIVATION_ACTIVATED: u32 = 3;

/// What a challenge is made of besides the license and the environment
/// (the environment gives the app name and project for the project
/// fingerprint, the node count, the version and the time).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct FanlicChallengeInput {
    /// 16 fresh random bytes from the product's secure RNG, new for every
    /// challenge.
    pub nonce: [u8; 16],
    /// This node's id, persisted by the product.
    pub node_id: [u8; 16],
    /// What the product persists to tell two deployments of a project with
    /// the same name apart (may be empty: null with length 0).
    pub deployment_id: *const u8,
    /// Its length in bytes.
    pub deployment_id_len: usize,
    /// Not 0 for an authorization server (a private-cloud license): the
    /// challenge names its instance below.
    pub has_server: u8,
    /// The server's instance fingerprint (SPEC.md §7.1), when `has_server`.
    pub instance_fingerprint: [u8; 32],
    /// Its `privateConfig` generation (SPEC.md §7.4), when `has_server`.
    pub generation: u64,
    /// Not 0 when an authorization server under receipt policy holds a
    /// receipt: the challenge names its id below (SPEC.md §6.1).
    pub has_previous_receipt: u8,
    /// The id of the receipt it holds, when `has_previous_receipt`.
    pub previous_receipt: [u8; 32],
}

/// A challenge ready to show (opaque): its token, the license's policy and
/// activation base URL, and the code it expects, which only
/// [`fanlic_activation_set_challenge`] reads.
pub struct FanlicChallenge {
    prepared: PreparedChallenge,
    policy: ActivationPolicy,
    base_url: [u8; MAX_BASE_URL_LEN],
    base_url_len: usize,
}

impl fmt::Debug for FanlicChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FanlicChallenge").field("prepared", &self.prepared).finish_non_exhaustive()
    }
}

/// A challenge's public parts, for the product to show or keep.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct FanlicChallengeInfo {
    /// The raw token (`0x01 || body || tag`); `token_len` bytes are used.
    pub token: [u8; FANLIC_MAX_TOKEN_LEN],
    /// How many bytes of `token` are the token.
    pub token_len: usize,
    /// SHA-256 of the raw token: what a receipt for it names (SPEC.md §6.4).
    pub token_sha256: [u8; 32],
    /// When it was made (Unix seconds); it is valid for 5 minutes.
    pub issued_at: u64,
    /// The license's policy: `FANLIC_ACTIVATION_POLICY_CODE` or
    /// `FANLIC_ACTIVATION_POLICY_RECEIPT`.
    pub policy: u32,
}

/// The code-entry state machine (opaque; SPEC.md §6.2). One thread at a time.
#[derive(Debug)]
pub struct FanlicActivation {
    pub(crate) state: Activation,
}

/// What [`fanlic_activation_enter`] decided. Fields that do not apply to
/// `kind` are 0.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FanlicEnterResult {
    /// One of the `FANLIC_ENTER_*` values.
    pub kind: u32,
    /// `FANLIC_ENTER_WRONG_CODE`: wrong codes left before input locks.
    pub remaining: u32,
    /// `FANLIC_ENTER_ACCEPTED`: when it was activated (Unix seconds).
    pub at: u64,
    /// `FANLIC_ENTER_EXPIRED`: when the QR code was made.
    pub issued_at: u64,
    /// `FANLIC_ENTER_LOCKED`: when input unlocks.
    pub until: u64,
    /// The time the code was entered at.
    pub now: u64,
}

/// Where activation stands at a time. Fields that do not apply to `kind`
/// are 0.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FanlicActivationStatus {
    /// One of the `FANLIC_ACTIVATION_*` status values.
    pub kind: u32,
    /// `FANLIC_ACTIVATION_AWAITING_CODE`: the first instant the QR code is
    /// expired.
    pub expires_at: u64,
    /// `FANLIC_ACTIVATION_LOCKED`: when input unlocks.
    pub until: u64,
    /// `FANLIC_ACTIVATION_ACTIVATED`: when.
    pub at: u64,
}

/// The activation state behind a handle.
///
/// # Safety
/// `a` is null or a live handle from [`fanlic_activation_new`] that no
/// other thread uses for `'a`.
pub(crate) unsafe fn activation<'a>(a: *mut FanlicActivation) -> Result<&'a mut Activation, FanlicStatus> {
    // SAFETY: passed on from the caller's contract.
    Ok(&mut unsafe { ffi::by_mut(a) }?.state)
}

/// Makes an activation challenge (SPEC.md §6.1) for the license in
/// `license` (armored or raw), which is verified inside against `roots`
/// and `env` first: the key that MACs the challenge is read only from a
/// license that verifies. The node count, version and time are `env`'s;
/// the project fingerprint is of `env`'s app name and project and
/// `input->deployment_id`.
///
/// On `FANLIC_STATUS_OK`, `*out` is a new handle, freed with
/// [`fanlic_challenge_free`]; otherwise `*out` is null. Returns
/// `FANLIC_STATUS_INVALID` when the license does not verify in `env`
/// (`fanlic_license_verify` says why) or carries no activation key;
/// `FANLIC_STATUS_BAD_ARGUMENT` for a server instance with a
/// local-container license, a previous receipt without a server instance
/// or under code policy, or an `env` a challenge cannot carry (0 nodes, a
/// version that is not 1 to 64 printable ASCII characters);
/// `FANLIC_STATUS_BAD_LENGTH` for a deployment id over
/// `FANLIC_MAX_DEPLOYMENT_ID_LEN` bytes.
///
/// # Safety
/// `license` points to `license_len` readable bytes, `roots` to
/// `root_count` keys of 32 bytes, `env` and `input` to valid structs whose
/// text pointers hold their lengths, `out` to a writable pointer; all for
/// the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_challenge_make(
    license: *const u8,
    license_len: usize,
    roots: *const [u8; 32],
    root_count: usize,
    env: *const FanlicEnvironment,
    input: *const FanlicChallengeInput,
    out: *mut *mut FanlicChallenge,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the caller's contract for `out`.
        let out = unsafe { ffi::by_mut(out) }?;
        *out = ptr::null_mut();
        // SAFETY: the caller's contract for `license`.
        let license = unsafe { ffi::bytes(license, license_len) }?;
        // SAFETY: the caller's contract for `roots`.
        let roots = unsafe { ffi::roots(roots, root_count) }?;
        // SAFETY: the caller's contract for `env`.
        let env = unsafe { ffi::by_ref(env) }?;
        // SAFETY: the caller's contract for `env`'s text.
        let env = unsafe { ffi::environment(env) }?;
        // SAFETY: the caller's contract for `input`.
        let input = unsafe { ffi::by_ref(input) }?;
        // SAFETY: the caller's contract for `input`'s deployment id.
        let deployment_id = unsafe { ffi::bytes(input.deployment_id, input.deployment_id_len) }?;

        let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
        let Ok(verified) = fanlic_verifier::verify(license, &mut buf, roots.as_slice(), &env) else {
            return Ok(FanlicStatus::Invalid);
        };
        let l = &verified.license;
        let Some(key) = l.activation_key else {
            return Ok(FanlicStatus::Invalid);
        };
        let server = (input.has_server != 0).then_some(ServerInstance {
            instance_fingerprint: input.instance_fingerprint,
            generation: input.generation,
        });
        if server.is_some() && l.kind != LicenseKind::PrivateCloud {
            return Err(FanlicStatus::BadArgument);
        }
        let previous = (input.has_previous_receipt != 0).then_some(input.previous_receipt);
        if previous.is_some() && (server.is_none() || l.activation_policy != ActivationPolicy::Receipt) {
            return Err(FanlicStatus::BadArgument);
        }
        if deployment_id.len() > FANLIC_MAX_DEPLOYMENT_ID_LEN {
            return Err(FanlicStatus::BadLength);
        }
        // With the longest app name and project and this deployment id the
        // fingerprint's message fits its buffer: this cannot fail.
        let fingerprint =
            project_fingerprint(env.app_name, env.project, deployment_id).map_err(|_| FanlicStatus::BadLength)?;
        let challenge_input = ChallengeInput {
            nonce: input.nonce,
            node_id: input.node_id,
            project_fingerprint: fingerprint,
            nodes: env.nodes,
            app_version: env.version,
            now: env.now,
            server,
        };
        let prepared = make_challenge_after(l.id, &ActivationKey::from_bytes(key), &challenge_input, previous)
            .map_err(|_| FanlicStatus::BadArgument)?;
        let mut base_url = [0u8; MAX_BASE_URL_LEN];
        let url = l.activation_base_url.unwrap_or("").as_bytes();
        base_url.get_mut(..url.len()).ok_or(FanlicStatus::BadArgument)?.copy_from_slice(url);
        let handle =
            Box::new(FanlicChallenge { prepared, policy: l.activation_policy, base_url, base_url_len: url.len() });
        *out = Box::into_raw(handle);
        Ok(FanlicStatus::Ok)
    })
}

/// Frees a challenge; null is ignored.
///
/// # Safety
/// `challenge` is null or a handle from [`fanlic_challenge_make`] not freed
/// before and not used after.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_challenge_free(challenge: *mut FanlicChallenge) {
    let _ = ffi::guard(|| {
        if !challenge.is_null() {
            // SAFETY: made by Box::into_raw in fanlic_challenge_make, and the
            // caller gives it up.
            drop(unsafe { Box::from_raw(challenge) });
        }
        Ok(FanlicStatus::Ok)
    });
}

/// The challenge's token, its SHA-256, when it was made and the license's
/// policy.
///
/// # Safety
/// `challenge` is a live handle (or null), `out` a writable struct (or null).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_challenge_get_info(
    challenge: *const FanlicChallenge,
    out: *mut FanlicChallengeInfo,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the caller's contract.
        let c = unsafe { ffi::by_ref(challenge) }?;
        // SAFETY: the caller's contract.
        let out = unsafe { ffi::by_mut(out) }?;
        let t = c.prepared.token();
        let mut token = [0u8; FANLIC_MAX_TOKEN_LEN];
        token.get_mut(..t.len()).ok_or(FanlicStatus::Panic)?.copy_from_slice(t);
        *out = FanlicChallengeInfo {
            token,
            token_len: t.len(),
            token_sha256: c.prepared.token_sha256(),
            issued_at: c.prepared.issued_at().0,
            policy: match c.policy {
                ActivationPolicy::Code => FANLIC_ACTIVATION_POLICY_CODE,
                ActivationPolicy::Receipt => FANLIC_ACTIVATION_POLICY_RECEIPT,
            },
        };
        Ok(FanlicStatus::Ok)
    })
}

struct Url<'a>(&'a PreparedChallenge, &'a str);

impl fmt::Display for Url<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write_url(self.1, f)
    }
}

/// Writes the activation URL, `base_url || "/" || base64url(token)`
/// (SPEC.md §6.1), into `out`: with the license's activation base URL when
/// `base_url_len` is 0, else with `base_url` (UTF-8; a product's configured
/// override). The length is written to `*len_out` whether or not it fits
/// (`FANLIC_STATUS_BUFFER_TOO_SMALL`); a NUL follows when there is room.
/// `FANLIC_STATUS_BAD_ARGUMENT` when no base URL is given and the license
/// has none.
///
/// # Safety
/// `challenge` is a live handle (or null); `base_url` points to
/// `base_url_len` readable bytes; `out` to `out_cap` writable bytes;
/// `len_out` to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_challenge_write_url(
    challenge: *const FanlicChallenge,
    base_url: *const u8,
    base_url_len: usize,
    out: *mut u8,
    out_cap: usize,
    len_out: *mut usize,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the caller's contract.
        let c = unsafe { ffi::by_ref(challenge) }?;
        // SAFETY: the caller's contract.
        let given = unsafe { ffi::utf8(base_url, base_url_len) }?;
        // SAFETY: the caller's contract.
        let len_out = unsafe { ffi::by_mut(len_out) }?;
        // SAFETY: the caller's contract.
        let out = unsafe { ffi::bytes_mut(out, out_cap) }?;
        let own = c.base_url.get(..c.base_url_len).and_then(|b| core::str::from_utf8(b).ok()).unwrap_or("");
        let base = if given.is_empty() { own } else { given };
        if base.is_empty() {
            return Err(FanlicStatus::BadArgument);
        }
        ffi::write_text(out, len_out, Url(&c.prepared, base))?;
        Ok(FanlicStatus::Ok)
    })
}

/// A new code-entry state machine: not activated, nothing shown. Null only
/// if the library failed (a panic, stopped). Free it with
/// [`fanlic_activation_free`].
#[unsafe(no_mangle)]
pub extern "C" fn fanlic_activation_new() -> *mut FanlicActivation {
    let mut made = ptr::null_mut();
    let _ = ffi::guard(|| {
        made = Box::into_raw(Box::new(FanlicActivation { state: Activation::new() }));
        Ok(FanlicStatus::Ok)
    });
    made
}

/// Frees a state machine; null is ignored.
///
/// # Safety
/// `activation` is null or a handle from [`fanlic_activation_new`] not
/// freed before and not used after.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_activation_free(activation: *mut FanlicActivation) {
    let _ = ffi::guard(|| {
        if !activation.is_null() {
            // SAFETY: made by Box::into_raw in fanlic_activation_new, and the
            // caller gives it up.
            drop(unsafe { Box::from_raw(activation) });
        }
        Ok(FanlicStatus::Ok)
    });
}

/// Shows a new challenge (the first, or a refresh): under code policy it
/// expects the challenge's code; under receipt policy, chosen by the
/// license, only a receipt (`fanlic_activation_accept_receipt`) and every
/// code is refused. A refresh does not reset the wrong-code count.
///
/// # Safety
/// `activation` is a live handle (or null) no other thread uses;
/// `challenge` a live challenge (or null).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_activation_set_challenge(
    activation: *mut FanlicActivation,
    challenge: *const FanlicChallenge,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the caller's contract.
        let a = unsafe { self::activation(activation) }?;
        // SAFETY: the caller's contract.
        let c = unsafe { ffi::by_ref(challenge) }?;
        match c.policy {
            ActivationPolicy::Code => a.set_challenge(&c.prepared),
            ActivationPolicy::Receipt => a.set_receipt_challenge(&c.prepared),
        }
        Ok(FanlicStatus::Ok)
    })
}

/// Checks a code the admin typed (`typed`, UTF-8: six digits, spaces
/// around ignored) at `now` (Unix seconds). `FANLIC_STATUS_OK` when it
/// activates (`out->kind` is `FANLIC_ENTER_ACCEPTED`), `FANLIC_STATUS_INVALID`
/// with the reason in `*out` otherwise. Allocates nothing.
///
/// # Safety
/// `activation` is a live handle (or null) no other thread uses; `typed`
/// points to `typed_len` readable bytes; `out` to a writable struct.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_activation_enter(
    activation: *mut FanlicActivation,
    typed: *const u8,
    typed_len: usize,
    now: u64,
    out: *mut FanlicEnterResult,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the caller's contract.
        let a = unsafe { self::activation(activation) }?;
        // SAFETY: the caller's contract.
        let out = unsafe { ffi::by_mut(out) }?;
        // SAFETY: the caller's contract.
        let typed = unsafe { ffi::utf8(typed, typed_len) }?;
        let mut r = FanlicEnterResult { now, ..FanlicEnterResult::default() };
        let status = match a.enter(typed, Timestamp(now)) {
            Ok(at) => {
                r.kind = FANLIC_ENTER_ACCEPTED;
                r.at = at.0;
                FanlicStatus::Ok
            }
            Err(e) => {
                match e {
                    CodeError::NoChallenge => r.kind = FANLIC_ENTER_NO_CHALLENGE,
                    CodeError::NotSixDigits => r.kind = FANLIC_ENTER_NOT_SIX_DIGITS,
                    CodeError::ChallengeExpired { issued_at, .. } => {
                        r.kind = FANLIC_ENTER_EXPIRED;
                        r.issued_at = issued_at.0;
                    }
                    CodeError::Locked { until, .. } => {
                        r.kind = FANLIC_ENTER_LOCKED;
                        r.until = until.0;
                    }
                    CodeError::WrongCode { remaining } => {
                        r.kind = FANLIC_ENTER_WRONG_CODE;
                        r.remaining = u32::from(remaining);
                    }
                    CodeError::ReceiptRequired => r.kind = FANLIC_ENTER_RECEIPT_REQUIRED,
                    // A reason this library does not know yet: a bug here.
                    _ => return Err(FanlicStatus::Panic),
                }
                FanlicStatus::Invalid
            }
        };
        *out = r;
        Ok(status)
    })
}

/// The verifier's text for a refused code.
fn code_error(r: &FanlicEnterResult) -> Result<CodeError, FanlicStatus> {
    let now = Timestamp(r.now);
    Ok(match r.kind {
        FANLIC_ENTER_NO_CHALLENGE => CodeError::NoChallenge,
        FANLIC_ENTER_NOT_SIX_DIGITS => CodeError::NotSixDigits,
        FANLIC_ENTER_EXPIRED => CodeError::ChallengeExpired { issued_at: Timestamp(r.issued_at), now },
        FANLIC_ENTER_LOCKED => CodeError::Locked { until: Timestamp(r.until), now },
        FANLIC_ENTER_WRONG_CODE => {
            CodeError::WrongCode { remaining: u8::try_from(r.remaining).map_err(|_| FanlicStatus::BadArgument)? }
        }
        FANLIC_ENTER_RECEIPT_REQUIRED => CodeError::ReceiptRequired,
        _ => return Err(FanlicStatus::BadArgument),
    })
}

/// Writes the message for a refused code (`result` from
/// [`fanlic_activation_enter`]) into `out`, its length into `*len_out`
/// (`FANLIC_STATUS_BUFFER_TOO_SMALL` when it does not fit; a NUL follows
/// when there is room). `lang` is `FANLIC_LANG_EN` or `FANLIC_LANG_ZH_CN`;
/// the verifier has English texts only for code entry, so both write
/// English for now. `FANLIC_STATUS_BAD_ARGUMENT` for an accepted code (it
/// has no message) or an unknown kind.
///
/// # Safety
/// `result` points to a valid struct; `out` to `out_cap` writable bytes;
/// `len_out` to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_activation_message(
    result: *const FanlicEnterResult,
    lang: u32,
    out: *mut u8,
    out_cap: usize,
    len_out: *mut usize,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the caller's contract.
        let r = unsafe { ffi::by_ref(result) }?;
        // SAFETY: the caller's contract.
        let len_out = unsafe { ffi::by_mut(len_out) }?;
        // SAFETY: the caller's contract.
        let out = unsafe { ffi::bytes_mut(out, out_cap) }?;
        // Checked so that a product passing Chinese today gets Chinese when
        // the verifier has it, with no change of ABI.
        let _lang = ffi::lang(lang)?;
        ffi::write_text(out, len_out, code_error(r)?)?;
        Ok(FanlicStatus::Ok)
    })
}

/// Where activation stands at `now` (Unix seconds). Allocates nothing.
///
/// # Safety
/// `activation` is a live handle (or null); `out` a writable struct.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_activation_get_status(
    activation: *const FanlicActivation,
    now: u64,
    out: *mut FanlicActivationStatus,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the caller's contract.
        let a = unsafe { ffi::by_ref(activation) }?;
        // SAFETY: the caller's contract.
        let out = unsafe { ffi::by_mut(out) }?;
        let mut s = FanlicActivationStatus::default();
        match a.state.status(Timestamp(now)) {
            Status::NotActivated => s.kind = FANLIC_ACTIVATION_NOT_ACTIVATED,
            Status::AwaitingCode { expires_at } => {
                s.kind = FANLIC_ACTIVATION_AWAITING_CODE;
                s.expires_at = expires_at.0;
            }
            Status::Locked { until } => {
                s.kind = FANLIC_ACTIVATION_LOCKED;
                s.until = until.0;
            }
            Status::Activated { at } => {
                s.kind = FANLIC_ACTIVATION_ACTIVATED;
                s.at = at.0;
            }
            // A status this library does not know yet: a bug here.
            _ => return Err(FanlicStatus::Panic),
        }
        *out = s;
        Ok(FanlicStatus::Ok)
    })
}

/// All nodes restarted: forgets the activation and the challenge shown
/// (the wrong-code count and a lock stay).
///
/// # Safety
/// `activation` is a live handle (or null) no other thread uses.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_activation_restart(activation: *mut FanlicActivation) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the caller's contract.
        unsafe { self::activation(activation) }?.restart();
        Ok(FanlicStatus::Ok)
    })
}

/// Writes the state as `FANLIC_ACTIVATION_STATE_LEN` (64) bytes (SPEC.md
/// §6.2, "Saved state") into `out`; `FANLIC_STATUS_BUFFER_TOO_SMALL` when
/// `out_cap` is less. The bytes hold the expected code: keep them where
/// the product keeps its other secrets.
///
/// # Safety
/// `activation` is a live handle (or null); `out` points to `out_cap`
/// writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_activation_save(
    activation: *const FanlicActivation,
    out: *mut u8,
    out_cap: usize,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the caller's contract.
        let a = unsafe { ffi::by_ref(activation) }?;
        // SAFETY: the caller's contract.
        let out = unsafe { ffi::bytes_mut(out, out_cap) }?;
        let dst = out.get_mut(..STATE_LEN).ok_or(FanlicStatus::BufferTooSmall)?;
        dst.copy_from_slice(&a.state.to_bytes());
        Ok(FanlicStatus::Ok)
    })
}

/// Replaces the handle's state with one saved by [`fanlic_activation_save`].
/// Read strictly: `FANLIC_STATUS_BAD_LENGTH` when `state_len` is not 64,
/// `FANLIC_STATUS_BAD_STATE` for any byte `save` would not have written (an
/// unknown version, a reserved bit, a field its flag says is absent); the
/// handle is unchanged then. A receipt accepted before the save is not
/// accepted again by the restored state.
///
/// # Safety
/// `activation` is a live handle (or null) no other thread uses; `state`
/// points to `state_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_activation_restore(
    activation: *mut FanlicActivation,
    state: *const u8,
    state_len: usize,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the caller's contract.
        let a = unsafe { self::activation(activation) }?;
        // SAFETY: the caller's contract.
        let state = unsafe { ffi::bytes(state, state_len) }?;
        if state.len() != STATE_LEN {
            return Err(FanlicStatus::BadLength);
        }
        *a = Activation::from_bytes(state).map_err(|_| FanlicStatus::BadState)?;
        Ok(FanlicStatus::Ok)
    })
}
